"""The demo's hall services: one ticket, one appointment check-in and one progress lookup, tapped on
the welcome screen like a citizen; the printed tickets decoded from the printer simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

from kiosk.session.machine import Step

if TYPE_CHECKING:
    from terminal.demo import DemoDriver

#: The sandbox's demo appointment (李建国, market registration).
DEMO_APPOINTMENT = "YY7K3Q2M"
DEMO_PROGRESS_URL = "https://zwfw.example.gov.cn/progress/"


def _result(driver: DemoDriver) -> QLabel:
    found: QLabel = driver.find("hallResult", QLabel)
    return found


def _shot(driver: DemoDriver, shots: list[str], label: str) -> None:
    QApplication.processEvents()
    name = f"hall-{label}.png"
    driver.window.grab().save(str(driver.out / name))
    shots.append(name)


def _scan(driver: DemoDriver, payload: str) -> None:
    field: QLineEdit = driver.find("hallScan", QLineEdit)
    QTest.keyClicks(field, payload)
    QTest.keyClick(field, Qt.Key.Key_Return)


def _wait_text(driver: DemoDriver, text: str, what: str) -> str:
    driver.wait_until(lambda: text in driver.window.findChild(QLabel, "hallResult").text(), 30.0, what)
    return _result(driver).text()


def run_hall_demo(driver: DemoDriver, case_ref: str | None = None) -> list[dict[str, Any]]:
    """Each hall service once from the welcome screen; ``case_ref``: a case of the demo's sessions
    (its receipt's QR), else a seeded one."""
    driver.wait_step(Step.ATTRACT)
    printer = driver.bench.printer
    records: list[dict[str, Any]] = []

    shots: list[str] = []
    before = len(printer.receipts)
    driver.click("hall:ticket")
    _shot(driver, shots, "lines")
    driver.click("hall:line:social_security")
    _wait_text(driver, "B0", "the queue ticket")
    _shot(driver, shots, "ticket")
    ticket = printer.wait_for_receipts(before + 1)[before]
    records.append({"service": "ticket", "printed": ticket.text, "screenshots": shots})
    driver.click("hall:back")

    shots = []
    before = len(printer.receipts)
    driver.click("hall:checkin")
    _shot(driver, shots, "scan")
    _scan(driver, DEMO_APPOINTMENT)
    shown = _wait_text(driver, "签到成功", "the appointment check-in")
    _shot(driver, shots, "checked-in")
    ticket = printer.wait_for_receipts(before + 1)[before]
    records.append({"service": "checkin", "shown": shown, "printed": ticket.text, "screenshots": shots})
    driver.click("hall:back")

    shots = []
    driver.click("hall:progress")
    _scan(driver, DEMO_PROGRESS_URL + (case_ref or "SBXD0000102"))
    shown = _wait_text(driver, case_ref or "SBXD0000102", "the case progress")
    _shot(driver, shots, "progress")
    records.append({"service": "progress", "shown": shown, "screenshots": shots})
    driver.click("hall:back")
    return records
