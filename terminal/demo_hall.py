"""The demo's hall services: one ticket, one appointment check-in, one progress lookup (the receipt's
verifiable QR) and one certificate reprint after ID card + face, tapped on the welcome screen like a
citizen; the printed tickets decoded from the printer simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton

from kiosk.hall.reference import progress_url
from kiosk.session.machine import Step
from terminal.demo_profile import DEMO_CITIZENS

if TYPE_CHECKING:
    from terminal.demo import DemoDriver

#: The sandbox's demo appointment (李建国, market registration).
DEMO_APPOINTMENT = "YY7K3Q2M"


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
    terminal = driver.terminal
    qr = progress_url(
        terminal.config.ui.progress_url_base, case_ref or "SBXD0000102", terminal.client.lookup_key
    )
    _scan(driver, qr)
    shown = _wait_text(driver, case_ref or "SBXD0000102", "the case progress")
    _shot(driver, shots, "progress")
    records.append({"service": "progress", "qr": qr, "shown": shown, "screenshots": shots})
    driver.click("hall:back")
    records.append(_reprint(driver))
    return records


def _reprint(driver: DemoDriver) -> dict[str, Any]:
    """证照打印: 张桂兰's card and face, her documents listed, her certificate reprinted."""
    shots: list[str] = []
    driver.bench.idcard.remove()
    driver.present(DEMO_CITIZENS[0])
    driver.click("hall:reprint")
    driver.click("hall:card")
    driver.wait_until(
        lambda: driver.window.findChild(QPushButton, "hall:doc:0") is not None, 60.0, "the documents"
    )
    _shot(driver, shots, "reprint-documents")
    documents = [
        b.text() for b in driver.window.findChildren(QPushButton) if b.objectName().startswith("hall:doc:")
    ]
    driver.click("hall:doc:0")
    driver.wait_until(
        lambda: "已打印" in driver.window.findChild(QLabel, "hallReprintStatus").text(), 60.0, "the reprint"
    )
    _shot(driver, shots, "reprinted")
    shown = driver.window.findChild(QLabel, "hallReprintStatus").text()
    driver.click("hall:back")
    driver.bench.idcard.remove()
    return {"service": "reprint", "documents": documents, "shown": shown, "screenshots": shots}
