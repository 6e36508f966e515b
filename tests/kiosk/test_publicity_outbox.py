"""Publicity records (§8.4) through the outbox to a real sandbox platform: queued, published once,
revoked (§8.4.4) after the publication, gone from the platform's listing."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.outbox import JOB_PUBLICITY, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformRejected
from kiosk.outputs import records
from kiosk.outputs.publicity import publicity_job, queue_publicity, queue_revocation
from offline_cache.store import OutboxState, Store, UnknownRecordError
from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _record(case_id: str, id_number: str = "371402195203140022") -> records.PublicityRecord:
    return records.PublicityRecord(
        party_name="张桂兰",
        party_type=records.PartyType.NATURAL_PERSON,
        id_type=records.IdType.RESIDENT_ID,
        id_number=id_number,
        upload_time=NOW,
        decision_document_name="老年人优待证",
        decision_document_number="YDZ-T1-20261123-0001",
        authority="德州市德城区民政局",
        permit_category=records.PermitCategory.OTHER,
        content="老年人优待证申领：准予办理",
        decision_date=NOW.date(),
        case_id=case_id,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path) as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    c = PlatformClient(server.url, "PUB1", timeout=2.0, signing_key=Ed25519PrivateKey.generate())
    c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
    yield c
    c.close()


def _drainer(store: Store, client: PlatformClient, now: list[float]) -> OutboxDrainer:
    return OutboxDrainer(
        store, client, lambda: now[0], backoff=Backoff(base_s=10, max_s=60, jitter=0.0), rng=random.Random(1)
    )


def test_publicity_record_is_published_once_with_the_id_number_masked(
    store: Store, client: PlatformClient
) -> None:
    case_id = str(uuid.uuid4())
    publicity_id = queue_publicity(store, _record(case_id), NOW)
    now = [NOW.timestamp()]
    report = _drainer(store, client, now).drain_once()
    assert report.sent == 1 and report.dead == 0
    job = store.outbox.get(publicity_id)
    assert job is not None and job.state is OutboxState.ACKNOWLEDGED and job.kind == JOB_PUBLICITY
    published = client.published_records()
    assert [p["publicity_id"] for p in published] == [publicity_id]
    rec = published[0]["record"]
    assert rec["id_number"] == "3714**********0022"
    assert rec["party_name"] == "张桂兰" and rec["case_id"] == case_id
    assert rec["decision_document_number"] == "YDZ-T1-20261123-0001"
    # The same key again (an answer lost after processing) is a replay, not a second record.
    again = client.post_publicity(publicity_id, job.payload)
    assert json.loads(again)["publicity_id"] == publicity_id
    assert len(client.published_records()) == 1
    # The same key with another body is refused.
    other = json.loads(job.payload)
    other["record"]["content"] = "something else"
    with pytest.raises(PlatformRejected) as info:
        client.post_publicity(publicity_id, json.dumps(other).encode())
    assert info.value.status == 422


def test_lost_answer_is_replayed_not_duplicated(
    store: Store, client: PlatformClient, server: SandboxServer
) -> None:
    publicity_id = queue_publicity(store, _record(str(uuid.uuid4())), NOW)
    now = [NOW.timestamp()]
    drainer = _drainer(store, client, now)
    client.sandbox.set_faults(drop_after_processing=True)
    assert drainer.drain_once().retried == 1
    client.sandbox.set_faults()
    now[0] += 3600
    assert drainer.drain_once().sent == 1
    assert [p["publicity_id"] for p in client.published_records()] == [publicity_id]


def test_revocation_goes_after_the_publication_and_stops_it(store: Store, client: PlatformClient) -> None:
    keep = queue_publicity(store, _record(str(uuid.uuid4())), NOW)
    case_id = str(uuid.uuid4())
    revoked_id = queue_publicity(store, _record(case_id), NOW)
    now = [NOW.timestamp()]
    drainer = _drainer(store, client, now)
    client.sandbox.set_faults(down=True)
    assert drainer.drain_once().retried == 1
    revocation, withdrawn = queue_revocation(store, case_id, "许可决定被依法撤销", NOW)
    assert not withdrawn.published and withdrawn.revocation_reason == "许可决定被依法撤销"
    now[0] += 3600
    # Not before its publication was sent: only publications are due.
    assert {j.job_id for j in store.outbox.due(10, now[0], cases=False)} == {keep, revoked_id}
    client.sandbox.set_faults()
    for _ in range(3):
        drainer.drain_once()
    assert store.outbox.counts(cases=False)[OutboxState.ACKNOWLEDGED] == 3
    assert store.outbox.get(revocation) is not None
    assert [p["publicity_id"] for p in client.published_records()] == [keep]
    assert publicity_job(store, case_id) is not None
    with pytest.raises(UnknownRecordError):
        queue_revocation(store, str(uuid.uuid4()), "no such case", NOW)


def test_unmasked_id_number_is_refused_and_dead_lettered(store: Store, client: PlatformClient) -> None:
    record = _record(str(uuid.uuid4()))
    body = {"publicity_id": str(uuid.uuid4()), "record": {**record.to_dict(), "id_number": record.id_number}}
    job_id = body["publicity_id"]
    store.outbox.add(job_id, JOB_PUBLICITY, json.dumps(body).encode(), NOW.timestamp())
    report = _drainer(store, client, [NOW.timestamp()]).drain_once()
    assert report.dead == 1
    job = store.outbox.get(job_id)
    assert job is not None and job.state is OutboxState.DEAD and "422" in (job.last_error or "")
    assert client.published_records() == []
    # Maintenance can put it back in the queue.
    store.outbox.requeue(job_id, NOW.timestamp())
    assert [j.job_id for j in store.outbox.due(10, NOW.timestamp(), cases=False)] == [job_id]
