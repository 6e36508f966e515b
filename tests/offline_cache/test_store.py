"""The local store on real SQLite files in tmp_path."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_cache.store import (
    SCHEMA_VERSION,
    DuplicateCaseError,
    EnvironmentFault,
    OutboxState,
    StorageBugError,
    StorageEnvironmentError,
    StorageError,
    Store,
    UnknownRecordError,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kiosk.sqlite3", clock=lambda: 1000.0, busy_timeout_s=0.2)
    yield s
    s.close()


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


# ------------------------------------------------------------------ setup and schema


def test_pragmas_and_schema_version(store: Store) -> None:
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL
    assert store.pragma("foreign_keys") == 1
    assert store.schema_version() == SCHEMA_VERSION == 3
    conn = raw(store.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {
        "packages",
        "active_packages",
        "warning_lists",
        "cases",
        "outbox_entries",
        "audit",
        "meta",
    } <= tables


def test_reopen_keeps_data_and_does_not_remigrate(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    with Store(path) as s:
        s.meta.set("terminal.token", "abc")
    with Store(path) as s:
        assert s.meta.get("terminal.token") == "abc"
        assert s.schema_version() == SCHEMA_VERSION


def test_newer_schema_is_refused_as_environment_fault(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    Store(path).close()
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StorageEnvironmentError) as info:
        Store(path)
    assert info.value.fault is EnvironmentFault.SCHEMA_TOO_NEW


def test_not_a_database_is_environment_fault(tmp_path: Path) -> None:
    path = tmp_path / "k.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageEnvironmentError) as info:
        Store(path)
    assert info.value.fault is EnvironmentFault.CORRUPT


# ------------------------------------------------------------------ packages and lists


def test_packages_keep_history_and_activate_atomically(store: Store) -> None:
    body1, body2 = b'{"id":"x","version":"1"}', b'{"id":"x","version":"2"}'
    store.packages.put("x", "1", hashlib.sha256(body1).hexdigest(), body1)
    assert store.packages.active("x") is None
    store.packages.activate("x", "1")
    store.packages.put("x", "2", hashlib.sha256(body2).hexdigest(), body2)
    active = store.packages.active("x")
    assert active is not None and active.version == "1" and active.body == body1
    store.packages.activate("x", "2")
    active = store.packages.active("x")
    assert active is not None and active.version == "2" and active.body == body2
    assert store.packages.versions("x") == ["1", "2"]
    assert [p.item_id for p in store.packages.active_all()] == ["x"]
    with pytest.raises(UnknownRecordError):
        store.packages.activate("x", "3")
    assert store.packages.active("x").version == "2"  # type: ignore[union-attr]


def test_warning_list_replaced(store: Store) -> None:
    assert store.warning_lists.get("dishonest") is None
    store.warning_lists.put("dishonest", "1", "aa", b"[1]", fetched_at=5.0)
    store.warning_lists.put("dishonest", "2", "bb", b"[2]", fetched_at=6.0)
    got = store.warning_lists.get("dishonest")
    assert got is not None and (got.version, got.body, got.fetched_at) == ("2", b"[2]", 6.0)


# ------------------------------------------------------------------ cases and outbox


def test_add_case_writes_case_and_outbox_together(store: Store) -> None:
    store.cases.add("c1", "senior-card", b"\x00payload", created_at=100.0)
    case = store.cases.get("c1")
    assert case is not None
    assert (case.item_id, case.payload, case.state, case.attempts) == (
        "senior-card",
        b"\x00payload",
        OutboxState.PENDING,
        0,
    )
    assert [e.case_id for e in store.outbox.due(10, now=100.0, cases=True)] == ["c1"]
    assert store.outbox.due(10, now=99.0, cases=True) == []
    assert store.outbox.counts(cases=True) == {
        OutboxState.PENDING: 1,
        OutboxState.IN_FLIGHT: 0,
        OutboxState.ACKNOWLEDGED: 0,
        OutboxState.DEAD: 0,
    }
    with pytest.raises(DuplicateCaseError):
        store.cases.add("c1", "senior-card", b"other", created_at=101.0)
    assert store.cases.get("c1").payload == b"\x00payload"  # type: ignore[union-attr]


def test_add_case_is_atomic_when_the_outbox_insert_fails(store: Store) -> None:
    # Make the second statement of the transaction (the outbox insert) fail for real.
    conn = raw(store.path)
    conn.execute(
        "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox_entries BEGIN SELECT RAISE(ABORT, 'outbox broken'); END"
    )
    conn.close()
    with pytest.raises(StorageBugError, match="outbox broken"):
        store.cases.add("c1", "senior-card", b"p", created_at=1.0)
    assert store.cases.get("c1") is None
    conn = raw(store.path)
    assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 0
    conn.close()
    assert store.audit_trail.verify()


def test_outbox_transitions(store: Store) -> None:
    for i, t in enumerate((10.0, 11.0, 12.0)):
        store.cases.add(f"c{i}", "x", b"p", created_at=t)
    store.outbox.retry("c0", "HTTP 500", next_attempt_at=50.0)
    due = store.outbox.due(10, now=20.0)
    assert [e.case_id for e in due] == ["c1", "c2"]
    assert [e.case_id for e in store.outbox.due(1, now=20.0)] == ["c1"]
    assert [e.case_id for e in store.outbox.due(10, now=60.0)] == ["c1", "c2", "c0"]
    store.outbox.acknowledge("c1", b'{"ack":1}', at=21.0)
    store.outbox.dead_letter("c2", "HTTP 400")
    c0, c1, c2 = store.cases.get("c0"), store.cases.get("c1"), store.cases.get("c2")
    assert c0 is not None and (c0.state, c0.attempts, c0.last_error) == (OutboxState.PENDING, 1, "HTTP 500")
    assert c1 is not None and (c1.state, c1.ack, c1.sent_at) == (OutboxState.ACKNOWLEDGED, b'{"ack":1}', 21.0)
    assert c2 is not None and (c2.state, c2.last_error) == (OutboxState.DEAD, "HTTP 400")
    assert store.outbox.counts(cases=True) == {
        OutboxState.PENDING: 1,
        OutboxState.IN_FLIGHT: 0,
        OutboxState.ACKNOWLEDGED: 1,
        OutboxState.DEAD: 1,
    }
    assert [e.case_id for e in store.outbox.due(10, now=1e9)] == ["c0"]
    assert store.outbox.next_due_at(cases=True) == 50.0
    store.outbox.requeue("c2", now=70.0)
    assert [e.case_id for e in store.outbox.due(10, now=1e9)] == ["c0", "c2"]
    with pytest.raises(UnknownRecordError):
        store.outbox.acknowledge("nope", b"", at=1.0)


def test_foreign_keys_enforced(store: Store) -> None:
    with pytest.raises(StorageBugError, match="FOREIGN KEY"), store._database.write() as db:
        db.execute(
            "INSERT INTO outbox_entries (entry_id, kind, case_id, payload, created_at, state, next_attempt_at, "
            "after_entry) VALUES ('j', 'publicity', NULL, x'00', 0, 'pending', 0, 'ghost')"
        )


# ------------------------------------------------------------------ audit


def test_audit_chain_verifies_and_detects_edits(store: Store) -> None:
    store.audit_trail.append("session.started", {"step": "idcard"})
    store.cases.add("c1", "x", b"p", created_at=2.0)
    store.audit_trail.append("session.ended", {"result": "ok", "n": 3})
    records = store.audit_trail.records()
    assert [r.event for r in records] == ["session.started", "case.queued", "session.ended"]
    assert records[0].prev_hash == "0" * 64
    assert all(records[i].prev_hash == records[i - 1].hash for i in range(1, 3))
    assert store.audit_trail.verify()

    conn = raw(store.path)
    conn.execute("""UPDATE audit SET details = '{"result":"forged","n":3}' WHERE seq = 3""")
    conn.close()
    assert not store.audit_trail.verify()


def test_audit_detects_deleted_tail_and_middle_rows(tmp_path: Path) -> None:
    for victim in ("seq = 2", "seq = 3"):
        path = tmp_path / f"{victim[-1]}.sqlite3"
        with Store(path) as s:
            for i in range(3):
                s.audit_trail.append("e", {"i": i})
            assert s.audit_trail.verify()
            conn = raw(path)
            conn.execute(f"DELETE FROM audit WHERE {victim}")
            conn.close()
            assert not s.audit_trail.verify()


def test_audit_detects_rehashed_row_without_chain(store: Store) -> None:
    # Editing a row and recomputing its own hash breaks the link to the next row.
    from offline_cache.store import audit_hash

    store.audit_trail.append("a", {"v": 1})
    store.audit_trail.append("b", {"v": 2})
    conn = raw(store.path)
    seq, at, event, _details, prev = conn.execute(
        "SELECT seq, at, event, details, prev_hash FROM audit WHERE seq = 1"
    ).fetchone()
    forged = '{"v":9}'
    conn.execute(
        "UPDATE audit SET details = ?, hash = ? WHERE seq = 1",
        (forged, audit_hash(prev, seq, at, event, forged)),
    )
    conn.close()
    assert not store.audit_trail.verify()


# ------------------------------------------------------------------ environment faults


def test_disk_full_is_environment_error(store: Store) -> None:
    conn = store.db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StorageEnvironmentError) as info:
        for i in range(50):
            store.cases.add(f"c{i}", "x", b"z" * 20_000, created_at=float(i))
    assert info.value.fault is EnvironmentFault.DISK_FULL
    assert "full" in str(info.value)
    assert isinstance(info.value, StorageError)


def test_read_only_is_environment_error(store: Store) -> None:
    store.db.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageEnvironmentError) as info:
        store.meta.set("k", "v")
    assert info.value.fault is EnvironmentFault.READ_ONLY
    assert "read-only" in str(info.value)


def test_locked_by_another_process_is_environment_error(store: Store) -> None:
    other = raw(store.path)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageEnvironmentError) as info:
            store.cases.add("c1", "x", b"p", created_at=1.0)
        assert info.value.fault is EnvironmentFault.LOCKED
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.cases.add("c1", "x", b"p", created_at=1.0)  # works again once the lock is gone
    assert store.cases.get("c1") is not None


def test_sql_mistake_is_a_bug(store: Store) -> None:
    with pytest.raises(StorageBugError), store._database.read() as db:
        db.execute("SELECT * FROM no_such_table")


def test_store_shared_between_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(20):
                store.cases.add(f"t{n}-{i}", "x", b"p", created_at=float(i))
                store.audit_trail.append("tick", {"n": n, "i": i})
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.outbox.counts(cases=True)[OutboxState.PENDING] == 80
    assert store.audit_trail.verify()
