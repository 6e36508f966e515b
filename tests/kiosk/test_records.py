"""Publicity record (§8.4), ledger and archive (§8.5) on a real directory."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest

from kiosk.outputs.records import (
    FixityError,
    IdType,
    Ledger,
    PartyType,
    PermitCategory,
    PublicityRecord,
    canonical_json,
    ledger_entry_for,
    publication_deadline,
    revoke,
    sha256_hex,
)

NOW = dt.datetime(2026, 11, 23, 10, 15, 0)  # a Monday


def publicity() -> PublicityRecord:
    return PublicityRecord(
        party_name="张桂兰",
        party_type=PartyType.NATURAL_PERSON,
        id_type=IdType.RESIDENT_ID,
        id_number="371402195203140022",
        upload_time=NOW,
        decision_document_name="老年人优待证",
        decision_document_number="LN0001202611230001",
        authority="德州市德城区民政局",
        permit_category=PermitCategory.OTHER,
        content="准予发放老年人优待证",
        decision_date=NOW.date(),
        case_id="DZ-20261123-0007",
    )


def test_publicity_has_every_field_of_8_4_2() -> None:
    data = json.loads(publicity().to_json())
    for key in (
        "party_name",
        "party_type",
        "id_type",
        "id_number",
        "upload_time",
        "decision_document_name",
        "decision_document_number",
        "authority",
        "permit_category",
        "content",
        "decision_date",
    ):
        assert data[key], key
    assert data["id_number"] == "3714**********0022"  # natural person: masked when published
    assert data["published"] is True
    assert data["publish_by"] == "2026-12-02"  # 7 working days after Monday 23 Nov
    assert "371402195203140022" not in repr(publicity())


def test_publication_deadline_skips_weekends() -> None:
    assert publication_deadline(dt.date(2026, 11, 27)) == dt.date(2026, 12, 8)  # Friday -> Tuesday+1 week


def test_revocation_stops_publication() -> None:
    revoked = revoke(publicity(), NOW + dt.timedelta(days=3), "决定被依法撤销")
    data = json.loads(revoked.to_json())
    assert data["published"] is False and data["revocation_reason"] == "决定被依法撤销"
    assert publicity().published  # the original value is unchanged (frozen)
    with pytest.raises(ValueError):
        revoke(publicity(), NOW, " ")
    with pytest.raises(ValueError):
        PublicityRecord(**{**publicity().__dict__, "published": False})


def test_ledger_archive_is_immutable_and_fast(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    pub = publicity()
    entry = ledger_entry_for(
        case_id="DZ-20261123-0007",
        terminal_id="DZ-DC-0001",
        item_id="senior-card",
        item_name="老年人优待证申领",
        party_name="张桂兰",
        id_number="371402195203140022",
        decision="approve",
        decided_at=NOW,
        certificate_number="LN0001202611230001",
        publicity=pub,
    )
    started = time.perf_counter()
    record = ledger.record_approval(entry, pub, NOW)
    wall = time.perf_counter() - started
    assert wall < 20 and record.elapsed_ms < 20_000  # §8.5.2
    path = tmp_path / f"{record.archive_id}.json"
    stored = path.read_bytes()
    assert stored == record.content and sha256_hex(stored) == record.fixity and record.verify()
    body = json.loads(stored)
    assert body["record"]["ledger_entry"]["decided_at"] == NOW.isoformat()
    assert body["record"]["ledger_entry"]["publicity_upload_time"] == NOW.isoformat()
    assert "371402195203140022" not in stored.decode("utf-8")  # no ID number in clear
    assert "张桂兰" in stored.decode("utf-8")  # publicity names the party, as published
    assert canonical_json(json.loads(stored)) == stored
    assert oct(path.stat().st_mode & 0o777) == oct(0o444)
    with pytest.raises(FileExistsError):
        ledger.record_approval(entry, pub, NOW)
    revoked = ledger.record_revocation(revoke(pub, NOW, "决定被依法撤销"), NOW)
    assert revoked.previous == record.fixity
    assert ledger.verify() == 2
    # Tampering is detected.
    os.chmod(path, 0o644)
    path.write_bytes(stored.replace("准予".encode(), "不予".encode()))
    with pytest.raises(FixityError):
        ledger.verify()
