import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from devices.interfaces import IdCardText
from kiosk.review.engine import Decision, Outcome, ReviewEngine, build_inputs, run_golden_cases, unflatten
from kiosk.review.items import ItemPackage, load_package, load_packages
from kiosk.review.warnings import WarningList, check_warnings, load_warning_lists

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 23)

CITIZENS = {
    "senior": IdCardText(
        "张桂兰",
        "2",
        "01",
        dt.date(1952, 3, 14),
        "山东省德州市德城区新湖大街1号",
        "371402195203140022",
        "德州市公安局德城分局",
        dt.date(2016, 4, 1),
        None,
    ),
    "business": IdCardText(
        "李建国",
        "1",
        "01",
        dt.date(1988, 7, 21),
        "山东省德州市德城区东风中路88号",
        "37140219880721003X",
        "德州市公安局德城分局",
        dt.date(2018, 9, 10),
        dt.date(2038, 9, 10),
    ),
    "expired": IdCardText(
        "王晓明",
        "1",
        "01",
        dt.date(1979, 11, 2),
        "山东省德州市武城县广运街5号",
        "371428197911020016",
        "武城县公安局",
        dt.date(2004, 5, 10),
        dt.date(2024, 5, 10),
    ),
}
PREMISES = "山东省德州市德城区新华路26号"


@pytest.fixture(scope="module")
def packages() -> dict[str, ItemPackage]:
    return load_packages(ROOT / "items")


@pytest.fixture(scope="module")
def lists() -> dict[str, WarningList]:
    return load_warning_lists(ROOT / "items" / "warning_lists")


@pytest.fixture(scope="module")
def engine() -> ReviewEngine:
    return ReviewEngine()


@pytest.mark.parametrize("item_id", ["senior-card", "business-registration", "resident-pension"])
def test_golden_cases_pass(packages: dict[str, ItemPackage], engine: ReviewEngine, item_id: str) -> None:
    assert run_golden_cases(packages[item_id], engine) == []


@pytest.mark.parametrize("item_id", ["senior-card", "business-registration", "resident-pension"])
def test_every_rule_fires_in_some_golden_case(
    packages: dict[str, ItemPackage], engine: ReviewEngine, item_id: str
) -> None:
    pkg = packages[item_id]
    graph = json.loads(pkg.decision_jdm)
    rules = {
        r["_id"] for n in graph["nodes"] if n["type"] == "decisionTableNode" for r in n["content"]["rules"]
    }
    fired: set[str] = set()
    for case in pkg.golden_cases:
        trace = engine.review(pkg, case.inputs).trace["zen"]
        for node in trace.values():
            data = node.get("traceData")
            if isinstance(data, list):
                fired.update(row["rule"]["_id"] for row in data)
    assert rules - fired == set()


def _review(
    pkg: ItemPackage,
    lists: dict[str, WarningList],
    engine: ReviewEngine,
    citizen: str,
    form: dict[str, str],
    materials: dict[str, dict[str, str]] | None = None,
    cross: dict[str, bool] | None = None,
) -> Decision:
    card = CITIZENS[citizen]
    identifiers = {"id_number": card.id_number, "name": card.name}
    for key in ("business_name", "business_scope"):
        if key in form:
            identifiers[key] = form[key]
    hits = check_warnings(
        [lists[n] for n in pkg.warning_lists if n in lists],
        identifiers,
        today=TODAY,
        expected=pkg.warning_lists,
    )
    inputs = build_inputs(pkg, card, form, materials or {}, cross or {}, hits, TODAY)
    return engine.review(pkg, inputs)


def _card_form(card: IdCardText) -> dict[str, str]:
    return {"name": card.name, "id_number": card.id_number, "address": card.address}


def test_demo_senior_is_approved(packages: dict[str, ItemPackage], lists: Any, engine: ReviewEngine) -> None:
    card = CITIZENS["senior"]
    form = {**_card_form(card), "birth_date": card.birth_date.isoformat(), "age": "74"}
    decision = _review(packages["senior-card"], lists, engine, "senior", form)
    assert decision.outcome is Outcome.APPROVE
    assert decision.reasons == ("age_60_or_over",)
    assert decision.package_id == "senior-card"
    assert decision.package_sha256 == packages["senior-card"].sha256


