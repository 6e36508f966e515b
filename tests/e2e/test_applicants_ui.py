"""Applications by an agent (代办) and for a legal person (法人) through the UI (offscreen Qt, the
whole terminal on the simulators, the sandbox platform on 127.0.0.1, real OCR of rendered pages).

* 住房公积金提取（租房）: 张桂兰 identifies with her card and face and applies for 李建国 with his power of
  attorney, OCR-checked against the principal's ID number she types and her own card; the platform
  lookup asks about the principal; the case's applicant is 李建国, its agent 张桂兰; the receipt
  names both.
* 用人单位社会保险登记: 李建国, the legal representative named on the business licence, registers his
  company (USCC with a valid check character, matching the licence)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QLineEdit

from kiosk.i18n import set_language
from kiosk.review.checks import uscc_check_char
from kiosk.session.machine import Step
from terminal.demo import DemoDriver
from terminal.demo_profile import DemoCitizen
from terminal.runtime import Terminal
from tests.conftest import Factory
from tests.kiosk.lease_pages import lease_page_one, render_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ZHANG = DemoCitizen("senior", "hpf-withdrawal-rent", ("obama_live1.jpg", "obama_live2.jpg"))
LI = DemoCitizen("business", "employer-social-insurance-registration", ("biden_live.jpg",))
LI_ID, ZHANG_ID = "37140219880721003X", "371402195203140022"
USCC = "91371402MA3C" + "12345"  # 17 characters; the check character follows GB 32100
USCC += uscc_check_char(USCC)


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def _type(driver: DemoDriver, key: str, text: str) -> None:
    edit = driver.find(f"field:{key}", QLineEdit)
    edit.setFocus()
    if text.isascii():
        QTest.keyClicks(edit, text)
    else:  # as an input method commits CJK text
        edit.insert(text)


def _identify(driver: DemoDriver, citizen: DemoCitizen) -> None:
    driver.begin(citizen.item_id)
    driver.present(citizen)
    driver.wait_step(Step.FORM, timeout=60.0)


def _capture(driver: DemoDriver, material: str, page: Any) -> None:
    driver.bench.place_document(page)
    driver.capture_page(material)
    driver.confirm_material(material)


def _finish(terminal: Terminal, driver: DemoDriver) -> tuple[dict[str, Any], str]:
    """From the materials to the printed receipt: the case as stored and the receipt's text."""
    before = len(driver.bench.printer.receipts)
    driver.click("materialsNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=120.0)
    decision = terminal.session.data.application.decision
    assert decision is not None and decision.outcome.value == "approve", (
        decision.reasons if decision else None
    )
    case_id = terminal.session.data.case.case_id
    driver.sign()
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=60.0)
    stored = terminal.store.cases.get(terminal.session.data.case.case_id or case_id or "")
    assert stored is not None
    receipt = driver.bench.printer.wait_for_receipts(before + 1, timeout=30.0)[before]
    return json.loads(stored.payload), receipt.text


def test_an_agent_applies_for_the_principal_with_a_power_of_attorney(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    _identify(driver, ZHANG)
    driver.click("option:applicant_kind:agent")
    _type(driver, "principal_name", "李建国")
    _type(driver, "principal_id_number", LI_ID)
    _type(driver, "bank_account", "6228480402564890018")
    _type(driver, "phone", "13905340000")
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)
    _capture(driver, "tenancy_agreement", lease_page_one())
    _capture(
        driver,
        "power_of_attorney",
        render_page(
            [
                "授权委托书",
                "委托人：李建国",
                f"委托人身份证号：{LI_ID}",
                "受托人：张桂兰",
                f"受托人身份证号：{ZHANG_ID}",
                "委托事项：代为办理住房公积金提取（租房）",
            ]
        ),
    )
    result = terminal.session.data.application.materials["power_of_attorney"]
    assert {c.field: c.match for c in result.checks} == {"principal_id_number": True, "agent_id_number": True}
    case, receipt = _finish(terminal, driver)

    assert case["applicant_kind"] == "agent"
    assert case["applicant"]["id_number"] == LI_ID and case["applicant"]["name"] == "李建国"
    assert case["agent"]["id_number"] == ZHANG_ID and case["agent"]["role"] == "agent"
    lookups = [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == "platform_lookup"]
    assert lookups[-1]["error"] is None  # 李建国 owns no home (the sandbox register): approved
    assert "申 请 人：李*国" in receipt and "代 办 人：张*兰" in receipt
    assert "3714**********003X" in receipt and "3714**********0022" in receipt
    assert LI_ID not in receipt and ZHANG_ID not in receipt


def test_an_agent_without_the_principals_valid_number_is_told_on_the_form(kiosk: Factory) -> None:
    _terminal, _ui, driver = kiosk()
    _identify(driver, ZHANG)
    driver.click("option:applicant_kind:agent")
    _type(driver, "principal_name", "李建国")
    _type(driver, "principal_id_number", "371402198807210031")  # wrong check character
    _type(driver, "bank_account", "6228480402564890018")
    _type(driver, "phone", "13905340000")
    driver.click("formNext")
    QTest.qWait(300)
    assert driver.window.current_step() is Step.FORM  # nothing lost: the form stays as typed
    shown = [w.text() for w in driver.window.findChildren(QLabel, "fieldError") if w.isVisible()]
    assert shown == ["⚠ 身份证号码不正确"]
    assert driver.find("field:principal_id_number", QLineEdit).text() == "371402198807210031"
    assert driver.find("field:principal_name", QLineEdit).text() == "李建国"


def test_the_legal_representative_registers_the_company(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    _identify(driver, LI)
    _type(driver, "company_name", "德州市德城区建国商贸有限公司")
    _type(driver, "uscc", USCC)
    _type(driver, "phone", "13905340000")
    driver.click("formNext")
    driver.wait_step(Step.MATERIALS)
    _capture(
        driver,
        "business_licence",
        render_page(
            [
                "营业执照",
                f"统一社会信用代码：{USCC}",
                "名称：德州市德城区建国商贸有限公司",
                "类型：有限责任公司",
                "法定代表人：李建国",
                "住所：山东省德州市德城区新华路26号",
            ]
        ),
    )
    result = terminal.session.data.application.materials["business_licence"]
    assert {c.field: c.match for c in result.checks} == {"uscc": True, "representative": True}
    case, receipt = _finish(terminal, driver)
    assert case["applicant_kind"] == "legal_person"
    assert case["applicant"] == {"kind": "legal_person", "uscc": USCC, "name": "德州市德城区建国商贸有限公司"}
    assert case["agent"]["id_number"] == LI_ID and case["agent"]["role"] == "representative"
    assert f"信用代码：{USCC[:4]}" in receipt and "代 办 人：李*国" in receipt
