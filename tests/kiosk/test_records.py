"""Publicity record (§8.4), ledger and archive (§8.5) on a real directory."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.cases.crypto import CryptoError
from kiosk.outputs.records import (
    FixityError,
    IdType,
    Ledger,
    LedgerEntry,
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


KEY = bytes(range(32))
ID_NUMBER = "371402195203140022"


def entry_for(pub: PublicityRecord, case_id: str = "DZ-20261123-0007") -> LedgerEntry:
    return ledger_entry_for(
        case_id=case_id,
        terminal_id="DZ-DC-0001",
        item_id="senior-card",
        item_name="老年人优待证申领",
        party_name="张桂兰",
        id_number=ID_NUMBER,
        decision="approve",
        decided_at=NOW,
        certificate_number="LN0001202611230001",
        publicity=pub,
    )


def test_ledger_archive_is_immutable_and_fast(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, key=KEY)
    pub = publicity()
    entry = entry_for(pub)
    assert ID_NUMBER not in repr(entry) and "张" not in repr(entry)
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
    assert body["record"]["publicity"]["decision_document_number"] == "LN0001202611230001"
    assert ledger.publicity_matches(record, pub)
    assert not ledger.publicity_matches(record, replace(pub, party_name="张桂芝"))
    assert canonical_json(json.loads(stored)) == stored
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


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()))


def test_ledger_gives_no_identity_away_without_the_key(tmp_path: Path) -> None:
    """Issue 17: the ledger held an unkeyed SHA-256 of the number next to the full name and the
    masked number, which brute force turns back into the number in under a second."""
    ledger = Ledger(tmp_path, key=KEY)
    pub = publicity()
    record = ledger.record_approval(entry_for(pub), pub, NOW)
    ledger.record_revocation(revoke(pub, NOW, "决定被依法撤销"), NOW)
    raw = _all_bytes(tmp_path)
    text = raw.decode("utf-8", errors="replace")
    assert ID_NUMBER not in text
    assert "张桂兰" not in text and "张*兰" not in text  # neither the name nor the masked name in clear
    assert "3714**********0022" not in text  # no masked number next to a name
    # The attack of the finding: an unkeyed hash of any candidate number is found nowhere.
    for candidate in (ID_NUMBER, ID_NUMBER.lower(), ID_NUMBER[:17] + "X"):
        assert sha256_hex(candidate.encode()).encode() not in raw
        assert hashlib.sha256(candidate.encode()).digest() not in raw
    # With the key, the hall finds the citizen's entries and the applicant in brief.
    assert ledger.find(ID_NUMBER) == [record.archive_id]
    assert ledger.find("110101199003071234") == []
    assert ledger.personal(record.archive_id) == {
        "party_name_masked": "张*兰",
        "id_number_hmac": ledger.id_mac(ID_NUMBER),
    }
    # Another key (another terminal, or a guess) opens nothing and finds nothing.
    other = Ledger(tmp_path, key=bytes(32))
    assert other.find(ID_NUMBER) == []
    with pytest.raises(CryptoError):
        other.personal(record.archive_id)
    assert other.id_mac(ID_NUMBER) != ledger.id_mac(ID_NUMBER)


def test_ledger_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "ledger"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    ledger = Ledger(directory, key=KEY)
    pub = publicity()
    record = ledger.record_approval(entry_for(pub), pub, NOW)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700  # an existing 0755 directory is tightened
    assert stat.S_IMODE((directory / f"{record.archive_id}.json").stat().st_mode) == 0o400
    assert stat.S_IMODE((directory / "ledger.jsonl").stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / f"{record.archive_id}.personal").stat().st_mode) == 0o600
    fresh = Ledger(tmp_path / "new" / "ledger", key=KEY)
    assert stat.S_IMODE(fresh.directory.stat().st_mode) == 0o700
    with pytest.raises(ValueError):
        Ledger(tmp_path / "weak", key=b"short")


def test_swapped_personal_file_is_refused(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, key=KEY)
    pub = publicity()
    a = ledger.record_approval(entry_for(pub, "C-1"), pub, NOW)
    b = ledger.record_approval(entry_for(replace(pub, case_id="C-2"), "C-2"), pub, NOW)
    side_a, side_b = (tmp_path / f"{r.archive_id}.personal" for r in (a, b))
    side_b.write_bytes(side_a.read_bytes())
    with pytest.raises(CryptoError):  # sealed with the other archive id as associated data
        ledger.personal(b.archive_id)


def test_wipe_personal_keeps_the_chain(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path, key=KEY)
    pub = publicity()
    old = ledger.record_approval(entry_for(pub, "C-OLD"), pub, NOW - dt.timedelta(days=40))
    new = ledger.record_approval(entry_for(replace(pub, case_id="C-NEW"), "C-NEW"), pub, NOW)
    cutoff = (NOW - dt.timedelta(days=30)).timestamp()
    assert ledger.wipe_personal(cutoff) == [old.archive_id]
    assert ledger.personal(old.archive_id) is None
    assert ledger.personal(new.archive_id) is not None
    assert ledger.find(ID_NUMBER) == [new.archive_id]
    assert ledger.verify() == 2  # the records and the chain are untouched
    assert ledger.wipe_personal(cutoff) == []
