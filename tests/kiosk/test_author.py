"""The item author's checks: plain messages, golden cases, rule coverage, version bumps."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from kiosk.review.author import bump_version, fired_rule_ids, lint, rules, run_golden, uncovered_rules
from kiosk.review.engine import ReviewEngine
from kiosk.review.items import load_package

ITEMS = Path(__file__).resolve().parents[2] / "items"


@pytest.fixture(scope="module")
def engine():
    e = ReviewEngine()
    yield e
    e.close()


def _doc(name: str = "senior-card") -> dict:
    return json.loads((ITEMS / f"{name}.json").read_text("utf-8"))


def _body(doc: dict) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


@pytest.mark.parametrize("name", ["senior-card", "business-registration", "resident-pension"])
def test_the_shipped_packages_are_clean(name: str) -> None:
    assert lint((ITEMS / f"{name}.json").read_bytes(), f"{name}.json") == []


def test_broken_json_says_where_and_what_to_look_for() -> None:
    body = (ITEMS / "senior-card.json").read_bytes().replace(b'"version": "1.0.0",', b'"version": "1.0.0"', 1)
    [finding] = lint(body)
    assert finding.where.startswith("line 4, column")
    assert "missing comma" in finding.message


def test_a_missing_field_label_is_named_by_its_place() -> None:
    doc = _doc()
    del doc["form"]["fields"][2]["label"]
    findings = lint(_body(doc))
    assert [str(f) for f in findings] == ["form → fields → 3: 'label' is missing: add it"]


def test_a_misspelt_key_and_a_bad_choice_are_explained() -> None:
    doc = _doc()
    doc["form"]["fields"][0]["lable"] = doc["form"]["fields"][0]["label"]
    doc["form"]["fields"][1]["type"] = "textbox"
    messages = [str(f) for f in lint(_body(doc))]
    assert any("form → fields → 1" in m and "'lable'" in m and "spelling" in m for m in messages)
    assert any("form → fields → 2 → type" in m and '"textbox" is not allowed here' in m for m in messages)


def test_a_meaning_error_after_the_schema_is_reported() -> None:
    doc = _doc()
    doc["golden_cases"][0]["expected_reasons"] = ["no_such_reason"]
    [finding] = lint(_body(doc))
    assert "no_such_reason" in finding.message


def test_the_id_must_match_the_file_name() -> None:
    [finding] = lint((ITEMS / "senior-card.json").read_bytes(), "senior-card-copy.json")
    assert finding.where == "id"


def test_golden_case_failures_show_expected_and_actual(engine: ReviewEngine) -> None:
    doc = _doc()
    case = doc["golden_cases"][0]
    case["expected_decision"] = "reject" if case["expected_decision"] != "reject" else "approve"
    results = run_golden(load_package(_body(doc)), engine)
    failed = [r for r in results if not r.passed]
    assert [r.name for r in failed] == [case["name"]]
    assert failed[0].expected[0] == case["expected_decision"]
    assert failed[0].actual[0] != case["expected_decision"]


def test_coverage_finds_the_rule_only_a_removed_golden_case_fired(engine: ReviewEngine) -> None:
    pkg = load_package((ITEMS / "senior-card.json").read_bytes())
    assert uncovered_rules(pkg, engine) == []
    all_rules = rules(pkg)
    assert len(all_rules) >= 5
    # Drop every golden case that fires the "age under 60" row: that row becomes uncovered.
    target = next(r for r in all_rules if r.reason == "age_under_60")
    doc = _doc()
    kept = []
    for case in doc["golden_cases"]:
        zen = engine.review(pkg, case["inputs"]).trace["zen"]
        if target.rule_id not in fired_rule_ids(zen):
            kept.append(case)
    assert len(kept) < len(doc["golden_cases"])
    doc["golden_cases"] = kept
    missing = uncovered_rules(load_package(_body(doc)), engine)
    assert [r.rule_id for r in missing] == [target.rule_id]


def test_bump_keeps_the_layout_and_raises_the_version() -> None:
    body = (ITEMS / "senior-card.json").read_bytes()
    old = json.loads(body)["version"]
    major, minor, _patch = (int(x) for x in old.split("."))
    new_body, version = bump_version(body, "minor")
    assert version == f"{major}.{minor + 1}.0"
    before = copy.deepcopy(json.loads(body))
    before["version"] = version
    assert json.loads(new_body) == before
    assert new_body.replace(f'"version": "{version}"'.encode(), f'"version": "{old}"'.encode()) == body
