"""Who applies (kiosk/review/applicants.py): the package lint, the form's checks of the parties,
the engine inputs, the case's parties and the receipt's lines."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from devices.idcard.sim_cards import sim_card
from kiosk.identity.cards import applicant_fields
from kiosk.outputs import render as outputs
from kiosk.review.applicants import applicant_value, parties
from kiosk.review.checks import uscc_check_char
from kiosk.review.engine import build_inputs
from kiosk.review.items import PackageRejected, load_package
from kiosk.session.steps.outputs import receipt_parties

ITEMS = Path(__file__).resolve().parents[2] / "items"
LI_ID, ZHANG_ID = "37140219880721003X", "371402195203140022"
USCC = "91371402MA3C12345" + uscc_check_char("91371402MA3C12345")


def _doc(item: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ITEMS / f"{item}.json").read_text("utf-8"))
    return doc


def _load(doc: dict[str, Any]) -> Any:
    return load_package(json.dumps(doc, ensure_ascii=False).encode())


def test_the_agent_form_needs_a_valid_principal() -> None:
    pkg = _load(_doc("hpf-withdrawal-rent"))
    base = {"name": "张桂兰", "id_number": ZHANG_ID, "address": "x", "bank_account": "6228480402564890018"}
    base["phone"] = "13905340000"
    assert pkg.validate_form({**base, "applicant_kind": "self"}) == {}
    assert pkg.validate_form({**base, "applicant_kind": "agent"}) == {
        "principal_id_number": "form.error.required",
        "principal_name": "form.error.required",
    }
    wrong = {
        **base,
        "applicant_kind": "agent",
        "principal_name": "李建国",
        "principal_id_number": LI_ID[:-1] + "1",
    }
    assert pkg.validate_form(wrong) == {"principal_id_number": "form.error.id_number"}
    right = {**wrong, "principal_id_number": LI_ID.lower()}
    assert pkg.validate_form(right) == {}


def test_the_legal_person_form_checks_the_uscc_check_character() -> None:
    pkg = _load(_doc("employer-social-insurance-registration"))
    base = {"name": "李建国", "id_number": LI_ID, "address": "x", "applicant_kind": "legal_person"}
    base |= {"company_name": "德州市德城区建国商贸有限公司", "phone": "13905340000"}
    assert pkg.validate_form({**base, "uscc": USCC}) == {}
    bad = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    assert pkg.validate_form({**base, "uscc": bad}) == {"uscc": "form.error.uscc"}
    assert applicant_value("applying.principal_valid", {**base, "uscc": bad}) is False
    assert applicant_value("applying.kind", {**base, "uscc": bad}) == "legal_person"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["form"]["fields"].pop(3), "a select field 'applicant_kind'"),
        (lambda d: d["form"]["fields"].pop(5), "needs the form field 'principal_id_number'"),
        (lambda d: d["applicants"].update(authorisation="letter"), "no material 'letter'"),
        (lambda d: d["applicants"].update(kinds=["self"]), "must offer exactly self"),
    ],
)
def test_the_lint_says_what_the_applicants_need(change: Any, problem: str) -> None:
    doc = copy.deepcopy(_doc("hpf-withdrawal-rent"))
    change(doc)
    with pytest.raises(PackageRejected, match=problem.replace("(", r"\(")):
        _load(doc)


def test_applying_inputs_need_the_applicants_declared() -> None:
    doc = copy.deepcopy(_doc("hpf-withdrawal-rent"))
    del doc["applicants"]
    with pytest.raises(PackageRejected, match="applying"):
        _load(doc)


def test_inputs_parties_and_receipt_of_an_agent_application() -> None:
    pkg = _load(_doc("hpf-withdrawal-rent"))
    card = sim_card("senior").text  # 张桂兰 at the terminal
    form = {"applicant_kind": "agent", "principal_name": "李建国", "principal_id_number": LI_ID}
    inputs = build_inputs(pkg, card, form, {}, {}, [], dt.date(2026, 11, 23))
    assert inputs["applying.kind"] == "agent" and inputs["applying.principal_valid"] is True
    assert inputs["materials.power_of_attorney.present"] is False
    assert inputs["cross_check.power_of_attorney.principal_id_number"] is None

    applying = parties(form, applicant_fields(card))
    assert applying.applicant == {"kind": "person", "id_number": LI_ID, "name": "李建国"}
    assert applying.agent is not None and applying.agent["id_number"] == ZHANG_ID
    assert LI_ID not in repr(applying)

    fields = receipt_parties(form, card)
    assert fields["applicant_name_masked"] == "李*国" and fields["agent_name_masked"] == "张*兰"
    assert fields["agent_id_number_masked"] == "3714**********0022"
    with pytest.raises(ValueError, match="agent ID number must be masked"):
        outputs.ReceiptData(
            hall_name="h",
            item_name="i",
            case_id="c",
            decision="approve",
            reasons=(),
            applicant_name_masked="李*国",
            id_number_masked="3714**********003X",
            submitted_at=dt.datetime(2026, 12, 3, 10, 0),
            pickup_text="",
            progress_url="https://x",
            contact_line="",
            agent_name_masked="张*兰",
            agent_id_number_masked=ZHANG_ID,
        )


def test_in_person_the_case_is_as_before() -> None:
    card = sim_card("senior").text
    applying = parties({}, applicant_fields(card))
    assert applying.kind == "self" and applying.agent is None
    assert applying.applicant == applicant_fields(card)
