"""The whole demo terminal (sandbox platform, simulators, window): the welcome screen carries the
hall services, and a ticket taken there comes out of the receipt printer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from terminal.demo_hall import run_hall_demo
from tests.conftest import Factory


def test_a_ticket_taken_on_the_welcome_screen_is_printed(kiosk: Factory) -> None:
    set_language("zh")
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    driver.wait_step(Step.ATTRACT, timeout=10)
    buttons = {k: ui.window.findChild(QPushButton, f"hall:{k}") for k in ("ticket", "checkin", "progress")}
    assert all(b is not None and b.isVisible() for b in buttons.values())
    QTest.mouseClick(buttons["ticket"], Qt.MouseButton.LeftButton)
    line = ui.window.findChild(QPushButton, "hall:line:social_security")
    assert line is not None and line.isVisible()
    before = len(terminal.bench.printer.receipts)
    QTest.mouseClick(line, Qt.MouseButton.LeftButton)
    result = ui.window.findChild(QLabel, "hallResult")
    assert result is not None
    driver.wait_until(lambda: "B001" in result.text(), 20.0, "the ticket on the welcome screen")
    printed = terminal.bench.printer.wait_for_receipts(before + 1)[before:]
    assert "B001" in printed[0].text and "本机临时号" not in printed[0].text
    assert terminal.session.step is Step.ATTRACT  # a hall service is no citizen session


def test_the_demo_runs_each_hall_service(kiosk: Factory) -> None:
    set_language("zh")
    terminal, _ui, driver = kiosk()
    records = run_hall_demo(driver)
    assert [r["service"] for r in records] == ["ticket", "checkin", "progress", "reprint"]
    assert "B001" in records[0]["printed"]
    assert "签到成功" in records[1]["shown"] and "C001" in records[1]["printed"]
    assert "SBXD0000102" in records[2]["shown"] and "待领取" in records[2]["shown"]
    assert "?t=" in records[2]["qr"]  # the receipt QR's verifiable reference
    assert any("SD-LNYD-2026-000101" in d for d in records[3]["documents"])
    assert "已打印 SD-LNYD-2026-000101" in records[3]["shown"] and "第1次补打" in records[3]["shown"]
    for r in records:
        for name in r["screenshots"]:
            assert (driver.out / name).stat().st_size > 5000
    assert terminal.session.step is Step.ATTRACT
