"""OutboxDrainer: a real Store file, a real sandbox platform on 127.0.0.1, a controlled clock."""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.outbox import JOB_ATTACHMENT, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from offline_cache.store import NewAttachment, OutboxState, Store
from sandbox_platform.server import SandboxServer


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    c = PlatformClient(server.url, "T1", timeout=2.0)
    c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
    yield c
    c.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kiosk.sqlite3")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def drainer(store: Store, client: PlatformClient, clock: Clock) -> OutboxDrainer:
    return OutboxDrainer(
        store, client, clock, backoff=Backoff(base_s=10, max_s=300, jitter=0.5), rng=random.Random(1)
    )


def add(store: Store, clock: Clock, item_id: str = "x", payload: bytes = b"payload") -> str:
    case_id = str(uuid.uuid4())
    store.cases.add(case_id, item_id, payload, clock())
    return case_id


def test_drain_uploads_exactly_once(
    store: Store, client: PlatformClient, drainer: OutboxDrainer, clock: Clock
) -> None:
    ids = [add(store, clock, payload=f"case {i}".encode()) for i in range(3)]
    report = drainer.drain_once(10)
    assert (report.attempted, report.sent, report.retried, report.dead) == (3, 3, 0, 0)
    assert store.outbox.counts(cases=True) == {
        OutboxState.PENDING: 0,
        OutboxState.IN_FLIGHT: 0,
        OutboxState.ACKNOWLEDGED: 3,
        OutboxState.DEAD: 0,
    }
    # Draining again sends nothing; a crash after the upload but before the acknowledgement was
    # recorded leaves the entry in flight: the restarted drainer sends it again with the same key.
    assert drainer.drain_once(10).attempted == 0
    with store.db.conn:
        store.db.execute("UPDATE outbox_entries SET state = 'in_flight' WHERE entry_id = ?", (ids[0],))
    restarted = OutboxDrainer(store, client, clock)
    assert restarted.drain_once(10).sent == 1
    received = client.sandbox.received_cases()
    assert sorted(c["case_id"] for c in received) == sorted(ids)
    case = store.cases.get(ids[0])
    assert case is not None and case.ack is not None and b"SBX" in case.ack
    assert store.audit_trail.verify()


def test_lost_answer_is_retried_with_same_key(
    store: Store, client: PlatformClient, drainer: OutboxDrainer, clock: Clock
) -> None:
    case_id = add(store, clock)
    client.sandbox.set_faults(drop_after_processing=True)
    report = drainer.drain_once(10)
    assert (report.sent, report.retried, report.stopped_early) == (0, 1, True)
    assert len(client.sandbox.received_cases()) == 1  # the platform did process it
    entry = store.cases.get(case_id)
    assert entry is not None and entry.state is OutboxState.PENDING and entry.attempts == 1

    # Still dropping: the retry is processed again as a replay, the answer lost again.
    clock.t += 1000
    assert drainer.drain_once(10).retried == 1
    client.sandbox.set_faults()
    clock.t += 1000
    report = drainer.drain_once(10)
    assert report.sent == 1
    received = client.sandbox.received_cases()
    assert len(received) == 1 and received[0]["case_id"] == case_id
    entry = store.cases.get(case_id)
    assert entry is not None and entry.state is OutboxState.ACKNOWLEDGED and entry.ack is not None
    assert received[0]["platform_ref"].encode() in entry.ack


def test_server_errors_back_off_exponentially(
    store: Store, client: PlatformClient, drainer: OutboxDrainer, clock: Clock
) -> None:
    case_id = add(store, clock)
    client.sandbox.set_faults(error_rate=1.0, error_status=500)
    delays = []
    for _ in range(4):
        before = clock()
        report = drainer.drain_once(10)
        assert report.stopped_early and (report.attempted, report.retried) == (1, 1)
        entry = store.cases.get(case_id)
        assert entry is not None and entry.state is OutboxState.PENDING
        assert entry.last_error is not None and "HTTP 500" in entry.last_error
        due = store.outbox.due(10, now=1e12)
        nxt = next(e.next_attempt_at for e in due if e.case_id == case_id)
        delays.append(nxt - before)
        clock.t = nxt  # exactly when it is due again
    # base 10 s, factor 2, jitter 50 %: attempt n waits within [10*2**n / 2, 10*2**n]
    for n, d in enumerate(delays):
        assert 10 * 2**n / 2 <= d <= 10 * 2**n, delays
    assert delays[3] > delays[0]
    assert store.cases.get(case_id).attempts == 4  # type: ignore[union-attr]
    assert len(client.sandbox.received_cases()) == 0


