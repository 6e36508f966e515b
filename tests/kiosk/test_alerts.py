"""Issue 17, platform alerts: the signed, idempotent, per-terminal alert endpoint of a real sandbox
platform on 127.0.0.1, and the forwarder that turns lockouts, staff calls, device faults, paper
low, dead letters and clock skew into alerts queued in the real (encrypted) store's outbox, so they
survive an outage and a restart and reach the platform exactly once."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.base import DeviceStatus, RequiredAction
from kiosk.cases.outbox import JOB_ALERT, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformRejected
from kiosk.maintenance.access import StaffAccess
from kiosk.maintenance.alerts import META_KEY, AlertForwarder, AlertKind
from kiosk.session.events import EventBus, ProblemRaised, StaffCallRequested
from kiosk.session.values import Problem
from offline_cache.store import OutboxState, Store
from sandbox_platform.server import SandboxServer
from tests.kiosk.piv_cards import verified_card

T0 = 1_800_000_000.0


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    c = PlatformClient(server.url, "ALERT1", timeout=2.0, signing_key=Ed25519PrivateKey.generate())
    c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
    yield c
    c.close()


def _store(tmp_path: Path) -> Store:
    return Store(tmp_path / "kiosk.db", key=bytes(range(32)))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = _store(tmp_path)
    yield s
    s.close()


def _drainer(store: Store, client: PlatformClient) -> OutboxDrainer:
    return OutboxDrainer(
        store, client, backoff=Backoff(base_s=0.0, max_s=0.0, jitter=0.0), rng=random.Random(1)
    )


def _received(client: PlatformClient) -> list[dict[str, Any]]:
    return [a for a in client.sandbox.alerts() if a["terminal_id"] == client.terminal_id]


def _queued(store: Store) -> list[dict[str, Any]]:
    return [json.loads(e.payload) for e in store.outbox.entries(kind=JOB_ALERT)]


# --------------------------------------------------------------------------- the endpoint
def test_the_endpoint_is_signed_idempotent_and_per_terminal(
    client: PlatformClient, server: SandboxServer
) -> None:
    key = str(uuid.uuid4())
    body = json.dumps(
        {"kind": "staff_call", "severity": "warning", "raised_at": T0, "details": {"step": "form"}}
    )
    first = json.loads(client.post_queued("alert", key, body.encode()))
    again = json.loads(client.post_queued("alert", key, body.encode()))  # a re-send after a lost answer
    assert first == again and first["alert_id"] == key
    [kept] = _received(client)
    assert kept["kind"] == "staff_call" and kept["details"] == {"step": "form"} and kept["deliveries"] == 2

    other = body.replace("form", "review").encode()
    with pytest.raises(PlatformRejected) as refused:
        client.post_queued("alert", key, other)  # the same key for another alert
    assert refused.value.status == 422

    intruder = PlatformClient(server.url, "ALERT2", timeout=2.0, signing_key=Ed25519PrivateKey.generate())
    intruder.enrol(code=intruder.sandbox.issue_enrolment_code("ALERT2"))
    with pytest.raises(PlatformRejected) as forbidden:  # signed as itself, for another terminal
        intruder.transport.request(
            "POST",
            "/api/v1/terminals/ALERT1/alerts",
            data=body.encode(),
            headers={"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"},
        )
    assert forbidden.value.status == 403
    intruder.close()
    assert len(_received(client)) == 1


# --------------------------------------------------------------------------- the forwarder
def test_a_staff_call_on_the_bus_survives_an_outage_and_a_restart_and_arrives_once(
    tmp_path: Path, client: PlatformClient
) -> None:
    store = _store(tmp_path)
    bus = EventBus()
    forwarder = AlertForwarder(store)
    bus.subscribe(forwarder.on_event)
    bus.publish(StaffCallRequested(step="form"))
    bus.publish(StaffCallRequested(step="form"))  # a second tap at once: the same call
    assert [a["kind"] for a in _queued(store)] == ["staff_call"]

    client.sandbox.set_faults(down=True)
    report = _drainer(store, client).drain_once()
    assert report.sent == 0 and report.retried == 1
    store.close()  # the terminal restarts while the platform is down

    client.sandbox.set_faults()
    store = _store(tmp_path)
    store.outbox.retry(store.outbox.entries(kind=JOB_ALERT)[0].entry_id, "test: due now", 0.0)
    client.sandbox.set_faults(drop_after_processing=True)  # the platform keeps it, the answer is lost
    assert _drainer(store, client).drain_once().sent == 0
    client.sandbox.set_faults()
    store.outbox.retry(store.outbox.entries(kind=JOB_ALERT)[0].entry_id, "test: due now", 0.0)
    assert _drainer(store, client).drain_once().sent == 1
    [alert] = _received(client)
    assert alert["kind"] == "staff_call" and alert["details"] == {"step": "form"}
    assert alert["deliveries"] == 2  # sent twice, kept once
    assert store.outbox.counts(cases=False)[OutboxState.ACKNOWLEDGED] == 1
    store.close()


def test_five_wrong_pins_raise_a_lockout_alert_that_reaches_the_platform(
    store: Store, client: PlatformClient
) -> None:
    forwarder = AlertForwarder(store)
    access = StaffAccess(store)
    access.alarm_sink = forwarder.lockout
    card = verified_card("S0042")
    for _ in range(5):
        access.card_verified(card, "reader-0")
        access.submit_pin("000000")
    assert _drainer(store, client).drain_once().sent == 1
    [alert] = _received(client)
    assert alert["kind"] == "staff_lockout" and alert["severity"] == "critical"
    assert alert["details"]["staff"] == "S0042" and alert["details"]["reason"] == "wrong_pin"
    assert "000000" not in json.dumps(alert) and "482916" not in json.dumps(alert)


def test_paper_faults_dead_letters_and_clock_skew_are_raised_once_per_episode(
    store: Store, client: PlatformClient
) -> None:
    statuses = {"receipt_printer": DeviceStatus.MEDIA_LOW, "document_printer": DeviceStatus.READY}
    skew: list[float | None] = [-120.0]
    forwarder = AlertForwarder(store, statuses=lambda: statuses, clock_skew=lambda: skew[0])
    store.outbox.add(str(uuid.uuid4()), "no-such-kind", b"{}", time.time())
    assert _drainer(store, client).drain_once().dead == 1  # a job this build cannot send

    forwarder.poll()
    forwarder.poll()  # nothing changed: nothing new
    kinds = sorted(a["kind"] for a in _queued(store))
    assert kinds == ["clock_skew", "dead_letter", "paper_low"]
    skew_alert = next(a for a in _queued(store) if a["kind"] == "clock_skew")
    assert skew_alert["details"]["skew_s"] == 120.0

    statuses["receipt_printer"] = DeviceStatus.NO_MEDIA  # low -> out: a new, critical alert
    statuses["document_printer"] = DeviceStatus.HARDWARE_ERROR
    skew[0] = 2.0  # the clock was fixed ...
    forwarder.poll()
    skew[0] = 400.0  # ... and went off again: a second episode
    forwarder.poll()
    queued = _queued(store)
    assert sorted(a["kind"] for a in queued) == [
        "clock_skew",
        "clock_skew",
        "dead_letter",
        "device_fault",
        "paper_low",
        "paper_low",
    ]
    assert {a["details"].get("paper") for a in queued if a["kind"] == "paper_low"} == {"low", "out"}

    assert _drainer(store, client).drain_once().sent == 6
    assert len(_received(client)) == 6
    forwarder.poll()
    assert len(_queued(store)) == 6  # dead-lettered alerts never raise alerts of their own


def test_device_problems_on_the_bus_alert_only_when_staff_must_act(store: Store) -> None:
    forwarder = AlertForwarder(store)
    retry = Problem("camera", RequiredAction.RETRY, "problem.camera", None, allow_manual=True)
    jam = Problem("receipt_printer", RequiredAction.CLEAR_BY_STAFF, "problem.receipt_printer", None, False)
    forwarder.on_event(ProblemRaised(retry))
    forwarder.on_event(ProblemRaised(jam))
    forwarder.on_event(ProblemRaised(jam))
    [alert] = _queued(store)
    assert alert["kind"] == AlertKind.DEVICE_FAULT.value and alert["details"]["device"] == "receipt_printer"


def test_a_crash_between_queueing_and_remembering_does_not_queue_twice(store: Store) -> None:
    forwarder = AlertForwarder(store, clock_skew=lambda: 90.0)
    before = store.meta.get(META_KEY) or "{}"
    forwarder.poll()
    store.meta.set(META_KEY, before)  # the episode write was lost: as if the power went there
    AlertForwarder(store, clock_skew=lambda: 90.0).poll()
    assert [a["kind"] for a in _queued(store)] == ["clock_skew"]
