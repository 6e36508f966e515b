"""The hall's catalogue as the packages in items/ make it: what every item must say, search by
name, keyword, pinyin and initials, departments and life events, manual items, declared inputs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from devices.idcard.sim_cards import sim_card
from kiosk.review.author import lint
from kiosk.review.engine import Outcome, ReviewEngine, build_inputs, run_golden_cases
from kiosk.review.items import ItemPackage, PackageRejected, load_package, load_packages
from kiosk.review.search import SearchIndex, life_events
from kiosk.session.catalogue import Catalogue
from offline_cache.store import Store
from tests.kiosk.steps.helpers import stock

ITEMS = Path(__file__).resolve().parents[2] / "items"


@pytest.fixture(scope="module")
def packages() -> dict[str, ItemPackage]:
    return load_packages(ITEMS)


@pytest.fixture(scope="module")
def index(packages: dict[str, ItemPackage]) -> SearchIndex:
    return SearchIndex(packages.values())


def _doc(item_id: str) -> dict[str, Any]:
    return json.loads((ITEMS / f"{item_id}.json").read_text("utf-8"))


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def test_thirty_items_each_with_what_the_guide_publishes(packages: dict[str, ItemPackage]) -> None:
    assert len(packages) >= 30
    departments = {p.catalogue.department.zh for p in packages.values()}
    assert len(departments) >= 7
    for pkg in packages.values():
        cat = pkg.catalogue
        assert cat.conditions and cat.legal_basis and cat.source, pkg.id
        assert cat.legal_basis[0].zh.startswith("《"), pkg.id
        # a time limit or fee the legal basis does not set is said, not invented
        if cat.time_limit_days is None:
            assert cat.time_limit_note is not None, pkg.id
        if cat.fee_yuan is None:
            assert cat.fee_note is not None, pkg.id


def test_automated_and_manual_items(packages: dict[str, ItemPackage]) -> None:
    manual = [p for p in packages.values() if p.manual_only]
    automated = [p for p in packages.values() if not p.manual_only]
    assert len(manual) >= 10 and len(automated) >= 8
    engine = ReviewEngine()
    try:
        for pkg in packages.values():
            assert run_golden_cases(pkg, engine) == [], pkg.id
        for pkg in automated:
            outcomes = {c.expected_decision for c in pkg.golden_cases}
            assert {"approve", "reject", "manual"} <= outcomes, pkg.id
        divorce = packages["divorce-registration"]
        decision = engine.review(divorce, {"today": "2026-11-23"})
        assert decision.outcome is Outcome.MANUAL and decision.reasons == ("staff_review",)
    finally:
        engine.close()


def test_manual_package_needs_no_rules_but_an_automated_one_does() -> None:
    doc = _doc("divorce-registration")
    assert "decision" not in doc["review"] and doc["golden_cases"] == []
    doc["review"]["mode"] = "automated"
    with pytest.raises(PackageRejected, match="schema violation"):
        load_package(_body(doc))


def test_every_rule_input_must_be_declared() -> None:
    doc = _doc("unemployment-registration")
    doc["review"]["inputs"] = [i for i in doc["review"]["inputs"] if i["name"] != "age"]
    with pytest.raises(PackageRejected, match="'age'"):
        load_package(_body(doc))


@pytest.mark.parametrize(
    ("name", "source", "why"),
    [
        ("form.nope.present", "form", "form.complete"),
        ("materials.passport.present", "material", "materials.<type>"),
        ("form.phone.value", "form", "only select and number"),
        ("warnings.other_list", "warning_list", "warning_lists"),
        ("age", "platform", "platform.<name>"),
        ("nationality", "card", "the card gives only"),
    ],
)
def test_declared_inputs_must_exist_for_their_source(name: str, source: str, why: str) -> None:
    doc = _doc("hpf-withdrawal-rent")
    doc["review"]["inputs"].append({"name": name, "source": source})
    with pytest.raises(PackageRejected, match=why.replace("(", r"\(").replace(".", r"\.").replace("<", "<")):
        load_package(_body(doc))


def test_engine_assembles_only_the_declared_inputs(packages: dict[str, ItemPackage]) -> None:
    card = sim_card("senior").text
    today = dt.date(2026, 11, 23)
    pkg = packages["hpf-withdrawal-rent"]
    inputs = build_inputs(
        pkg, card, {"phone": "13800000000"}, {}, {}, [], today, {"platform.owns_home": False}
    )
    assert set(inputs) == {
        "today",
        "card_expired",
        "id_number_valid",
        "card_not_yet_valid",
        "form.complete",
        "platform.owns_home",
        "materials.tenancy_agreement.present",
        "warnings.dishonest_persons",  # the principal or the agent (kiosk/review/party_warnings.py)
        "warnings.stale",
        # 代办: who applies and their authorisation (kiosk/review/applicants.py)
        "applying.kind",
        "applying.principal_valid",
        "materials.power_of_attorney.present",
        "cross_check.power_of_attorney.principal_id_number",
        "cross_check.power_of_attorney.agent_id_number",
    }
    assert inputs["applying.kind"] == "self" and inputs["applying.principal_valid"] is True
    assert inputs["platform.owns_home"] is False and inputs["materials.tenancy_agreement.present"] is False
    assert "age" not in inputs  # not declared: never computed
    without_lookup = build_inputs(pkg, card, {}, {}, {}, [], today)
    assert without_lookup["platform.owns_home"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("公积金", "hpf-withdrawal-retirement"),  # a word of the name
        ("gjj", "hpf-loan"),  # initials of a keyword (公积金贷款)
        ("ydjy", "out-of-area-medical-filing"),  # initials of the name's start (异地就医备案)
        ("yidijiuyi", "out-of-area-medical-filing"),  # full pinyin
        ("上户口", "birth-registration"),  # a keyword
        ("divorce", "divorce-registration"),  # English
        ("SFZ", "id-card-reissue"),  # initials, any case
    ],
)
def test_search_by_name_keyword_pinyin(index: SearchIndex, query: str, expected: str) -> None:
    assert expected in [p.id for p in index.search(query)]


def test_search_ranks_names_first_and_filters(index: SearchIndex, packages: dict[str, ItemPackage]) -> None:
    found = [p.id for p in index.search("提取")]
    assert found[:3] == ["hpf-withdrawal-loan", "hpf-withdrawal-rent", "hpf-withdrawal-retirement"]
    hpf = index.search("", department="德州市住房公积金管理中心")
    assert {p.id for p in hpf} == {p.id for p in packages.values() if p.id.startswith("hpf-")}
    assert index.search("结婚", department="德州市住房公积金管理中心") == []
    assert [p.id for p in index.search("", life_event="birth")] == [
        "birth-registration",
        "maternity-allowance",
        "newborn-medical-insurance",
    ]
    assert index.search("zzzz") == []


def test_life_events_bundle_items_sharing_identity_fields(packages: dict[str, ItemPackage]) -> None:
    events = {e.id: e for e in life_events(packages.values())}
    assert {"birth", "business-start", "retirement", "death", "unemployment"} <= set(events)
    birth = events["birth"]
    assert birth.name.zh == "出生一件事"
    assert {"name", "id_number", "address", "phone", "child_name", "child_birth_date"} <= set(
        birth.shared_fields
    )
    start = events["business-start"]
    assert {
        "business-registration",
        "seal-engraving",
        "tax-registration",
        "employer-social-insurance-registration",
    } <= set(start.item_ids)
    for event in events.values():  # one name per event id across its items
        names = {r.name for p in packages.values() for r in p.catalogue.life_events if r.id == event.id}
        assert len(names) == 1, event.id


def test_catalogue_filters_from_the_offline_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "terminal.db")
    stock(store)
    catalogue = Catalogue(store)
    assert catalogue.load_cached() >= 30
    names = [d.zh for d in catalogue.departments()]
    assert len(names) == len(set(names)) and "德州市医疗保障局" in names
    assert [p.id for p in catalogue.search("sfz", department="德州市公安局德城分局")][:2] == [
        "id-card-reissue",
        "id-card-renewal",
    ]
    assert {e.id for e in catalogue.life_events()} >= {"birth", "business-start"}


def test_author_lint_asks_for_declared_inputs_and_for_the_notes_of_unknown_limits() -> None:
    doc = _doc("unemployment-registration")
    del doc["review"]["inputs"]
    load_package(_body(doc))  # an older package still loads (every built-in input is assembled)
    [finding] = lint(_body(doc), "unemployment-registration.json")
    assert str(finding).startswith("review: 'inputs' is missing")
    assert "age, card_expired, card_not_yet_valid, form.complete, id_number_valid" in str(finding)
    doc = _doc("unemployment-registration")
    del doc["catalogue"]["time_limit_note"]  # time_limit_days is null: say why
    assert [str(f) for f in lint(_body(doc), "unemployment-registration.json")] == [
        "catalogue: 'time_limit_note' is missing: add it"
    ]
    doc = _doc("hpf-loan")
    del doc["catalogue"]["fee_note"]  # fee_yuan is null
    assert [str(f) for f in lint(_body(doc), "hpf-loan.json")] == ["catalogue: 'fee_note' is missing: add it"]