def test_retry_after_is_honoured(
    store: Store, client: PlatformClient, drainer: OutboxDrainer, clock: Clock
) -> None:
    case_id = add(store, clock)
    client.sandbox.set_faults(error_rate=1.0, error_status=503, retry_after_s=120)
    drainer.drain_once(10)
    assert store.outbox.due(10, clock() + 119) == []
    assert [e.case_id for e in store.outbox.due(10, clock() + 120)] == [case_id]


def test_retry_after_is_capped(
    store: Store, client: PlatformClient, drainer: OutboxDrainer, clock: Clock
) -> None:
    # A platform (or something in between) asking for ~30 years must not park the case for ever.
    case_id = add(store, clock)
    client.sandbox.set_faults(error_rate=1.0, error_status=503, retry_after_s=10**9)
    drainer.drain_once(10)
    cap = drainer.backoff.retry_after_max_s
    assert store.outbox.due(10, clock() + cap - 1) == []
    assert [e.entry_id for e in store.outbox.due(10, clock() + cap)] == [case_id]


def test_one_retry_policy_bounds_retry_after() -> None:
    policy, rng = Backoff(base_s=10, max_s=300, jitter=0.0, retry_after_max_s=600), random.Random(0)
    assert policy.next_delay(0, rng) == 10
    assert policy.next_delay(0, rng, retry_after=120) == 120  # honoured when longer
    assert policy.next_delay(3, rng, retry_after=1) == 80  # never sooner than the backoff
    for asked in (1e12, math.inf, math.nan):
        assert policy.next_delay(0, rng, retry_after=asked) == 600
    assert policy.next_delay(0, rng, retry_after=-5) == 10


def test_rejection_dead_letters_and_batch_goes_on(
    store: Store, client: PlatformClient, drainer: OutboxDrainer, clock: Clock
) -> None:
    bad = add(store, clock, item_id="no-such-item")  # the platform answers 400
    clock.t += 1
    good = add(store, clock)
    report = drainer.drain_once(10)
    assert (report.sent, report.dead, report.retried) == (1, 1, 0)
    dead = store.cases.get(bad)
    assert dead is not None and dead.state is OutboxState.DEAD
    assert dead.last_error is not None and "HTTP 400" in dead.last_error and "unknown item" in dead.last_error
    assert store.cases.get(good).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
    assert drainer.drain_once(10).attempted == 0  # dead entries are not retried
    assert [c["case_id"] for c in client.sandbox.received_cases()] == [good]


def test_unauthorized_is_retried_not_dead(store: Store, server: SandboxServer, clock: Clock) -> None:
    case_id = add(store, clock)
    with PlatformClient(server.url, "T1", token="revoked") as c:
        report = OutboxDrainer(store, c, clock).drain_once(10)
    assert report.retried == 1
    assert store.cases.get(case_id).state is OutboxState.PENDING  # type: ignore[union-attr]


def test_platform_down_then_back(
    store: Store, server: SandboxServer, client: PlatformClient, clock: Clock
) -> None:
    first = add(store, clock)
    clock.t += 1
    second = add(store, clock)
    drainer = OutboxDrainer(store, client, clock, rng=random.Random(2))
    server.stop()  # connection refused
    report = drainer.drain_once(10)
    # One failure stops the round: the rest of the queue is not hammered against a dead platform.
    assert (report.attempted, report.retried, report.stopped_early) == (1, 1, True)
    assert report.error is not None and "cannot connect" in report.error
    assert store.cases.get(first).attempts == 1 and store.cases.get(second).attempts == 0  # type: ignore[union-attr]
    server.start()
    clock.t += 10_000
    assert drainer.drain_once(10).sent == 2
    assert sorted(c["case_id"] for c in client.sandbox.received_cases()) == sorted([first, second])


def test_background_thread_kick(store: Store, client: PlatformClient) -> None:
    drainer = OutboxDrainer(store, client)  # real clock
    drainer.start(interval_s=60.0)
    try:
        time.sleep(0.2)  # the first (empty) round is done; the thread now waits 60 s
        case_id = str(uuid.uuid4())
        store.cases.add(case_id, "x", b"p", time.time())
        drainer.kick()
        deadline = time.monotonic() + 5
        while store.cases.get(case_id).state is not OutboxState.ACKNOWLEDGED:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "kick did not wake the drainer"
            time.sleep(0.02)
    finally:
        drainer.stop()
    assert not drainer.running
    assert len(client.sandbox.received_cases()) == 1


