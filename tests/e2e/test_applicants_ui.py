"""Applications by an agent (代办) and for a legal person (法人) through the UI (offscreen Qt, the
whole terminal on the simulators, the sandbox platform on 127.0.0.1, real OCR of rendered pages).

* 住房公积金提取（租房）: 张桂兰 identifies with her card and face and applies for 王晓明 with his power of
  attorney, OCR-checked against the principal's ID number she types and her own card; the platform
  lookup asks about the principal; the case's applicant is 王晓明, its agent 张桂兰; the receipt
  names both.  Applying for 李建国, who is on the dishonest-persons list, she gets the prudent
  prompt naming him (masked) and the application goes to staff.
* 用人单位社会保险登记: 李建国, the legal representative named on the business licence, registers his
  company (USCC with a valid check character, matching the licence); the receipt names him 法定代表人."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from terminal.demo import DemoDriver
from terminal.demo_applicants import (
    LI,
    LI_ID,
    USCC,
    WANG_ID,
    ZHANG,
    ZHANG_ID,
    business_licence,
    capture,
    fill_agent_form,
    fill_legal_person_form,
    identify,
    power_of_attorney,
    submit,
    type_field,
)
from terminal.docgen_pages import lease_page_one
from terminal.runtime import Terminal
from tests.conftest import Factory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def _finish(terminal: Terminal, driver: DemoDriver) -> tuple[dict[str, Any], str]:
    """From the materials to the printed receipt: the case as stored and the receipt's text."""
    case, receipt = submit(driver)
    return case, receipt.text


def test_an_agent_applies_for_the_principal_with_a_power_of_attorney(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    identify(driver, ZHANG)
    fill_agent_form(driver)
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)
    capture(driver, "tenancy_agreement", lease_page_one())
    capture(driver, "power_of_attorney", power_of_attorney())
    result = terminal.session.data.application.materials["power_of_attorney"]
    assert {c.field: c.match for c in result.checks} == {"principal_id_number": True, "agent_id_number": True}
    case, receipt = _finish(terminal, driver)

    assert case["applicant_kind"] == "agent"
    assert case["applicant"]["id_number"] == WANG_ID and case["applicant"]["name"] == "王晓明"
    assert case["agent"]["id_number"] == ZHANG_ID and case["agent"]["role"] == "agent"
    assert case["warnings"] == []  # neither is on the item's warning list
    lookups = [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == "platform_lookup"]
    assert lookups[-1]["error"] is None  # 王晓明 owns no home (the sandbox register): approved
    assert "申 请 人：王*明" in receipt and "代 办 人：张*兰" in receipt
    assert "3714**********0016" in receipt and "3714**********0022" in receipt
    assert WANG_ID not in receipt and ZHANG_ID not in receipt


def test_an_agent_applying_for_a_listed_principal_gets_the_prudent_prompt(kiosk: Factory) -> None:
    """李建国 is on the dishonest-persons list: 张桂兰 at the terminal does not make his application
    an on-the-spot approval."""
    _terminal, _ui, driver = kiosk()
    identify(driver, ZHANG)
    fill_agent_form(driver, "李建国", LI_ID)
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)
    capture(driver, "tenancy_agreement", lease_page_one())
    capture(driver, "power_of_attorney", power_of_attorney("李建国", LI_ID))
    seen: dict[str, str] = {}

    def on_confirm(screen: str) -> None:  # submit() calls it on the confirm screen, then the result
        if screen == "confirm_sign":
            seen["decision"] = str(driver.find("decisionText").text())

    case, decoded = submit(driver, on_confirm, expect="manual")
    receipt, shown = decoded.text, seen["decision"]
    assert (
        "审慎提示" in shown
        and "失信被执行人名单" in shown
        and "涉及：委托人 李*国 3714**********003X" in shown
    )
    assert case["decision"]["reasons"] == ["warning_dishonest", "warning_principal"]
    assert case["warnings"] == [
        {
            "list": "dishonest_persons",
            "version": "2025.1",
            "matched": True,
            "stale": False,
            "party": "principal",
        }
    ]
    flat = receipt.replace("\n", "")
    assert "委托人 李*国 3714**********003X在警示名单中" in flat and "代 办 人：张*兰" in flat
    assert LI_ID not in receipt + shown and ZHANG_ID not in receipt + shown


def test_an_agent_without_the_principals_valid_number_is_told_on_the_form(kiosk: Factory) -> None:
    _terminal, _ui, driver = kiosk()
    identify(driver, ZHANG)
    driver.click("option:applicant_kind:agent")
    type_field(driver, "principal_name", "李建国")
    type_field(driver, "principal_id_number", "371402198807210031")  # wrong check character
    type_field(driver, "bank_account", "6228480402564890018")
    type_field(driver, "phone", "13905340000")
    driver.click("formNext")
    QTest.qWait(300)
    assert driver.window.current_step() is Step.FORM  # nothing lost: the form stays as typed
    shown = [w.text() for w in driver.window.findChildren(QLabel, "fieldError") if w.isVisible()]
    assert shown == ["⚠ 身份证号码不正确"]
    assert driver.find("field:principal_id_number", QLineEdit).text() == "371402198807210031"
    assert driver.find("field:principal_name", QLineEdit).text() == "李建国"


def test_the_legal_representative_registers_the_company(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    identify(driver, LI)
    fill_legal_person_form(driver)
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)
    capture(driver, "business_licence", business_licence())
    result = terminal.session.data.application.materials["business_licence"]
    assert {c.field: c.match for c in result.checks} == {"uscc": True, "representative": True}
    case, receipt = _finish(terminal, driver)
    assert case["applicant_kind"] == "legal_person"
    assert case["applicant"] == {"kind": "legal_person", "uscc": USCC, "name": "德州市德城区建国商贸有限公司"}
    assert case["agent"]["id_number"] == LI_ID and case["agent"]["role"] == "legal_representative"
    assert f"信用代码：{USCC[:4]}" in receipt and "法定代表人：李*国" in receipt
    assert "法定代表人证件：3714**********003X" in receipt and "代 办 人" not in receipt
