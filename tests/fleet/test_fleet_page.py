"""The sandbox platform's fleet page, rendered by headless Chromium, shows two terminals' heartbeats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devices.base import DeviceStatus
from kiosk.fleet.heartbeat import HeartbeatCollector, HeartbeatSender
from kiosk.session.machine import Step
from offline_cache.store import Store
from sandbox_platform.fleet import fleet_row
from sandbox_platform.server import SandboxServer
from tests.fleet.chromium import Chromium
from tests.fleet.conftest import PanelDevices, enrolled

ROWS = """JSON.stringify(Array.from(document.querySelectorAll('#fleet tbody tr')).map(tr => ({
  id: tr.dataset.terminal, cls: tr.className,
  cells: Object.fromEntries(Array.from(tr.cells).map(td => [td.className.split(' ')[0], td.innerText])),
  faults: Array.from(tr.querySelectorAll('.fault')).map(d => d.textContent)})))"""


@pytest.fixture
def browser() -> Iterator[Chromium]:
    b = Chromium()
    yield b
    b.close()


def _beat(
    server: SandboxServer, store: Store, terminal_id: str, version: str, **devices: DeviceStatus
) -> None:
    with enrolled(server, terminal_id) as client:
        collector = HeartbeatCollector(
            PanelDevices(**devices), store.outbox, client, lambda: Step.ATTRACT, version
        )
        assert HeartbeatSender(client, collector.collect, 60.0).send_once()


def test_the_page_lists_two_terminals_with_their_heartbeats(
    server: SandboxServer, store: Store, browser: Chromium
) -> None:
    for i in range(2):
        store.outbox.add(f"job-{i}", "ping", b"{}", 1.0)
    store.outbox.dead_letter("job-1", "refused")
    _beat(server, store, "HALL-A", "1.4.0", idcard=DeviceStatus.READY, receipt_printer=DeviceStatus.MEDIA_LOW)
    _beat(server, store, "HALL-B", "1.5.0", idcard=DeviceStatus.OFFLINE, receipt_printer=DeviceStatus.READY)
    with enrolled(server, "HALL-C"):
        pass  # enrolled, never heartbeated

    browser.navigate(f"{server.url}/fleet")
    browser.wait_for("document.body?.dataset.ready === '1'")  # body is null mid-navigation
    rows: dict[str, Any] = {r["id"]: r for r in json.loads(browser.evaluate(ROWS))}

    assert set(rows) == {"HALL-A", "HALL-B", "HALL-C"}
    a, b, c = rows["HALL-A"], rows["HALL-B"], rows["HALL-C"]
    assert a["cls"] == "online" and a["cells"]["state"] == "online"
    assert a["cells"]["version"] == "1.4.0" and b["cells"]["version"] == "1.5.0"
    assert a["cells"]["paper"] == "low" and b["cells"]["paper"] == "ok"
    assert a["cells"]["pending"] == "1" and a["cells"]["dead"] == "1"
    assert a["cells"]["age"].endswith("s ago")
    assert a["cells"]["skew"].endswith(" s")
    assert "idcard: ready" in a["cells"]["devices"] and a["faults"] == []
    assert b["faults"] == ["idcard: offline"]
    assert c["cls"] == "silent" and c["cells"]["age"] == "never" and c["cells"]["version"] == "-"
    summary = browser.evaluate("document.getElementById('summary').textContent")
    assert summary.startswith("3 terminals, 2 online")


def test_a_terminal_is_stale_after_three_missed_intervals() -> None:
    terminal = {"terminal_id": "T", "last_heartbeat_at": 1000.0, "device_status": {}, "telemetry": {}}
    assert fleet_row(terminal, 1100.0, 180.0)["state"] == "online"
    assert fleet_row(terminal, 1181.0, 180.0)["state"] == "stale"
    assert fleet_row(terminal, 1181.0, 180.0)["heartbeat_age_s"] == pytest.approx(181.0)


def test_the_page_is_not_part_of_the_terminal_contract(server: SandboxServer) -> None:
    paths = server.app.openapi()["paths"]
    assert not any(p.startswith("/fleet") for p in paths)
