"""Issue 17, staff access on screen: a PIV staff card that wants its PIN brings up the PIN pad
over the attract screen (offscreen Qt, the real terminal with its simulators and sandbox platform);
the right PIN opens maintenance, five wrong ones lock the staff id and the lockout alert reaches the
sandbox platform through the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QLabel

from devices.base import DeviceStatus
from kiosk.config import TerminalConfig
from kiosk.i18n import set_language
from kiosk.maintenance.staff_card import Role
from kiosk.session.machine import Step
from terminal.app import KioskUi, make_app
from terminal.demo import DemoDriver
from terminal.runtime import Terminal, build_terminal

pytestmark = pytest.mark.slow

STAFF = "S9001"
PIN = "730514"


@pytest.fixture
def started(tmp_path: Path, face_verifier: Any, ocr_engine: Any) -> Iterator[tuple[Terminal, DemoDriver]]:
    set_language("zh")
    config = TerminalConfig(data_dir=str(tmp_path))
    terminal = build_terminal(config, tmp_path / "work", face=face_verifier, ocr=ocr_engine)
    assert terminal.bench is not None
    terminal.bench.staff_hall.staff[STAFF] = Role.OPERATOR
    ui = KioskUi(make_app(), terminal, fullscreen=False)
    out = tmp_path / "shots"
    out.mkdir()
    yield terminal, DemoDriver(ui, terminal, out)
    ui.close()
    terminal.close()
    QApplication.processEvents()


def _pad_up(driver: DemoDriver) -> bool:
    status = driver.window.findChild(QLabel, "maintPinStatus")
    return status is not None and status.isVisible()


def _type(driver: DemoDriver, pin: str) -> None:
    for digit in pin:
        driver.click(f"maintPinKey:{digit}")
    shown = driver.find("maintPinDisplay", QLabel).text()
    assert shown == "●" * len(pin) and pin not in shown  # masked
    driver.click("maintPinKey:ok")


def test_card_and_pin_open_maintenance_wrong_pins_lock_out_and_alert_the_platform(
    started: tuple[Terminal, DemoDriver],
) -> None:
    terminal, driver = started
    assert terminal.bench is not None
    driver.wait_step(Step.ATTRACT)

    terminal.bench.present_staff_card(STAFF, pin=PIN, retries=8)
    driver.wait_until(lambda: _pad_up(driver), 10.0, "PIN pad")
    assert driver.window.current_step() is Step.ATTRACT  # the card alone opens nothing
    assert "5" in driver.find("maintPinStatus", QLabel).text()
    _type(driver, PIN)
    driver.wait_step(Step.MAINTENANCE, timeout=10)
    assert terminal.maintenance is not None and terminal.maintenance.staff_id == STAFF
    driver.click("maintLeave")
    driver.wait_step(Step.ATTRACT, timeout=10)
    terminal.bench.remove_staff_card()
    driver.wait_until(
        lambda: terminal.maintenance is not None and terminal.maintenance.access.pending is None,
        5.0,
        "card gone",
    )
    watcher = terminal.staff_watcher
    assert watcher is not None  # the next card must be a new insertion, seen after the removal
    driver.wait_until(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 5.0, "the reader empty")

    terminal.bench.present_staff_card(STAFF, pin=PIN, retries=8)
    driver.wait_until(lambda: _pad_up(driver), 10.0, "PIN pad again")
    status = driver.find("maintPinStatus", QLabel)
    for left in (4, 3, 2, 1):
        _type(driver, "000000")
        driver.wait_until(lambda n=left: status.text() == f"密码错误，还可尝试 {n} 次", 10.0, f"{left} left")
    _type(driver, "000000")
    driver.wait_until(lambda: "已锁定" in status.text(), 10.0, "locked out")
    assert driver.window.current_step() is Step.ATTRACT

    terminal.drainer.kick()
    driver.wait_until(
        lambda: any(a["kind"] == "staff_lockout" for a in terminal.client.sandbox.alerts()), 15.0, "alert"
    )
    [alert] = [a for a in terminal.client.sandbox.alerts() if a["kind"] == "staff_lockout"]
    assert alert["details"]["staff"] == STAFF and alert["terminal_id"] == terminal.config.terminal_id
    assert PIN not in json.dumps(alert)
    terminal.bench.remove_staff_card()
