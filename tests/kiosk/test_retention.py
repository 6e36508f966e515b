"""Retention: personal data of acknowledged cases is wiped after the configured period, on a real
encrypted store; pending cases, the outbox state, jobs and the audit chain stay."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from kiosk.cases.retention import DAY_S, RetentionWiper, residue
from kiosk.config import RetentionConfig, TerminalConfig
from offline_cache.store import NewAttachment, OutboxState, Store

NAME = "李建国"
ID_NUMBER = "37140219880721003X"


def _payload(case_id: str) -> bytes:
    return json.dumps(
        {
            "case_id": case_id,
            "terminal_id": "T1",
            "item": {"id": "business-registration", "version": "3", "sha256": "ab" * 32},
            "submitted_at": "2026-11-23T10:00:00+08:00",
            "applicant": {"name": NAME, "id_number": ID_NUMBER, "address": "山东省德州市德城区东风中路88号"},
            "form": {"phone": "13905340000", "business_name": "德城区建国便利店"},
            "materials": [
                {
                    "type": "lease",
                    "fields": {"lessee": {"value": NAME, "confidence": 0.99}},
                    "image_sha256": "cd" * 32,
                    "image_attachment": "a-1",
                }
            ],
            "decision": {
                "outcome": "manual",
                "reasons": ["dishonest_person"],
                "package": {"id": "business-registration", "version": "3"},
                "inputs_sha256": "ef" * 32,
                "trace": {"inputs": {"name": NAME}},
            },
        },
        ensure_ascii=False,
    ).encode("utf-8")


def _add(store: Store, at: float) -> str:
    """A case whose page image went to the platform with it."""
    case_id = str(uuid.uuid4())
    page = NewAttachment(
        str(uuid.uuid4()), "material:lease", "image/jpeg", b"\xff\xd8 page of " + NAME.encode()
    )
    store.cases.add(case_id, "business-registration", _payload(case_id), at, attachments=[page])
    return case_id


def test_only_acknowledged_cases_past_the_period_are_wiped(store: Store) -> None:
    t0 = 1_800_000_000.0
    old, recent, pending = _add(store, t0), _add(store, t0), _add(store, t0)
    store.outbox.acknowledge(old, b'{"platform_ref":"SBX1"}', t0)
    for a in store.attachments.for_case(old):
        store.attachments.mark_uploaded(a.attachment_id, t0)
    store.outbox.acknowledge(recent, b'{"platform_ref":"SBX2"}', t0 + 2 * DAY_S)
    now = [t0 + 2.5 * DAY_S]
    wiper = RetentionWiper(store, retention_days=1.0, clock=lambda: now[0])
    assert wiper.run_once() == [old]
    assert wiper.run_once() == []  # once
    wiped = store.cases.get(old)
    assert wiped is not None and wiped.state is OutboxState.SENT and wiped.ack == b'{"platform_ref":"SBX1"}'
    for secret in (NAME, ID_NUMBER, "13905340000", "东风中路"):
        assert secret.encode() not in wiped.payload
    kept = json.loads(wiped.payload)
    assert kept["case_id"] == old and kept["personal_data_wiped"] is True
    assert kept["decision"] == {
        "outcome": "manual",
        "reasons": ["dishonest_person"],
        "package": {"id": "business-registration", "version": "3"},
        "inputs_sha256": "ef" * 32,
    }
    assert kept["materials"] == [{"type": "lease", "image_sha256": "cd" * 32, "image_attachment": "a-1"}]
    [attachment] = store.attachments.for_case(old)
    assert attachment.body is None and attachment.sha256  # the fixity hash stays
    assert store.cases.wiped_at(old) == now[0]
    for untouched in (recent, pending):
        case = store.cases.get(untouched)
        assert case is not None and NAME.encode() in case.payload
        assert store.attachments.for_case(untouched)[0].body is not None
    assert any(r.event == "case.personal_data_wiped" for r in store.audit_trail.records())
    assert store.audit_trail.verify()
    # Later the recent one is due too; the pending one never while it is not acknowledged.
    now[0] = t0 + 10 * DAY_S
    assert wiper.run_once() == [recent]


def test_background_wipe_runs_at_start_and_on_schedule(store: Store) -> None:
    first = _add(store, time.time())
    store.outbox.acknowledge(first, b"{}", time.time())
    wiper = RetentionWiper(store, retention_days=0.2 / DAY_S)  # 0.2 s
    time.sleep(0.3)
    wiper.start(interval_s=0.1)
    try:
        deadline = time.monotonic() + 5
        while store.cases.wiped_at(first) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.cases.wiped_at(first) is not None  # at start
        second = _add(store, time.time())
        store.outbox.acknowledge(second, b"{}", time.time())
        assert store.cases.wiped_at(second) is None
        deadline = time.monotonic() + 5
        while store.cases.wiped_at(second) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.cases.wiped_at(second) is not None  # on schedule, after its 0.2 s
    finally:
        wiper.stop()


def test_residue_of_an_unreadable_body_keeps_only_the_id() -> None:
    assert json.loads(residue("c1", b"\x00not json")) == {"case_id": "c1", "personal_data_wiped": True}


def test_retention_is_configured(store: Store) -> None:
    assert TerminalConfig().retention.personal_data_days == 30
    with pytest.raises(ValueError):
        RetentionConfig(personal_data_days=0)
    with pytest.raises(ValueError):
        RetentionWiper(store, retention_days=0)


def test_a_late_attachment_waiting_for_upload_is_wiped_once_uploaded(store: Store) -> None:
    t0 = 1_800_000_000.0
    case_id = _add(store, t0)
    store.outbox.acknowledge(case_id, b"{}", t0)
    for a in store.attachments.for_case(case_id):
        store.attachments.mark_uploaded(a.attachment_id, t0)
    cert = NewAttachment(str(uuid.uuid4()), "certificate", "application/pdf", b"%PDF " + NAME.encode())
    store.outbox.add(str(uuid.uuid4()), "attachment", b"{}", t0, case_id=case_id, attachment=cert)
    now = [t0 + 2 * DAY_S]
    wiper = RetentionWiper(store, retention_days=1.0, clock=lambda: now[0])
    assert wiper.run_once() == [case_id]
    bodies = {a.name: a.body for a in store.attachments.for_case(case_id)}
    assert bodies["material:lease"] is None
    assert bodies["certificate"] is not None  # still to be uploaded: kept for now
    store.attachments.mark_uploaded(cert.attachment_id, now[0])
    assert wiper.run_once() == []
    assert all(a.body is None for a in store.attachments.for_case(case_id))


def test_ledger_personal_data_is_wiped_after_the_period(store: Store, tmp_path: Path) -> None:
    """Issue 17: the ledger was outside the retention wipe."""
    import datetime as dt

    from kiosk.outputs.records import Ledger, ledger_entry_for

    ledger = Ledger(tmp_path / "ledger", key=bytes(range(32)))
    start = time.time()
    decided = dt.datetime.fromtimestamp(start).astimezone()
    entry = ledger_entry_for(
        case_id="C-1",
        terminal_id="T1",
        item_id="business-registration",
        item_name="个体工商户登记",
        party_name=NAME,
        id_number=ID_NUMBER,
        decision="approve",
        decided_at=decided,
    )
    record = ledger.record_approval(entry, None, decided)
    now = [start + 0.5 * DAY_S]
    wiper = RetentionWiper(store, retention_days=1.0, clock=lambda: now[0], ledger=ledger)
    wiper.run_once()
    assert ledger.find(ID_NUMBER) == [record.archive_id]  # within the period: kept
    now[0] = start + 1.5 * DAY_S
    wiper.run_once()
    assert ledger.find(ID_NUMBER) == [] and ledger.personal(record.archive_id) is None
    assert not list((tmp_path / "ledger").glob("*.personal"))
    assert ledger.verify() == 1
