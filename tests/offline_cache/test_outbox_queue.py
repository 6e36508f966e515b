"""The one outbox: one state machine for cases and every other job, and an acknowledgement that
wakes its waiter instead of being polled for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_cache.store import (
    TRANSITIONS,
    InvalidTransitionError,
    NewAttachment,
    OutboxState,
    Store,
    UnknownRecordError,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "kiosk.sqlite3", clock=lambda: 1000.0) as s:
        yield s


def test_cases_and_jobs_share_one_queue_cases_first(store: Store) -> None:
    store.outbox.add("pub", "publicity", b"{}", 5.0, case_id="c1")
    store.cases.add("c1", "senior-card", b"body", 10.0)
    store.outbox.add("rev", "publicity_revoke", b"{}", 6.0, case_id="c1", after="pub")
    due = store.outbox.due(10, now=100.0)
    assert [(e.entry_id, e.kind) for e in due] == [("c1", "case"), ("pub", "publicity")]
    assert due[0].payload == b"body" and due[0].item_id == "senior-card" and due[0].is_case
    assert [e.entry_id for e in store.outbox.due(10, 100.0, cases=False)] == ["pub"]
    # The revocation becomes due once its publication is acknowledged.
    store.outbox.acknowledge("pub", b"ok", 101.0)
    assert [e.entry_id for e in store.outbox.due(10, 200.0)] == ["c1", "rev"]
    with pytest.raises(ValueError):
        store.outbox.add("x", "case", b"", 1.0)


def test_claim_release_and_recovery_after_a_crash(store: Store) -> None:
    for i in range(3):
        store.cases.add(f"c{i}", "x", b"p", float(i))
    claimed = store.outbox.claim(2, now=10.0)
    assert [e.entry_id for e in claimed] == ["c0", "c1"]
    assert all(e.state is OutboxState.IN_FLIGHT for e in claimed)
    assert store.outbox.counts()[OutboxState.IN_FLIGHT] == 2
    assert [e.entry_id for e in store.outbox.claim(5, now=10.0)] == ["c2"]  # claimed ones are not due
    store.outbox.release(["c2"])  # claimed but not tried: no attempt counted
    assert store.outbox.get("c2").attempts == 0  # type: ignore[union-attr]
    # The process dies with c0 and c1 in flight; at restart they go back to pending.
    assert store.outbox.recover_in_flight() == 2
    assert store.outbox.counts() == {
        OutboxState.PENDING: 3,
        OutboxState.IN_FLIGHT: 0,
        OutboxState.ACKNOWLEDGED: 0,
        OutboxState.DEAD: 0,
    }


def test_one_state_machine_refuses_transitions_it_does_not_have(store: Store) -> None:
    store.cases.add("c1", "x", b"p", 1.0)
    store.outbox.add("j1", "publicity", b"{}", 1.0)
    for entry_id in ("c1", "j1"):  # the same rules for a case and for a job
        with pytest.raises(InvalidTransitionError):
            store.outbox.requeue(entry_id, 2.0)  # only a dead letter is requeued
        store.outbox.claim(10, 5.0)
        store.outbox.acknowledge(entry_id, b"ack", 3.0)
        with pytest.raises(InvalidTransitionError):
            store.outbox.retry(entry_id, "late", 9.0)
        with pytest.raises(InvalidTransitionError):
            store.outbox.dead_letter(entry_id, "late")
        with pytest.raises(InvalidTransitionError):
            store.outbox.requeue(entry_id, 9.0)
        assert store.outbox.get(entry_id).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
    with pytest.raises(UnknownRecordError):
        store.outbox.retry("ghost", "x", 1.0)
    # Every state is reached by some transition, and only a dead letter leads back by requeue.
    assert {target for _, target in TRANSITIONS.values()} == set(OutboxState)
    events = [r.event for r in store.audit_trail.records()]
    assert events == ["case.queued", "job.queued", "case.uploaded", "job.sent"]


def test_dead_letter_and_requeue_for_every_kind(store: Store) -> None:
    store.cases.add("c1", "senior-card", b"p", 1.0)
    cert = NewAttachment("a1", "certificate", "application/pdf", b"%PDF")
    store.outbox.add("j1", "attachment", b'{"attachment_id":"a1"}', 2.0, case_id="c1", attachment=cert)
    store.outbox.dead_letter("c1", "rejected: HTTP 400")
    store.outbox.dead_letter("j1", "conflict: HTTP 409")
    dead = store.outbox.dead_letters()
    assert [(d.entry_id, d.kind, d.item_id) for d in dead] == [
        ("c1", "case", "senior-card"),
        ("j1", "attachment", None),
    ]
    for d in dead:
        store.outbox.requeue(d.entry_id, 50.0)
    assert [e.entry_id for e in store.outbox.due(10, 50.0)] == ["c1", "j1"]
    events = [r.event for r in store.audit_trail.records()]
    assert events[-4:] == ["case.dead_lettered", "job.dead_lettered", "case.requeued", "job.requeued"]


def test_wait_acknowledged_returns_at_once_when_the_ack_came_first(store: Store) -> None:
    store.cases.add("c1", "x", b"p", 1.0)
    store.outbox.acknowledge("c1", b"ack", 2.0)
    started = time.monotonic()
    assert store.outbox.wait_acknowledged("c1", timeout_s=30.0)
    assert time.monotonic() - started < 1.0


def test_wait_acknowledged_is_woken_by_the_commit_not_by_polling(store: Store) -> None:
    store.cases.add("c1", "x", b"p", 1.0)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(store.outbox.wait_acknowledged("c1", 30.0)))
    waiter.start()
    time.sleep(0.6)  # a 50 ms poll would have read the store about 12 times by now
    reads_while_waiting = [s for s in statements if "FROM outbox_entries" in s]
    assert len(reads_while_waiting) == 1, reads_while_waiting
    acked_at = time.monotonic()
    store.outbox.acknowledge("c1", b"ack", 2.0)
    waiter.join(10.0)
    assert result == [True]
    assert time.monotonic() - acked_at < 5.0


def test_wait_acknowledged_gives_up_on_a_dead_letter_and_on_timeout(store: Store) -> None:
    store.cases.add("c1", "x", b"p", 1.0)
    store.cases.add("c2", "x", b"p", 1.0)
    result: list[bool] = []
    waiter = threading.Thread(target=lambda: result.append(store.outbox.wait_acknowledged("c1", 30.0)))
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    store.outbox.dead_letter("c1", "rejected: HTTP 400")
    waiter.join(10.0)
    assert result == [False] and time.monotonic() - started < 5.0
    started = time.monotonic()
    assert not store.outbox.wait_acknowledged("c2", timeout_s=0.3)
    assert 0.25 <= time.monotonic() - started < 5.0


def test_claims_do_not_wait_for_the_disk_but_outcomes_do(store: Store) -> None:
    store.cases.add("c1", "x", b"p", 1.0)
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    store.outbox.claim(10, 5.0)
    claim_statements, seen[:] = list(seen), []
    store.outbox.acknowledge("c1", b"ack", 6.0)
    # A claim lost in a power cut leaves the entry pending (as a restart would); an acknowledgement
    # must be on disk before anyone is told.
    assert claim_statements[0] == "PRAGMA synchronous = NORMAL"
    assert claim_statements[-1] == "PRAGMA synchronous = FULL"
    assert not any("synchronous" in s for s in seen)
    assert store.pragma("synchronous") == 2  # FULL again