BUSINESS_FORM = {
    "business_name": "德城区建国便利店",
    "business_scope": "日用百货零售",
    "premises_address": PREMISES,
    "phone": "13905340000",
}
LEASE = {"lessee": "李建国", "premises_address": PREMISES, "term_end": "2029-12-31"}
CROSS = {"lease.lessee": True, "lease.premises_address": True}


def test_demo_business_goes_to_manual_with_warning(
    packages: dict[str, ItemPackage], lists: Any, engine: ReviewEngine
) -> None:
    pkg = packages["business-registration"]
    form = {**_card_form(CITIZENS["business"]), **BUSINESS_FORM}
    decision = _review(pkg, lists, engine, "business", form, {"lease": LEASE}, CROSS)
    assert decision.outcome is Outcome.MANUAL
    assert decision.reasons == ("warning_dishonest",)
    assert "失信被执行人" in decision.reason_texts_zh[0]
    # the engine inputs hold flags, never the ID number or the name
    dumped = json.dumps(decision.to_record(), ensure_ascii=False)
    assert "37140219880721003X" not in dumped and "李建国" not in dumped


def test_business_without_the_warning_is_approved(
    packages: dict[str, ItemPackage], lists: Any, engine: ReviewEngine
) -> None:
    # same case, applicant not on the list (the senior's card, who is 74)
    pkg = packages["business-registration"]
    form = {**_card_form(CITIZENS["senior"]), **BUSINESS_FORM}
    cross = {"lease.lessee": True, "lease.premises_address": True}
    decision = _review(pkg, lists, engine, "senior", form, {"lease": LEASE}, cross)
    assert (decision.outcome, decision.reasons) == (Outcome.APPROVE, ("conditions_met",))


def test_business_material_and_phone_rules(
    packages: dict[str, ItemPackage], lists: Any, engine: ReviewEngine
) -> None:
    pkg = packages["business-registration"]
    form = {**_card_form(CITIZENS["senior"]), **BUSINESS_FORM}
    no_lease = _review(pkg, lists, engine, "senior", form)
    assert (no_lease.outcome, no_lease.reasons) == (Outcome.MANUAL, ("material_missing",))
    mismatch = _review(pkg, lists, engine, "senior", form, {"lease": LEASE}, {"lease.lessee": False})
    assert mismatch.outcome is Outcome.MANUAL
    assert set(mismatch.reasons) == {"lessee_mismatch", "premises_mismatch"}
    bad_phone = _review(pkg, lists, engine, "business", {**form, "phone": "12345"}, {"lease": LEASE}, CROSS)
    assert bad_phone.outcome is Outcome.REJECT  # reject wins over the manual warning
    assert bad_phone.reasons == ("phone_invalid",)
    negative = _review(
        pkg, lists, engine, "senior", {**form, "business_scope": "烟花爆竹零售"}, {"lease": LEASE}, CROSS
    )
    assert (negative.outcome, negative.reasons) == (Outcome.MANUAL, ("warning_market_access",))


def test_missing_warning_list_means_manual(packages: dict[str, ItemPackage], engine: ReviewEngine) -> None:
    pkg = packages["business-registration"]
    form = {**_card_form(CITIZENS["senior"]), **BUSINESS_FORM}
    decision = _review(pkg, {}, engine, "senior", form, {"lease": LEASE}, CROSS)
    assert (decision.outcome, decision.reasons) == (Outcome.MANUAL, ("warning_list_stale",))


def test_demo_expired_is_rejected(packages: dict[str, ItemPackage], lists: Any, engine: ReviewEngine) -> None:
    form = {**_card_form(CITIZENS["expired"]), "contribution_grade": "300"}
    decision = _review(packages["resident-pension"], lists, engine, "expired", form)
    assert decision.outcome is Outcome.REJECT
    assert decision.reasons == ("id_card_expired",)
    assert decision.reason_texts_zh == ("身份证件已过期",)
    assert decision.reason_texts_en == ("ID card expired",)


