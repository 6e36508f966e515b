"""A demo terminal built by terminal/runtime.py heartbeats to its sandbox and serves its metrics."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.config import TerminalConfig
from terminal.runtime import build_terminal
from tests.fleet.test_metrics import scrape


def test_a_built_terminal_heartbeats_and_serves_metrics(tmp_path: Path) -> None:
    config = TerminalConfig(data_dir=str(tmp_path / "data"), terminal_id="RUN-1")
    config = config.model_copy(
        update={"platform": config.platform.model_copy(update={"heartbeat_s": 3600.0, "metrics_port": 0})}
    )
    terminal = build_terminal(config, tmp_path / "work")
    try:
        fleet = terminal.fleet
        assert fleet is not None and fleet.metrics is not None and fleet.metrics.port is not None
        beat = threading.Event()
        fleet.heartbeat.subscribe(lambda b, ok: beat.set())
        if fleet.heartbeat.sent == 0:  # the first one goes at start; wait for it if it has not yet
            beat.wait(60)
        assert fleet.heartbeat.sent >= 1
        assert fleet.heartbeat.send_once()  # one more, synchronously: its listeners ran on return
        [row] = [r for r in terminal.sandbox.app.state.db.terminals() if r["terminal_id"] == "RUN-1"]
        assert row["telemetry"]["app_version"] == fleet.heartbeat.collect().app_version
        assert set(row["device_status"]) >= {"idcard", "receipt_printer"}
        got = scrape(fleet.metrics.port)
        assert got[("kiosk_heartbeat_last_ok_timestamp_seconds", ())] > 0
        assert got[("kiosk_sessions_started_total", ())] == 0
    finally:
        terminal.close()
    assert terminal.fleet.heartbeat._thread is None
