"""A store written by the schema-2 code (two queues: ``outbox`` for cases, ``jobs`` for the rest)
opens with today's code: every case and job is found in the one outbox, in the state it was in,
with its attempts, errors and acknowledgement, and the audit chain still verifies."""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path

import pytest
import sqlcipher3

from offline_cache.store import SCHEMA_VERSION, OutboxState, StorageBugError, Store

DUMP = Path(__file__).parent / "data" / "store_schema2.sql"


def _plain_v2(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(DUMP.read_text("utf-8"))
    conn.close()


def _encrypted_v2(path: Path, key: bytes) -> None:
    conn = sqlcipher3.connect(str(path))
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.executescript(DUMP.read_text("utf-8"))
    conn.close()


def _check_migrated(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION == 3
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "outbox_entries" in tables and not {"outbox", "jobs"} & tables

    # The four cases, each in the state the old queue had it in.
    sent, retry, dead, new = (
        store.cases.get(c) for c in ("case-sent", "case-retry", "case-dead", "case-new")
    )
    assert sent is not None and (sent.state, sent.attempts, sent.sent_at, sent.ack) == (
        OutboxState.ACKNOWLEDGED,
        1,
        1_700_000_012.0,
        b'{"receipt":"SBX-1"}',
    )
    assert sent.payload == b'{"case_id":"case-sent"}' and sent.item_id == "senior-card"
    assert retry is not None and (retry.state, retry.attempts, retry.last_error) == (
        OutboxState.PENDING,
        1,
        "unavailable: HTTP 503",
    )
    assert dead is not None and (dead.state, dead.last_error) == (
        OutboxState.DEAD,
        "rejected: HTTP 400: unknown item",
    )
    assert new is not None and (new.state, new.attempts) == (OutboxState.PENDING, 0)

    # The jobs, with their kinds, payloads, order and acknowledgements.
    jobs = {e.entry_id: e for e in store.outbox.entries() if not e.is_case}
    assert set(jobs) == {"pub-1", "rev-1", "pub-2", "cert-1"}
    assert jobs["pub-1"].state is OutboxState.ACKNOWLEDGED and store.outbox.ack("pub-1") == b'{"ok":true}'
    assert (jobs["rev-1"].kind, jobs["rev-1"].after, jobs["rev-1"].state) == (
        "publicity_revoke",
        "pub-1",
        OutboxState.PENDING,
    )
    assert jobs["pub-2"].payload == b'{"publicity_id":"pub-2","record":{}}'
    assert jobs["cert-1"].state is OutboxState.DEAD and jobs["cert-1"].case_id == "case-sent"
    assert store.outbox.counts() == {
        OutboxState.PENDING: 4,
        OutboxState.IN_FLIGHT: 0,
        OutboxState.ACKNOWLEDGED: 2,
        OutboxState.DEAD: 2,
    }
    # One queue: what is due comes cases first; the revocation is due (its publication was sent).
    due = store.outbox.due(10, now=2e9)
    assert [e.entry_id for e in due] == ["case-new", "case-retry", "rev-1", "pub-2"]
    assert [d.entry_id for d in store.outbox.dead_letters()] == ["case-dead", "cert-1"]

    # Attachments, packages, lists, meta and the audit trail came through untouched.
    assert [a.attachment_id for a in store.attachments.for_case("case-sent")] == ["att-1", "att-cert"]
    assert store.attachments.get("att-cert").body == b"%PDF-1.7 cert"  # type: ignore[union-attr]
    assert store.packages.active("senior-card").version == "3"  # type: ignore[union-attr]
    assert store.warning_lists.get("dishonest") is not None
    assert store.meta.get("terminal.id") == "T-OLD-1"
    assert store.audit_trail.verify()
    assert store.audit_trail.records()[-1].event == "session_end"
    assert store.pragma("integrity_check") == "ok"
    assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_schema_2_store_opens_with_its_cases_and_jobs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _plain_v2(path)
    with Store(path) as store:
        _check_migrated(store)
        # The migrated queue works: a dead letter is requeued through the one path, and new
        # entries join the same queue.
        store.outbox.requeue("cert-1", 2e9)
        assert store.outbox.get("cert-1").state is OutboxState.PENDING  # type: ignore[union-attr]
        store.cases.add("case-after", "senior-card", b"{}", 2e9)
        assert store.outbox.get("case-after").is_case  # type: ignore[union-attr]
    with Store(path) as store:  # reopening does not migrate again
        assert store.schema_version() == SCHEMA_VERSION
        assert store.cases.get("case-after") is not None


def test_encrypted_schema_2_store_migrates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    key = secrets.token_bytes(32)
    _encrypted_v2(path, key)
    with Store(path, key=key) as store:
        _check_migrated(store)


def test_failed_migration_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    _plain_v2(path)
    conn = sqlite3.connect(path)
    # A job whose id is also a case id cannot become an entry of the one queue: the migration
    # must fail as a whole and leave schema 2 (both queues) in place.
    conn.execute(
        "INSERT INTO jobs (job_id, kind, payload, created_at, state, next_attempt_at) "
        "VALUES ('case-new', 'publicity', x'00', 1, 'pending', 1)"
    )
    conn.commit()
    conn.close()
    with pytest.raises(StorageBugError, match="UNIQUE"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 4
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 5
    conn.close()
