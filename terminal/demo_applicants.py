"""The demo's applications for someone else (kiosk/review/applicants.py), through the whole UI:

* 住房公积金提取（租房）by an agent (代办): 张桂兰 identifies with her card and face and applies for
  王晓明, typing his name and ID number, with the lease and his power of attorney (OCR-checked
  against both ID numbers).  (An agent applying for 李建国, who is on the dishonest-persons list,
  gets the prudent prompt and manual review: tests/e2e/test_applicants_ui.py.)
* 用人单位社会保险登记 for a legal person (法人): 李建国, the legal representative named on the
  business licence, registers his company by its USCC (GB 32100 check character).

Each session is screenshotted step by step; its receipt is decoded from the printer's bytes (text
and PNG).  The driving helpers here are shared with tests/e2e/test_applicants_ui.py."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from kiosk.review.checks import uscc_check_char
from kiosk.session.machine import Step
from terminal.demo_profile import DemoCitizen
from terminal.docgen_pages import lease_page_one, render_page

if TYPE_CHECKING:
    from devices.printer.decoder import DecodedReceipt
    from terminal.demo import DemoDriver

ZHANG = DemoCitizen("senior", "hpf-withdrawal-rent", ("obama_live1.jpg", "obama_live2.jpg"))
LI = DemoCitizen("business", "employer-social-insurance-registration", ("biden_live.jpg",))
LI_ID, ZHANG_ID = "37140219880721003X", "371402195203140022"
#: the demo agent's principal: not on a warning list, no home of his own (the sandbox registers)
WANG, WANG_ID = "王晓明", "371428197911020016"
COMPANY = "德州市德城区建国商贸有限公司"
USCC = "91371402MA3C" + "12345"  # 17 characters; the check character follows GB 32100
USCC += uscc_check_char(USCC)


def type_field(driver: DemoDriver, key: str, text: str) -> None:
    edit = driver.find(f"field:{key}", QLineEdit)
    edit.setFocus()
    if text.isascii():
        QTest.keyClicks(edit, text)
    else:  # as an input method commits CJK text
        edit.insert(text)


def identify(driver: DemoDriver, citizen: DemoCitizen) -> None:
    """From the welcome screen through the ID card and face check to the form."""
    driver.begin(citizen.item_id)
    driver.present(citizen)
    driver.wait_step(Step.FORM, timeout=60.0)


def capture(driver: DemoDriver, material: str, page: Any) -> None:
    driver.bench.place_document(page)
    driver.capture_page(material)
    driver.confirm_material(material)


def power_of_attorney(principal: str = WANG, principal_id: str = WANG_ID) -> Any:
    return render_page(
        [
            "授权委托书",
            f"委托人：{principal}",
            f"委托人身份证号：{principal_id}",
            "受托人：张桂兰",
            f"受托人身份证号：{ZHANG_ID}",
            "委托事项：代为办理住房公积金提取（租房）",
        ]
    )


def business_licence() -> Any:
    return render_page(
        [
            "营业执照",
            f"统一社会信用代码：{USCC}",
            f"名称：{COMPANY}",
            "类型：有限责任公司",
            "法定代表人：李建国",
            "住所：山东省德州市德城区新华路26号",
        ]
    )


def fill_agent_form(driver: DemoDriver, principal: str = WANG, principal_id: str = WANG_ID) -> None:
    driver.click("option:applicant_kind:agent")
    type_field(driver, "principal_name", principal)
    type_field(driver, "principal_id_number", principal_id)
    type_field(driver, "bank_account", "6228480402564890018")
    type_field(driver, "phone", "13905340000")


def fill_legal_person_form(driver: DemoDriver) -> None:
    type_field(driver, "company_name", COMPANY)
    type_field(driver, "uscc", USCC)
    type_field(driver, "phone", "13905340000")


def submit(
    driver: DemoDriver, shot: Any = None, expect: str = "approve"
) -> tuple[dict[str, Any], DecodedReceipt]:
    """From the materials to the printed receipt: the case as stored and the decoded receipt.
    ``shot(name)`` screenshots the confirm and result screens; ``expect``: the outcome the review
    must give."""
    terminal = driver.terminal
    before = len(driver.bench.printer.receipts)
    driver.click("materialsNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=120.0)
    decision = terminal.session.data.application.decision
    if decision is None or decision.outcome.value != expect:
        raise RuntimeError(f"not {expect}: {decision.reasons if decision else None}")
    case_id = terminal.session.data.case.case_id
    driver.sign()
    if shot is not None:
        shot("confirm_sign")
    driver.click("signSubmit")
    driver.wait_step(Step.RESULT, timeout=60.0)
    stored = terminal.store.cases.get(terminal.session.data.case.case_id or case_id or "")
    if stored is None:
        raise RuntimeError("the case was not stored")
    receipt = driver.bench.printer.wait_for_receipts(before + 1, timeout=30.0)[before]
    if shot is not None:
        shot("result")
    return json.loads(stored.payload), receipt


def _session(driver: DemoDriver, label: str, citizen: DemoCitizen, shots: list[str]) -> dict[str, Any]:
    def shot(what: str) -> None:
        QApplication.processEvents()
        name = f"applicant-{label}-{len(shots) + 1:02d}-{what}.png"
        driver.window.grab().save(str(driver.out / name))
        shots.append(name)

    driver.wait_step(Step.ATTRACT)
    identify(driver, citizen)
    if label == "agent":
        fill_agent_form(driver)
        shot("form")
        driver.click("formNext")
        driver.wait_step(Step.MATERIALS)
        capture(driver, "tenancy_agreement", lease_page_one())
        capture(driver, "power_of_attorney", power_of_attorney())
    else:
        fill_legal_person_form(driver)
        shot("form")
        driver.click("formNext")
        driver.wait_step(Step.MATERIALS)
        capture(driver, "business_licence", business_licence())
    shot("materials")
    case, receipt = submit(driver, shot)
    stem = f"applicant-{label}-receipt"
    (driver.out / f"{stem}.txt").write_text(receipt.text, encoding="utf-8")
    (driver.out / f"{stem}.png").write_bytes(driver.bench.printer.render_png(receipt))
    driver.bench.idcard.remove()
    driver.click("resultDone")
    driver.wait_step(Step.RATING)
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)
    agent = case.get("agent") or {}
    return {
        "item": citizen.item_id,
        "applicant_kind": case["applicant_kind"],
        "applicant_type": case["applicant"].get("kind"),
        "agent_role": agent.get("role"),
        "case_id": case["case_id"],
        "decision": case["decision"]["outcome"],
        "receipt": f"{stem}.txt",
        "receipt_png": f"{stem}.png",
        "receipt_text": receipt.text,
    }


def run_applicants_demo(driver: DemoDriver) -> dict[str, Any]:
    """The agent's and the legal person's application; their screenshots and receipts."""
    shots: list[str] = []
    sessions = [_session(driver, "agent", ZHANG, shots), _session(driver, "legal_person", LI, shots)]
    return {"sessions": sessions, "screenshots": shots}
