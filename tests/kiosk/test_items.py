import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.review.items import ItemPackage, PackageRejected, load_package, load_packages
from kiosk.review.search import search

ITEMS = Path(__file__).resolve().parents[2] / "items"
IDS = ("senior-card", "business-registration", "resident-pension")


def _doc(item_id: str) -> dict[str, Any]:
    return json.loads((ITEMS / f"{item_id}.json").read_text("utf-8"))


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="module")
def packages() -> dict[str, ItemPackage]:
    return load_packages(ITEMS)


def test_every_package_loads(packages: dict[str, ItemPackage]) -> None:
    assert set(IDS) <= set(packages) and len(packages) >= 30
    for item_id, pkg in packages.items():
        body = (ITEMS / f"{item_id}.json").read_bytes()
        assert pkg.sha256 == hashlib.sha256(body).hexdigest()
        assert pkg.version == _doc(item_id)["version"]
        assert pkg.golden_cases


def test_catalogue_and_form(packages: dict[str, ItemPackage]) -> None:
    senior = packages["senior-card"]
    assert senior.name_zh == "老年人优待证申领"
    assert senior.catalogue.pinyin_initials == "lnrydzsl"
    assert senior.field("age").source == "computed.age"
    assert senior.certificate is not None and senior.certificate.title_zh == "老年人优待证"
    biz = packages["business-registration"]
    lease = biz.material("lease")
    assert lease.required and {c.against for c in lease.cross_checks} == {
        "idcard.name",
        "form.premises_address",
    }
    assert biz.field("premises_address").source == "materials.lease.premises_address"
    assert biz.warning_lists == ("dishonest_persons", "abnormal_operation", "market_access_negative")
    pension = packages["resident-pension"]
    grade = pension.field("contribution_grade")
    assert grade.default == "300" and grade.type == "select"
    assert pension.reasons["id_card_expired"].zh == "身份证件已过期"
    assert pension.reasons["id_card_expired"].en == "ID card expired"


def test_validate_form(packages: dict[str, ItemPackage]) -> None:
    biz = packages["business-registration"]
    good = {
        "name": "李建国",
        "id_number": "37140219880721003X",
        "address": "山东省德州市德城区东风中路88号",
        "business_name": "德城区建国便利店",
        "business_scope": "日用百货零售",
        "premises_address": "山东省德州市德城区新华路26号",
        "phone": "13905340000",
    }
    assert biz.validate_form(good) == {}
    errors = biz.validate_form({**good, "phone": "12345", "business_name": "", "id_number": "3714"})
    assert errors == {
        "phone": "form.error.phone",
        "business_name": "form.error.required",
        "id_number": "form.error.id_number",
    }
    assert biz.validate_form({**good, "business_name": "shop"}) == {"business_name": "form.error.pattern"}
    pension = packages["resident-pension"]
    assert pension.field("contribution_grade").check("250") == "form.error.option"
    assert pension.field("phone").check("") is None  # optional


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lnr", ["senior-card"]),
        ("LNRYDZSL", ["senior-card"]),
        ("gtgsh", ["business-registration"]),
        ("养老", ["resident-pension"]),
        ("优待证", ["senior-card"]),
        ("登记", ["business-registration", "resident-pension"]),
        ("pension", ["resident-pension"]),
        ("营业执照", ["business-registration"]),
        ("zzz", []),
    ],
)
def test_search(packages: dict[str, ItemPackage], query: str, expected: list[str]) -> None:
    three = [packages[i] for i in IDS]  # the whole catalogue's search: tests/items/test_catalogue.py
    assert [p.id for p in search(three, query)] == expected


def test_empty_search_lists_all(packages: dict[str, ItemPackage]) -> None:
    assert len(search(packages.values(), " ")) == len(packages)


@pytest.mark.parametrize("node_type", ["customNode", "functionNode", "decisionNode"])
def test_javascript_and_other_nodes_refused(node_type: str) -> None:
    doc = _doc("senior-card")
    nodes = doc["review"]["decision"]["nodes"]
    nodes.append(
        {
            "id": "js",
            "type": node_type,
            "name": "script",
            "content": {"source": "export const handler = async (input) => ({outcome: 'approve'});"},
        }
    )
    doc["review"]["decision"]["edges"].append({"id": "ejs", "sourceId": "request", "targetId": "js"})
    with pytest.raises(PackageRejected, match=node_type):
        load_package(_body(doc))