def test_submitter_is_told_of_the_acknowledgement(store: Store, client: PlatformClient) -> None:
    drainer = OutboxDrainer(store, client)  # real clock
    drainer.start(interval_s=60.0)
    try:
        time.sleep(0.2)  # the first (empty) round is done; the thread now waits 60 s
        case_id = str(uuid.uuid4())
        store.cases.add(case_id, "x", b"p", time.time())
        drainer.kick()
        started = time.monotonic()
        assert drainer.wait_acknowledged(case_id, timeout_s=20.0)
        assert time.monotonic() - started < 10.0
        assert store.cases.get(case_id).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
        # Acknowledged before the wait began: answered at once.
        assert drainer.wait_acknowledged(case_id, timeout_s=0.0)
        # A case the platform refuses ends the wait (no acknowledgement will come).
        bad = str(uuid.uuid4())
        store.cases.add(bad, "no-such-item", b"p", time.time())
        drainer.kick()
        started = time.monotonic()
        assert not drainer.wait_acknowledged(bad, timeout_s=20.0)
        assert time.monotonic() - started < 10.0
    finally:
        drainer.stop()


class _SettledMeanwhile:
    """The real client; while the first case is in flight, another drainer on the same store
    records its acknowledgement first."""

    def __init__(self, client: PlatformClient, store: Store, case_id: str) -> None:
        self._client, self._store, self._case_id = client, store, case_id

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)

    def upload_case(self, case_id: str, *args: object, **kwargs: object) -> object:
        ack = self._client.upload_case(case_id, *args, **kwargs)  # type: ignore[arg-type]
        if case_id == self._case_id:
            self._store.outbox.acknowledge(case_id, ack.raw, 1.0)
        return ack


def test_an_entry_settled_meanwhile_does_not_stop_the_round(
    store: Store, client: PlatformClient, clock: Clock
) -> None:
    first, second = add(store, clock), add(store, clock)
    drainer = OutboxDrainer(store, _SettledMeanwhile(client, store, first), clock)  # type: ignore[arg-type]
    report = drainer.drain_once(10)
    assert (report.attempted, report.sent, report.stopped_early) == (2, 1, False)
    assert store.cases.get(first).sent_at == 1.0  # type: ignore[union-attr]  # the first record stays
    assert store.cases.get(second).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
    assert sorted(c["case_id"] for c in client.sandbox.received_cases()) == sorted([first, second])


def test_a_refusal_keeps_the_platforms_reason(store: Store, server: SandboxServer, clock: Clock) -> None:
    """Issue 17, finding 9: the entry says why the platform refused, not only "HTTP 401"."""
    signed = PlatformClient(server.url, "T9", timeout=2.0, signing_key=Ed25519PrivateKey.generate())
    signed.enrol(code=signed.sandbox.issue_enrolment_code("T9"))
    requests.post(f"{server.url}/_sandbox/terminals/T9/revoke", timeout=5).raise_for_status()
    case_id = add(store, clock)
    report = OutboxDrainer(store, signed, clock).drain_once(10)
    signed.close()
    assert report.retried == 1
    entry = store.cases.get(case_id)
    assert entry is not None and entry.state is OutboxState.PENDING
    assert entry.last_error == "unauthorized: HTTP 401: unknown or revoked terminal"


def test_a_late_certificate_does_not_change_a_case_resent_after_a_lost_answer(
    store: Store, client: PlatformClient, clock: Clock
) -> None:
    """Found by bench/soak: the certificate PDF is queued as its own job while the case may still be
    on its way.  The case body references the attachments stored with the case only, so the re-sent
    body is the one the platform already holds (not refused as a reused key with another body, which
    dead-lettered the case), and the certificate arrives through its own job."""
    case_id = str(uuid.uuid4())
    page = NewAttachment(str(uuid.uuid4()), "page-1", "image/jpeg", b"\xff\xd8\xff page")
    store.cases.add(case_id, "x", b"payload", clock(), attachments=[page])
    drainer = OutboxDrainer(store, client, clock, backoff=Backoff(base_s=1, max_s=1, jitter=0.0))
    drainer.uploader.upload(store.attachments.for_case(case_id)[0])  # the page went up earlier
    client.sandbox.set_faults(drop_after_processing=True)  # the platform keeps the body, the answer is lost
    assert drainer.drain_once().sent == 0
    assert [c["case_id"] for c in client.sandbox.received_cases()] == [case_id]
    client.sandbox.set_faults()
    certificate = NewAttachment(str(uuid.uuid4()), "certificate", "application/pdf", b"%PDF-1.7 certificate")
    job = str(uuid.uuid4())
    payload = json.dumps({"attachment_id": certificate.attachment_id}).encode()
    store.outbox.add(job, JOB_ATTACHMENT, payload, clock(), case_id=case_id, attachment=certificate)
    clock.t += 3600
    report = drainer.drain_once()
    assert (report.sent, report.dead) == (2, 0)
    assert store.cases.get(case_id).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
    assert store.attachments.get(certificate.attachment_id).uploaded_at is not None  # type: ignore[union-attr]
    [received] = [c for c in client.sandbox.received_cases() if c["case_id"] == case_id]
    assert [a["attachment_id"] for a in received["attachments"]] == [page.attachment_id]
