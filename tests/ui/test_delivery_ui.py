"""The delivery choice on the confirm/sign screen, offscreen, as a citizen taps it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget

from kiosk.i18n import set_language, tr
from kiosk.session.machine import Step
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory

pytestmark = pytest.mark.slow
SENIOR, BUSINESS, EXPIRED = DEMO_CITIZENS


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    set_language("zh")
    yield
    set_language("zh")


def _field_errors(window: QWidget) -> dict[str, str]:
    return {
        str(lab.property("field")): lab.text()
        for lab in window.findChildren(QLabel, "fieldError")
        if lab.property("field") and lab.isVisible()
    }


def test_express_address_errors_shown_per_field_then_accepted(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    driver.begin(SENIOR.item_id)
    driver.present(SENIOR)
    driver.wait_step(Step.FORM, timeout=60)
    driver.click("formNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=60)

    offered = {
        b.objectName()
        for b in ui.window.findChildren(QPushButton)
        if b.objectName().startswith("delivery:") and b.isVisible()
    }
    assert offered == {"delivery:print_here", "delivery:window", "delivery:express"}
    assert driver.find("delivery:print_here", QPushButton).isChecked()  # the item's default
    form = ui.window.findChild(QWidget, "expressForm")
    assert form is not None and not form.isVisible()

    driver.choose_delivery(
        "express", {"mobile": "12345", "address": "北京市朝阳区建国路1号", "postal_code": "2530"}
    )
    assert form.isVisible()
    assert driver.find("express:recipient", QLineEdit).text() == "张桂兰"  # pre-filled from the card
    driver.sign()
    driver.click("signSubmit")
    assert ui.window.current_step() is Step.CONFIRM_SIGN  # not submitted
    assert _field_errors(ui.window) == {
        "recipient": "",
        "mobile": tr("delivery.error.mobile"),
        "address": tr("delivery.error.address_outside"),
        "postal_code": tr("delivery.error.postal_code"),
    }
    assert sum(terminal.store.outbox.counts(cases=True).values()) == 0  # no case filed yet

    driver.choose_delivery("express", {"address": "山东省德州市德城区", "postal_code": "253000"})
    driver.click("signSubmit")
    assert _field_errors(ui.window)["address"] == tr("delivery.error.address_incomplete")
    assert _field_errors(ui.window)["mobile"] == tr("delivery.error.mobile")

    driver.choose_delivery("express", {"mobile": "13905340000", "address": "山东省德州市德城区新湖大街1号"})
    before = len(terminal.bench.printer.receipts)
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=30)
    [receipt] = terminal.bench.printer.wait_for_receipts(before + 1)[before:]
    assert "取件方式：快递送达" in receipt.text
    assert "收件地址：山东省德州市德城区******" in receipt.text
    assert "联系电话：139****0000" in receipt.text and "邮政编码：253000" in receipt.text
    assert terminal.session.data.case.delivery.method.value == "express"
    driver.wait_until(
        lambda: tr("citizen.next.express") in driver.find("resultPrintStatus").text(), 10, "result"
    )


def test_english_session_window_pickup_through_the_ui(kiosk: Factory) -> None:
    _terminal, _ui, driver = kiosk()
    driver.click("language")
    record = driver.run_citizen(SENIOR, delivery="window")
    assert record.decision == "approve"
    assert record.delivery == "window"
    assert record.queue_number is not None
    text = " ".join(record.receipt_text.splitlines())
    assert "Completion receipt" in text and f"Case no.: {record.case_number}" in text
    assert "Delivery: At the window" in text and f"Queue no.: {record.queue_number}" in text
    pickup, ticket = record.slips
    assert "Pick-up slip" in pickup and "Queue ticket" in ticket
    assert record.queue_number in ticket.splitlines()
    assert tr("citizen.next.queue", "en", n=record.queue_number) in record.result_text
    assert record.certificate is None  # picked up at the window, not printed here
    assert record.summary()["delivery"] == "window"