def _mutations() -> list[tuple[str, Any]]:
    def drop_catalogue(d: dict[str, Any]) -> None:
        del d["catalogue"]

    def bad_pinyin(d: dict[str, Any]) -> None:
        d["catalogue"]["pinyin_initials"] = "LN RY"

    def bad_field_type(d: dict[str, Any]) -> None:
        d["form"]["fields"][0]["type"] = "password"

    def extra_key(d: dict[str, Any]) -> None:
        d["surprise"] = True

    def bad_source(d: dict[str, Any]) -> None:
        d["form"]["fields"][0]["source"] = "idcard.photo"

    def bad_regex(d: dict[str, Any]) -> None:
        d["form"]["fields"][0]["pattern"] = "(["

    def no_golden(d: dict[str, Any]) -> None:
        d["golden_cases"] = []

    def bad_expected(d: dict[str, Any]) -> None:
        d["golden_cases"][0]["expected_decision"] = "maybe"

    def text_without_en(d: dict[str, Any]) -> None:
        del d["catalogue"]["name"]["en"]

    return [
        ("catalogue", drop_catalogue),
        ("pinyin", bad_pinyin),
        ("password", bad_field_type),
        ("surprise", extra_key),
        ("source", bad_source),
        ("pattern", bad_regex),
        ("golden_cases", no_golden),
        ("expected_decision", bad_expected),
        ("name", text_without_en),
    ]


@pytest.mark.parametrize(("where", "mutate"), _mutations(), ids=[m[0] for m in _mutations()])
def test_schema_violations_refused(where: str, mutate: Any) -> None:
    doc = _doc("senior-card")
    mutate(doc)
    with pytest.raises(PackageRejected, match="schema violation"):
        load_package(_body(doc))


def test_semantic_errors_refused() -> None:
    base = _doc("business-registration")

    doc = copy.deepcopy(base)
    table = next(n for n in doc["review"]["decision"]["nodes"] if n["id"] == "prompts")
    table["content"]["rules"][0]["prompts_reason"] = json.dumps("no_such_reason")
    with pytest.raises(PackageRejected, match="no_such_reason"):
        load_package(_body(doc))

    doc = copy.deepcopy(base)
    table = next(n for n in doc["review"]["decision"]["nodes"] if n["id"] == "prompts")
    table["content"]["rules"][0]["prompts_outcome"] = json.dumps("maybe")
    with pytest.raises(PackageRejected, match="unknown outcome"):
        load_package(_body(doc))

    doc = copy.deepcopy(base)
    doc["review"]["decision"]["edges"].append(
        {"id": "dangling", "sourceId": "request", "targetId": "nowhere"}
    )
    with pytest.raises(PackageRejected, match="missing node"):
        load_package(_body(doc))

    doc = copy.deepcopy(base)
    doc["materials"][0]["cross_checks"].append({"field": "lessee", "against": "form.no_such_field"})
    with pytest.raises(PackageRejected, match="no_such_field"):
        load_package(_body(doc))

    doc = copy.deepcopy(base)
    doc["golden_cases"][0]["expected_reasons"] = ["invented"]
    with pytest.raises(PackageRejected, match="invented"):
        load_package(_body(doc))


def test_not_json_refused() -> None:
    with pytest.raises(PackageRejected, match="not JSON"):
        load_package(b"{not json")
    with pytest.raises(PackageRejected, match="not JSON"):
        load_package(b"\xff\xfe")
    with pytest.raises(PackageRejected):
        load_package(b"[]")


def test_file_name_must_match_id(tmp_path: Path) -> None:
    (tmp_path / "other-name.json").write_bytes((ITEMS / "senior-card.json").read_bytes())
    with pytest.raises(PackageRejected, match="does not match"):
        load_packages(tmp_path)


def test_shapes_found_by_fuzzing_are_refused_not_crashes() -> None:
    """tests/fuzz found these: a node type that is a list, a rule that is a list, an output cell
    that is not a string (TypeError/AttributeError escaped load_package)."""
    doc = _doc("senior-card")
    doc["review"]["decision"]["nodes"][0]["type"] = []
    with pytest.raises(PackageRejected):
        load_package(_body(doc))
    for bad_rule in ([], {"_id": "r", **{c: 1 for c in ("o1", "o2")}}):
        doc = _doc("senior-card")
        table = next(n for n in doc["review"]["decision"]["nodes"] if n["type"] == "decisionTableNode")
        outputs = [o["id"] for o in table["content"]["outputs"]]
        rule = dict(table["content"]["rules"][0])
        if isinstance(bad_rule, dict):
            rule.update({outputs[0]: 1})
            table["content"]["rules"][0] = rule
        else:
            table["content"]["rules"][0] = bad_rule
        with pytest.raises(PackageRejected):
            load_package(_body(doc))
