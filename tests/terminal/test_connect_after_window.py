"""Enrolment, the first sync and the demo's in-process sandbox platform start once the window is
up (``Terminal.window_shown``), so they never compete with building the first screen; a terminal
without a window starts them after ``CONNECT_AFTER_S``; one closed before never starts them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import TerminalConfig
from terminal import runtime
from terminal.demo_sandbox import DemoSandbox
from terminal.runtime import build_terminal

pytestmark = [pytest.mark.terminal]


def _record_starts(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    calls: list[float] = []
    real = DemoSandbox.start

    def start(self: DemoSandbox) -> Any:
        calls.append(time.monotonic())
        return real(self)

    monkeypatch.setattr(DemoSandbox, "start", start)
    return calls


def _wait(predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_demo_platform_starts_and_enrols_once_the_window_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = _record_starts(monkeypatch)
    terminal = build_terminal(
        TerminalConfig(data_dir=str(tmp_path)), tmp_path / "work", background_connect=True
    )
    try:
        assert terminal.sandbox is not None
        assert terminal.client.base_url.startswith(terminal.sandbox.url)  # its address known at once
        time.sleep(0.5)
        assert starts == [] and terminal.client.enrolment is None  # held for the window
        shown = time.monotonic()
        terminal.window_shown()
        _wait(lambda: terminal.client.enrolment is not None)
        assert starts and starts[0] >= shown
        assert terminal.sandbox.started
    finally:
        terminal.close()


def test_without_a_window_the_connect_starts_after_the_grace_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "CONNECT_AFTER_S", 0.3)
    terminal = build_terminal(
        TerminalConfig(data_dir=str(tmp_path)), tmp_path / "work", background_connect=True
    )
    try:
        _wait(lambda: terminal.client.enrolment is not None)
    finally:
        terminal.close()


def test_a_terminal_closed_before_its_window_never_starts_its_demo_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = _record_starts(monkeypatch)
    terminal = build_terminal(
        TerminalConfig(data_dir=str(tmp_path)), tmp_path / "work", background_connect=True
    )
    t0 = time.monotonic()
    terminal.close()
    assert time.monotonic() - t0 < runtime.CONNECT_AFTER_S  # not held for the grace period
    assert starts == []
    assert terminal.sandbox is not None and not terminal.sandbox.started


def test_a_request_before_the_demo_platform_starts_waits_for_it(tmp_path: Path) -> None:
    import requests

    sandbox = DemoSandbox(tmp_path / "sandbox", runtime.ITEMS_DIR)
    try:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:  # connects now: waits in the reserved socket's backlog
            answer = pool.submit(requests.get, f"{sandbox.url}/_sandbox/bundles", timeout=30)
            time.sleep(0.2)
            sandbox.start()
            assert answer.result().status_code == 200
    finally:
        sandbox.close()


def test_the_demo_platform_goes_away_and_comes_back_on_the_same_address(tmp_path: Path) -> None:
    import requests

    sandbox = DemoSandbox(tmp_path / "sandbox", runtime.ITEMS_DIR)
    url = f"{sandbox.url}/_sandbox/bundles"
    try:
        sandbox.stop()  # never started: started, then stopped (refused, not left waiting)
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)
        sandbox.start()
        assert requests.get(url, timeout=10).status_code == 200
    finally:
        sandbox.close()