def test_build_inputs_names(packages: dict[str, ItemPackage]) -> None:
    pkg = packages["business-registration"]
    card = CITIZENS["business"]
    form = {**_card_form(card), **BUSINESS_FORM}
    inputs = build_inputs(pkg, card, form, {"lease": LEASE}, CROSS, [], TODAY)
    assert inputs["age"] == 38
    assert inputs["card_expired"] is False and inputs["id_number_valid"] is True
    assert inputs["materials.lease.present"] is True and inputs["materials.lease.complete"] is True
    assert inputs["cross_check.lease.lessee"] is True
    assert inputs["form.complete"] is True and inputs["form.phone.valid"] is True
    assert inputs["warnings.dishonest_persons"] is False
    assert inputs["today"] == "2026-11-23"
    assert not any(v in (card.name, card.id_number) for v in inputs.values())
    expired = build_inputs(packages["resident-pension"], CITIZENS["expired"], {}, {}, {}, [], TODAY)
    assert expired["card_expired"] is True
    # only what the package declares is assembled: resident-pension's rules never read the form
    assert "form.complete" not in expired and "document_kind" not in expired


def test_decision_record_and_transfer(packages: dict[str, ItemPackage], engine: ReviewEngine) -> None:
    pkg = packages["senior-card"]
    inputs = dict(pkg.golden_cases[0].inputs)
    first = engine.review(pkg, inputs)
    again = engine.review(pkg, dict(reversed(list(inputs.items()))))
    assert first.inputs_sha256 == again.inputs_sha256 and len(first.inputs_sha256) == 64
    assert first.elapsed_ms < 45_000
    json.dumps(first.to_record())
    moved = first.transferred("staff_identity", ("身份由工作人员核验", "Identity checked by staff"))
    assert moved.outcome is Outcome.MANUAL and moved.reasons[-1] == "staff_identity"
    fallback = Decision.manual_fallback(pkg, "review_timeout", elapsed_ms=1.0)
    assert fallback.outcome is Outcome.MANUAL and fallback.reason_texts_zh[0].startswith("智能审核超时")


# The deadline (a deliberately slow graph step) is tested in test_review_deadline.py.


def test_engine_error_gives_manual(engine: ReviewEngine) -> None:
    doc = json.loads((ROOT / "items" / "senior-card.json").read_text("utf-8"))
    graph = doc["review"]["decision"]
    graph["nodes"].append(
        {
            "id": "derive",
            "type": "expressionNode",
            "name": "derive",
            "content": {
                "expressions": [{"id": "x", "key": "over", "value": "age >= 60"}],
                "passThrough": True,
            },
        }
    )
    graph["edges"] = [
        {"id": "a", "sourceId": "request", "targetId": "derive"},
        {"id": "b", "sourceId": "derive", "targetId": "eligibility"},
        {"id": "c", "sourceId": "eligibility", "targetId": "response"},
    ]
    pkg = load_package(json.dumps(doc, ensure_ascii=False).encode())
    decision = engine.review(
        pkg, {"today": "2026-11-23", "card_expired": False}
    )  # age null: expression fails
    assert (decision.outcome, decision.reasons) == (Outcome.MANUAL, ("review_error",))


def test_golden_failure_is_reported(engine: ReviewEngine) -> None:
    doc = json.loads((ROOT / "items" / "resident-pension.json").read_text("utf-8"))
    doc = copy.deepcopy(doc)
    doc["golden_cases"][0]["expected_decision"] = "reject"
    pkg = load_package(json.dumps(doc, ensure_ascii=False).encode())
    failures = run_golden_cases(pkg, engine)
    assert [f.case for f in failures] == [doc["golden_cases"][0]["name"]]
    assert failures[0].actual_decision == "approve"


def test_no_rule_fired_is_manual(packages: dict[str, ItemPackage], engine: ReviewEngine) -> None:
    pkg = packages["senior-card"]
    # age given but the card state is null: no row matches; card_expired is a required input too
    decision = engine.review(pkg, {"today": "2026-11-23", "age": 70, "card_expired": None})
    assert decision.outcome is Outcome.MANUAL and "input_missing" in decision.reasons
    doc = json.loads((ROOT / "items" / "senior-card.json").read_text("utf-8"))
    doc["review"]["required_inputs"] = []
    loose = load_package(json.dumps(doc, ensure_ascii=False).encode())
    assert engine.review(loose, {"today": "2026-11-23"}).reasons == ("no_rule_matched",)


def test_unflatten() -> None:
    assert unflatten({"a.b": 1, "a.c": 2, "d": 3}) == {"a": {"b": 1, "c": 2}, "d": 3}
    with pytest.raises(ValueError):
        unflatten({"a": 1, "a.b": 2})
