"""Double-publicity records through the outbox (§8.4): queued, delivered once, revocable.

At approval the terminal builds a :class:`~kiosk.outputs.records.PublicityRecord`; :func:`queue_publicity`
puts its publication form (natural persons' ID numbers masked) in the store's job queue as its own
kind, with its own idempotency key (a UUID that is also the record's ``publicity_id`` on the
platform).  The outbox drainer delivers it to ``POST /api/v1/publicity``.  :func:`queue_revocation`
(§8.4.4: a revoked decision stops being published) queues ``POST /api/v1/publicity/{id}/revoke``,
ordered after the publication itself, and returns the withdrawn record for the archive.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from kiosk.cases.outbox import JOB_PUBLICITY, JOB_PUBLICITY_REVOKE
from kiosk.outputs import records
from offline_cache.store import OutboxJob, Store, UnknownRecordError


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def queue_publicity(store: Store, record: records.PublicityRecord, at: dt.datetime) -> str:
    """Queue the record's publication; returns its publicity id (= the job's idempotency key)."""
    publicity_id = str(uuid.uuid4())
    body = {"publicity_id": publicity_id, "record": record.to_dict()}
    store.add_job(publicity_id, JOB_PUBLICITY, _json(body), at.timestamp(), case_id=record.case_id or None)
    return publicity_id


def publicity_job(store: Store, case_id: str) -> OutboxJob | None:
    """The publication queued for a case (None when there is none)."""
    found = store.jobs(kind=JOB_PUBLICITY, case_id=case_id)
    return found[0] if found else None


def record_from_job(job: OutboxJob) -> records.PublicityRecord:
    """The record as it was queued (publication form: a natural person's ID number masked)."""
    d = json.loads(job.payload)["record"]
    return records.PublicityRecord(
        party_name=d["party_name"],
        party_type=records.PartyType(d["party_type"]),
        id_type=records.IdType(d["id_type"]),
        id_number=d["id_number"],
        upload_time=dt.datetime.fromisoformat(d["upload_time"]),
        decision_document_name=d["decision_document_name"],
        decision_document_number=d["decision_document_number"],
        authority=d["authority"],
        permit_category=records.PermitCategory(d["permit_category"]),
        content=d["content"],
        decision_date=dt.date.fromisoformat(d["decision_date"]),
        case_id=d.get("case_id", ""),
    )


def queue_revocation(
    store: Store, case_id: str, reason: str, when: dt.datetime
) -> tuple[str, records.PublicityRecord]:
    """§8.4.4: queue the withdrawal of the case's publication (after the publication itself).

    Returns the revocation's job id and the withdrawn record (for :meth:`records.Ledger.record_revocation`).
    Raises UnknownRecordError when no publication was queued for the case, ValueError without a reason.
    """
    job = publicity_job(store, case_id)
    if job is None or not job.payload:
        raise UnknownRecordError(f"no publicity record queued for case {case_id}")
    withdrawn = records.revoke(record_from_job(job), when, reason)
    job_id = str(uuid.uuid4())
    body = {"publicity_id": job.job_id, "reason": reason, "revoked_at": when.isoformat()}
    store.add_job(
        job_id, JOB_PUBLICITY_REVOKE, _json(body), when.timestamp(), case_id=case_id, after_job=job.job_id
    )
    return job_id, withdrawn
