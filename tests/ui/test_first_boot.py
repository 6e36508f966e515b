"""The first-boot screen (ui/first_boot.py, terminal/first_boot.py) with real widgets offscreen, against
the sandbox platform behind TLS on the device simulators and a private cupsd (bench/provision.py's
hall): the installer scans the enrolment QR code with the camera, a wrong code is refused with
nothing written and nothing typed lost, the right one provisions with progress and the readiness
report, and "restart" hands over to the terminal, which then starts from the written config."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qrcode
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPlainTextEdit, QProgressBar, QPushButton

from bench.provision import Hall, hall
from kiosk.config import Profile, load_config
from kiosk.i18n import set_language, tr
from terminal.app import make_app
from terminal.first_boot import FirstBoot, unprovisioned
from terminal.provision import enrolment_qr_text
from tests.ui.fresh_process import result_of, run_fresh
from ui.first_boot import FirstBootWindow

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def the_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    with hall(tmp_path_factory.mktemp("hall")) as h:
        assert h.cups_server is not None, "the private cupsd did not start (root and cups-pdf needed)"
        yield h


def wait_until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        QTest.qWait(20)


def _hall_flags(h: Hall, data: Path, config: Path, qr_image: Path) -> list[str]:
    """The hall's fixed flags (what /etc/hall-kiosk/provision.args holds): no enrolment, no
    config/data paths, and the camera showing the enrolment QR code."""
    flags = h.flags(data, config)
    out: list[str] = []
    skip = {"--qr", "--data-dir", "--config", "--camera"}
    i = 0
    while i < len(flags):
        if flags[i] in skip:
            i += 2
        elif flags[i] == "--non-interactive":
            i += 1
        else:
            out.append(flags[i])
            i += 1
    return [*out, "--camera", str(qr_image)]


def test_first_boot_enrols_from_the_camera_qr_shows_readiness_and_restarts(
    the_hall: Hall, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_language("en")
    data, config = tmp_path / "data", tmp_path / "etc" / "terminal.toml"
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    assert unprovisioned(None)  # the packaged service points at a config that is not there yet
    qr_text = enrolment_qr_text(
        the_hall.url, "DZ-FIRST-0001", the_hall.code("DZ-FIRST-0001"), the_hall.root_sha256()
    )
    qr_image = tmp_path / "enrol-qr.png"
    qrcode.make(qr_text, border=4, box_size=8).save(qr_image)
    restarted: list[bool] = []
    backend = FirstBoot(
        config, data, _hall_flags(the_hall, data, config, qr_image), restart=lambda: restarted.append(True)
    )
    make_app()
    window = FirstBootWindow(backend)
    window.resize(1280, 800)
    window.show()
    try:
        fields = {name: window.findChild(QLineEdit, f"firstBoot:{name}") for name in backend_fields()}
        status = window.findChild(QLabel, "firstBootStatus")
        start = window.findChild(QPushButton, "firstBootStart")
        restart = window.findChild(QPushButton, "firstBootRestart")
        progress = window.findChild(QProgressBar, "firstBootProgress")
        log = window.findChild(QPlainTextEdit, "firstBootLog")

        # An empty form starts nothing.
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        assert status.text() == tr("firstboot.missing") and not config.exists()

        # The camera reads the enrolment QR code: every field filled.
        QTest.mouseClick(window.findChild(QPushButton, "firstBootScan"), Qt.MouseButton.LeftButton)
        wait_until(lambda: status.text() == tr("firstboot.qr_read"), 30, "the QR code read")
        assert (
            fields["terminal_id"].text() == "DZ-FIRST-0001" and fields["platform_url"].text() == the_hall.url
        )
        good_code = fields["code"].text()

        # A mistyped code: refused by the platform, nothing written, the fields kept.
        fields["code"].selectAll()
        QTest.keyClicks(fields["code"], "WRONGCODE1")
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        wait_until(
            lambda: start.isEnabled() and status.text().startswith("Enrolment failed"), 60, "the refusal"
        )
        assert "enrolment refused" in status.text()
        assert not config.exists() and restart.isHidden()
        assert fields["terminal_id"].text() == "DZ-FIRST-0001"

        # The right code, typed: provisioning runs with progress, the report says ready.
        fields["code"].selectAll()
        QTest.keyClicks(fields["code"], good_code)
        QTest.mouseClick(start, Qt.MouseButton.LeftButton)
        wait_until(lambda: not start.isEnabled(), 5, "provisioning started")
        wait_until(lambda: progress.value() > 0, 60, "progress")
        wait_until(lambda: start.isEnabled(), 240, "provisioning done")
        assert status.text() == tr("firstboot.ready"), log.toPlainText()
        assert progress.value() == progress.maximum() and not restart.isHidden()
        text = log.toPlainText()
        for step in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"):
            assert step in text
        assert "ok   catalogue.synced" in text and "FAIL" not in text
        assert json.loads((data / "readiness.json").read_text())["readiness_ok"] is True
        assert load_config(config).profile is Profile.PRODUCTION and not unprovisioned(None)

        QTest.mouseClick(restart, Qt.MouseButton.LeftButton)
        assert restarted == [True]
    finally:
        window.close()
        window.deleteLater()
        QApplication.processEvents()
        set_language("zh")


def backend_fields() -> tuple[str, ...]:
    return ("platform_url", "terminal_id", "code", "tuf_root_sha256")


def test_an_unprovisioned_terminal_starts_into_the_first_boot_screen(tmp_path: Path) -> None:
    """`python main.py` as the service starts it, with no config yet: the first-boot screen comes up
    (READY=1 with its status, the watchdog pinged), not a demo or an out-of-service terminal."""
    import os
    import signal
    import subprocess
    import sys

    from tests.packaging.test_systemd import REPO, _NotifySocket

    sink = _NotifySocket(tmp_path / "notify")
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(sink.path),
        "WATCHDOG_USEC": "1000000",
        "WATCHDOG_PID": str(os.getpid()),
        "QT_QPA_PLATFORM": "offscreen",
        "KIOSK_CONFIG": str(tmp_path / "etc" / "terminal.toml"),
        "KIOSK_DATA_DIR": str(tmp_path / "data"),
        "KIOSK_PROVISION_ARGS": str(tmp_path / "no-such-file"),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "main.py")], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL
    )
    try:
        sink.wait_for("READY=1", 120)
        assert any("STATUS=first boot" in m for m in sink.messages)
        sink.wait_for("WATCHDOG=1", 5)
        assert not (tmp_path / "etc" / "terminal.toml").exists() and not (tmp_path / "data").exists()
        proc.send_signal(signal.SIGTERM)
        sink.wait_for("STOPPING=1", 30)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sink.close()


def test_the_code_is_typed_on_the_on_screen_keys() -> None:
    """The enrolment code field brings up the on-screen keys (Latin letters whatever the language,
    digits on the symbol layout) above which the field stays; in a fresh process, as on the
    terminal (tests/ui/first_boot_keyboard_run.py)."""
    typed = result_of(run_fresh("first_boot_keyboard_run.py"))
    assert typed == {"shown": True, "field_above_keys": True, "typed": 8, "text": "k7q2x9ab"}
