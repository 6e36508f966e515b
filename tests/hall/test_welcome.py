"""The whole demo terminal (sandbox platform, simulators, window): the welcome screen carries the
hall services, and a ticket taken there comes out of the receipt printer."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk.i18n import set_language
from kiosk.session.machine import Step
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
