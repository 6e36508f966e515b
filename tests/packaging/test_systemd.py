"""The kiosk's systemd units and the sd_notify side of the terminal.

The units are checked by systemd's own parser (``systemd-analyze verify``: unknown keys,
bad values and missing executables are reported on stderr), and the terminal is started
for real under a notification socket, as systemd would start it, to see READY=1, the
watchdog pings from the GUI thread and STOPPING=1.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from terminal import sdnotify

REPO = Path(__file__).resolve().parents[2]
UNITS = sorted((REPO / "packaging" / "systemd").glob("hall-kiosk*"))


def test_the_units_exist() -> None:
    names = {u.name for u in UNITS}
    assert {"hall-kiosk.service", "hall-kiosk-alert.service", "hall-kiosk-alert.timer"} <= names


def _verify(units: list[Path], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # verify resolves referenced units (OnFailure=, Unit=) next to the files given
    for u in units:
        shutil.copy(u, tmp_path / u.name)
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *[str(tmp_path / u.name) for u in units]],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LANG": "C", "LC_ALL": "C", "SYSTEMD_LOG_LEVEL": "notice"},
    )


def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    result = _verify(UNITS, tmp_path)
    mine = [line for line in (result.stdout + result.stderr).splitlines() if "hall-kiosk" in line]
    assert result.returncode == 0, result.stderr
    assert mine == []


def test_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a misspelt value and an unknown key are reported."""
    broken = tmp_path / "src" / "hall-kiosk.service"
    broken.parent.mkdir()
    text = (REPO / "packaging/systemd/hall-kiosk.service").read_text()
    broken.write_text(text.replace("Restart=always", "Restart=alwayz\nRestartz=1"))
    out = tmp_path / "out"
    out.mkdir()
    result = _verify([broken], out)
    assert "alwayz" in result.stderr
    assert "Restartz" in result.stderr


def test_the_kiosk_unit_is_a_watched_notify_service() -> None:
    text = (REPO / "packaging/systemd/hall-kiosk.service").read_text()
    settings = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    assert settings["Type"] == "notify"
    assert settings["NotifyAccess"] == "all"
    assert int(settings["WatchdogSec"]) > 0
    assert settings["Restart"] == "always"
    assert settings["OnFailure"] == "hall-kiosk-alert.service"
    assert settings["User"] == "hall-kiosk"
    # cage without -s: no switching to another VT out of the kiosk
    assert settings["ExecStart"].startswith("/usr/bin/cage ")
    assert " -s" not in settings["ExecStart"].split("--")[0]


class _NotifySocket:
    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.path = path
        self.messages: list[str] = []

    def wait_for(self, state: str, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            self.messages.append(data)
            if state in data.split("\n"):
                return time.monotonic()
        raise AssertionError(f"no {state} within {timeout_s} s; got {self.messages}")

    def close(self) -> None:
        self.sock.close()


def test_notify_sends_to_a_path_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = _NotifySocket(tmp_path / "notify")
    monkeypatch.setenv("NOTIFY_SOCKET", str(sink.path))
    try:
        assert sdnotify.notify("READY=1", "STATUS=up")
        sink.wait_for("READY=1", 2)
        assert sink.messages == ["READY=1\nSTATUS=up"]
    finally:
        sink.close()


def test_notify_sends_to_an_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"hall-kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    try:
        assert sdnotify.notify("WATCHDOG=1")
        assert sock.recv(100) == b"WATCHDOG=1"
    finally:
        sock.close()


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.notify("READY=1") is False
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert sdnotify.notify("READY=1") is False  # a socket that is not there: logged, no crash


def test_watchdog_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert sdnotify.watchdog_period_s() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert sdnotify.watchdog_period_s() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_period_s() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert sdnotify.watchdog_period_s() is None


@pytest.mark.slow
def test_the_terminal_reports_ready_pings_the_watchdog_and_stops(tmp_path: Path) -> None:
    """`python main.py` as the unit starts it: READY=1, WATCHDOG=1 every period, STOPPING=1."""
    sink = _NotifySocket(tmp_path / "notify")
    config = tmp_path / "terminal.toml"
    config.write_text(f'profile = "demo"\ndata_dir = "{tmp_path / "data"}"\n')
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(sink.path),
        "WATCHDOG_USEC": "1000000",
        "WATCHDOG_PID": str(os.getpid()),  # the parent, as under cage
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_CONFIG": str(config),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "--windowed"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        sink.wait_for("READY=1", 120)
        first = sink.wait_for("WATCHDOG=1", 5)
        second = sink.wait_for("WATCHDOG=1", 5)
        assert 0.2 < second - first < 2.0  # every half WATCHDOG_USEC
        proc.send_signal(signal.SIGTERM)
        sink.wait_for("STOPPING=1", 30)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
        sink.close()
