"""The periodic heartbeat reaches the sandbox platform over real HTTP with the terminal's state."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from devices.base import DeviceStatus
from kiosk.cases.platform_client import PlatformClient
from kiosk.fleet.heartbeat import Heartbeat, HeartbeatCollector, HeartbeatSender, app_version
from kiosk.session.machine import Step
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer
from tests.fleet.conftest import PanelDevices, enrolled


def _queue(store: Store, n: int, dead: int) -> None:
    for i in range(n):
        store.outbox.add(f"job-{i}", "ping", b"{}", 1.0)
    for i in range(dead):
        store.outbox.dead_letter(f"job-{i}", "refused")


def _row(server: SandboxServer, terminal_id: str) -> dict:
    rows = {r["terminal_id"]: r for r in server.app.state.db.terminals()}
    return rows[terminal_id]


def test_a_heartbeat_carries_devices_paper_version_queues_and_skew(
    server: SandboxServer, store: Store
) -> None:
    _queue(store, 3, dead=1)
    devices = PanelDevices(receipt_printer=DeviceStatus.MEDIA_LOW, idcard=DeviceStatus.OFFLINE)
    with enrolled(server, "FLEET-1") as client:
        collector = HeartbeatCollector(devices, store.outbox, client, lambda: Step.ATTRACT, version="9.8.7")
        sender = HeartbeatSender(client, collector.collect, 60.0)
        assert sender.send_once()
        assert sender.last_ok_at is not None and sender.last_error is None
    row = _row(server, "FLEET-1")
    assert row["device_status"] == {"receipt_printer": "media_low", "idcard": "offline"}
    telemetry = row["telemetry"]
    assert telemetry["app_version"] == "9.8.7"
    assert telemetry["consumables"] == {"receipt_paper": "low"}
    assert telemetry["queues"] == {"outbox_pending": 2, "outbox_dead": 1}
    # Measured by the client from the sandbox's Date header (same machine: well under a minute).
    assert isinstance(telemetry["clock_skew_s"], float) and abs(telemetry["clock_skew_s"]) < 60


def test_a_heartbeat_with_the_device_statuses_alone_is_still_accepted(server: SandboxServer) -> None:
    with enrolled(server, "OLD-1") as client:
        client.heartbeat({"idcard": "ready"})
        row = _row(server, "OLD-1")
        assert row["device_status"] == {"idcard": "ready"} and row["telemetry"] == {}
        # A full heartbeat, then a statuses-only one (staff diagnostics): the version and queues stay.
        client.heartbeat({"idcard": "ready"}, {"app_version": "2.0", "queues": {"outbox_dead": 0}})
        client.heartbeat({"idcard": "offline"})
    row = _row(server, "OLD-1")
    assert row["device_status"] == {"idcard": "offline"}
    assert row["telemetry"] == {"app_version": "2.0", "queues": {"outbox_dead": 0}}


def test_devices_are_not_queried_while_a_citizen_is_served(store: Store) -> None:
    devices = PanelDevices(receipt_printer=DeviceStatus.READY)
    step = [Step.ATTRACT]

    class Skew:
        clock_skew_s = None

    collector = HeartbeatCollector(devices, store.outbox, Skew(), lambda: step[0], version="1")  # type: ignore[arg-type]
    assert collector.collect().consumables == {"receipt_paper": "ok"}
    step[0] = Step.FORM
    devices.now["receipt_printer"] = DeviceStatus.NO_MEDIA
    assert collector.collect().consumables == {"receipt_paper": "ok"}  # the last statuses again
    assert devices.queries == 1
    step[0] = Step.ATTRACT
    assert collector.collect().consumables == {"receipt_paper": "out"}
    assert devices.queries == 2


def test_an_unreachable_platform_is_logged_without_details_and_retried(
    tmp_path: Path, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    items = tmp_path / "items2"
    items.mkdir()
    srv = SandboxServer(tmp_path / "p2", items).start()
    client = enrolled(srv, "GONE-1")
    srv.stop()  # connection refused from now on; same port when it comes back
    collector = HeartbeatCollector(PanelDevices(), store.outbox, client, lambda: Step.ATTRACT, version="1")
    sender = HeartbeatSender(client, collector.collect, 60.0)
    seen: list[bool] = []
    sender.subscribe(lambda beat, ok: seen.append(ok))
    with caplog.at_level(logging.WARNING, logger="kiosk.fleet.heartbeat"):
        assert not sender.send_once()
    assert sender.last_ok_at is None and sender.last_error is not None and sender.failed == 1
    message = " ".join(r.getMessage() for r in caplog.records if r.name == "kiosk.fleet.heartbeat")
    assert "heartbeat not accepted" in message and "127.0.0.1" not in message and "GONE-1" not in message
    srv.start()
    try:
        assert sender.send_once()
        assert seen == [False, True]
    finally:
        client.close()
        srv.close()


def test_the_thread_sends_at_start_and_stops_on_its_event(server: SandboxServer, store: Store) -> None:
    with enrolled(server, "LOOP-1") as client:
        sent = threading.Event()
        collector = HeartbeatCollector(
            PanelDevices(), store.outbox, client, lambda: Step.ATTRACT, version="1"
        )
        sender = HeartbeatSender(client, collector.collect, 3600.0)
        sender.subscribe(lambda beat, ok: sent.set())
        sender.start()
        assert sent.wait(30)
        sender.stop()  # returns at once although the next round is an hour away
        assert sender._thread is None and sender.sent == 1
    assert _row(server, "LOOP-1")["last_heartbeat_at"] is not None


def test_the_version_is_the_installed_distribution() -> None:
    assert app_version() != ""
    assert Heartbeat({}, "1").telemetry()["queues"] == {}


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        HeartbeatSender(PlatformClient("http://127.0.0.1:9", "X"), lambda: Heartbeat({}, "1"), 0)
