"""A platform lookup through the UI (offscreen Qt, the whole terminal on the simulators and the
sandbox platform on 127.0.0.1): 异地就医备案 reads ``platform.insured_here``, which only the platform
knows.  Looked up, the item is decided on the spot; with the platform down it goes to staff, saying
why."""

from __future__ import annotations

import pytest
import requests
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from terminal.demo import DemoDriver
from terminal.demo_profile import DemoCitizen
from terminal.runtime import Terminal
from tests.conftest import Factory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ITEM = "out-of-area-medical-filing"
LI = DemoCitizen("business", ITEM, ("biden_live.jpg",))  # 李建国: insured here (the sandbox register)


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def _to_review(terminal: Terminal, driver: DemoDriver) -> str:
    """From the attract screen to the confirm screen; the decision text shown there."""
    driver.begin(ITEM)
    driver.present(LI)
    driver.wait_step(Step.FORM, timeout=60.0)
    driver.click("option:filing_kind:temporary")
    destination = driver.find("field:destination", QLineEdit)
    destination.setFocus()
    destination.insert("济南市")  # as an input method commits CJK text
    phone = driver.find("field:phone", QLineEdit)
    phone.setFocus()
    QTest.keyClicks(phone, "13905340000")
    driver.click("formNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=60.0)
    return str(driver.find("decisionText").text())


def _lookups(terminal: Terminal) -> list[dict[str, object]]:
    return [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == "platform_lookup"]


def test_the_platform_lookup_decides_the_item_on_the_spot(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    shown = _to_review(terminal, driver)
    decision = terminal.session.data.application.decision
    assert decision is not None and decision.outcome.value == "approve", decision
    assert decision.reasons == ("filing_accepted",)
    assert "转人工" not in shown
    [looked] = _lookups(terminal)
    assert looked["item"] == ITEM and looked["names"] == ["platform.insured_here"] and looked["error"] is None
    driver.sign()
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=60.0)


def test_with_the_platform_down_the_item_goes_to_staff_saying_why(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk(lookup_timeout_s=3.0)
    requests.post(
        terminal.sandbox.url + "/_sandbox/faults", json={"down": True}, timeout=5
    ).raise_for_status()
    try:
        shown = _to_review(terminal, driver)
    finally:
        requests.post(terminal.sandbox.url + "/_sandbox/faults", json={}, timeout=5).raise_for_status()
    decision = terminal.session.data.application.decision
    assert decision is not None and decision.outcome.value == "manual"
    assert decision.reasons[-1] == "platform_lookup_unavailable"
    assert "无法从平台查询审核所需信息" in shown
    assert _lookups(terminal)[-1]["error"] is not None
