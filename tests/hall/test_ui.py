"""The welcome screen's hall panel driven by taps (Qt offscreen) against the sandbox platform on
127.0.0.1 and the ESC/POS printer simulator: 取号, 预约签到 by QR code and by ID card, 进度查询."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton

from devices.idcard.driver import SerialIdCardReader
from devices.idcard.simulator import IdCardSimulator
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.hall import HallServices
from kiosk.hall.reference import progress_url
from terminal.app import make_app
from tests.qt_wait import wait_for
from ui.facade_hall import HallFacade
from ui.screens.hall import HallPanel

BASE = "https://zwfw.example.gov.cn/progress/"


@pytest.fixture
def panel(hall: HallServices) -> Iterator[HallPanel]:
    make_app()
    widget = HallPanel(SimpleNamespace(hall=HallFacade(hall)))
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


def _tap(panel: HallPanel, name: str) -> None:
    button = panel.findChild(QPushButton, name)
    assert button is not None and button.isVisible(), name
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def _result(panel: HallPanel) -> QLabel:
    found = panel.findChild(QLabel, "hallResult")
    assert found is not None
    return found


def _scan(panel: HallPanel, payload: str) -> None:
    field = panel.findChild(QLineEdit, "hallScan")
    assert field is not None and field.isVisible()
    QTest.keyClicks(field, payload)
    QTest.keyClick(field, Qt.Key.Key_Return)


def test_the_three_hall_buttons_are_shown(panel: HallPanel) -> None:
    keys = ("ticket", "checkin", "progress", "reprint")
    texts = [panel.findChild(QPushButton, f"hall:{k}").text() for k in keys]  # type: ignore[union-attr]
    assert texts == ["取号", "预约签到", "进度查询", "证照打印"]


def test_a_ticket_is_taken_by_tapping_a_business_line(
    panel: HallPanel, printer: ReceiptPrinterSimulator
) -> None:
    _tap(panel, "hall:ticket")
    _tap(panel, "hall:line:market_registration")
    wait_for(lambda: "C001" in _result(panel).text(), "the ticket on screen")
    assert "前面等候：0人" in _result(panel).text()
    printed = printer.wait_for_receipts(1)[0].text
    assert "C001" in printed and "市场登记" in printed


def test_an_appointment_is_checked_in_by_its_qr_code(
    panel: HallPanel, printer: ReceiptPrinterSimulator
) -> None:
    _tap(panel, "hall:checkin")
    _scan(panel, "YY4H8T6P")
    wait_for(lambda: "A001" in _result(panel).text(), "the check-in ticket on screen")
    assert "签到成功" in _result(panel).text()
    assert "预约：10:00-10:30" in printer.wait_for_receipts(1)[0].text
    _tap(panel, "hall:back")
    _tap(panel, "hall:checkin")
    _scan(panel, "YY4H8T6P")  # already checked in
    wait_for(lambda: "未找到可签到的预约" in _result(panel).text(), "nothing left to check in")


def test_an_appointment_is_checked_in_by_id_card(
    panel: HallPanel, hall: HallServices, printer: ReceiptPrinterSimulator
) -> None:
    sim = IdCardSimulator().start()
    reader = SerialIdCardReader(sim.port, 115200, poll_interval=0.05)
    try:
        reader.open()
        hall.card_reader = reader
        sim.insert("business")
        _tap(panel, "hall:checkin")
        _tap(panel, "hall:card")
        wait_for(lambda: "C001" in _result(panel).text(), "the check-in ticket on screen")
        assert "09:30-10:00" in printer.wait_for_receipts(1)[0].text
    finally:
        reader.close()
        sim.stop()


def test_progress_is_listed_from_the_receipts_qr(panel: HallPanel, hall: HallServices) -> None:
    key = hall.platform.client.lookup_key  # type: ignore[union-attr]
    _tap(panel, "hall:progress")
    _scan(panel, progress_url(BASE, "SBXD0000102", key))
    wait_for(lambda: "SBXD0000102" in _result(panel).text(), "the progress on screen")
    shown = _result(panel).text()
    assert "待领取" in shown and "2号窗口" in shown
    _tap(panel, "hall:back")
    _tap(panel, "hall:progress")
    _scan(panel, progress_url(BASE, "NOPE0001", key))
    wait_for(lambda: "未查到办件" in _result(panel).text(), "no cases")
    _tap(panel, "hall:back")
    _tap(panel, "hall:progress")
    _scan(panel, BASE + "SBXD0000102")  # a reference without its tag opens nothing
    wait_for(lambda: "无法核验" in _result(panel).text(), "the unverified reference refused")


def test_offline_the_panel_shows_a_local_number(tmp_path: Path, printer: ReceiptPrinterSimulator) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from devices.printer.escpos_printer import EscPosReceiptPrinter
    from kiosk.cases.platform_client import PlatformClient
    from kiosk.cases.platform_hall import HallPlatform

    make_app()
    with PlatformClient(
        "http://127.0.0.1:9", "H1", timeout=1.0, signing_key=Ed25519PrivateKey.generate()
    ) as c:
        services = HallServices(
            HallPlatform(c),
            EscPosReceiptPrinter("127.0.0.1", printer.port),
            hall_name="德州市政务服务中心",
            terminal_id="H1",
            counter_path=tmp_path / "counter.json",
        )
        panel = HallPanel(SimpleNamespace(hall=HallFacade(services)))
        panel.show()
        _tap(panel, "hall:ticket")
        _tap(panel, "hall:line:general")
        wait_for(lambda: "LZ001" in _result(panel).text(), "the local ticket on screen")
        assert "本机临时号" in _result(panel).text()
        _tap(panel, "hall:back")
        _tap(panel, "hall:progress")
        _scan(panel, progress_url(BASE, "SBXD0000102", b"k"))
        wait_for(lambda: "平台暂时无法连接" in _result(panel).text(), "progress needs the platform")
        panel.close()
    assert "本机临时号" in printer.wait_for_receipts(1)[0].text
