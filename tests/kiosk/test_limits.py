"""Issue 17, limits: rule packages, warning lists and the config refuse oversized or deeply
nested documents with a clear message (no RecursionError, no minutes of CPU, no gigabytes)."""

from __future__ import annotations

import copy
import dataclasses
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import ConfigError, load_config
from kiosk.review.engine import ReviewEngine
from kiosk.review.items import PackageRejected, load_package
from kiosk.review.warnings import WarningListRejected, load_warning_list

ITEMS = Path(__file__).resolve().parents[2] / "items"
DEEP = 100_000


def _doc(item_id: str = "senior-card") -> dict[str, Any]:
    return json.loads((ITEMS / f"{item_id}.json").read_text("utf-8"))


def _body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _with_rules(n: int) -> dict[str, Any]:
    doc = _doc()
    table = next(x for x in doc["review"]["decision"]["nodes"] if x["type"] == "decisionTableNode")
    rule = table["content"]["rules"][0]
    table["content"]["rules"] = [{**copy.deepcopy(rule), "_id": f"r{i}"} for i in range(n)]
    return doc


def _deep_arrays(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _deep_objects(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


@pytest.mark.parametrize("body", [_deep_arrays(DEEP), _deep_objects(DEEP), _deep_arrays(40)])
def test_deep_nesting_is_refused_not_a_recursion_error(body: bytes) -> None:
    with pytest.raises(PackageRejected, match="nested"):
        load_package(body)
    with pytest.raises(WarningListRejected, match="nested"):
        load_warning_list(body)


@pytest.mark.parametrize("value", ["[" * DEEP + "]" * DEEP, "{b=" * DEEP + "1" + "}" * DEEP])
def test_deeply_nested_config_is_a_config_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text(f"a = {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested"):
        load_config(path)


def test_fifty_thousand_rules_are_refused_quickly_and_small() -> None:
    """The finding: accepted in 4.6 s and 519 MB."""
    body = _body(_with_rules(50_000))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(PackageRejected, match="limit"):
            load_package(body)
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0, elapsed
    assert peak < 20 * 1024 * 1024, peak


def test_rule_node_and_size_limits_name_the_limit() -> None:
    from kiosk.limits import PACKAGE_LIMITS
    from kiosk.review.items import MAX_JDM_NODES, MAX_RULES

    assert len(_body(_with_rules(MAX_RULES + 1))) < PACKAGE_LIMITS.max_bytes  # the rule limit speaks
    with pytest.raises(PackageRejected, match=f"{MAX_RULES + 1} rules in all"):
        load_package(_body(_with_rules(MAX_RULES + 1)))
    load_package(_body(_with_rules(50)))  # a reasonable table still loads
    doc = _doc()
    graph = doc["review"]["decision"]
    graph["nodes"] += [
        {"id": f"x{i}", "type": "expressionNode", "name": "x", "content": {"expressions": []}}
        for i in range(MAX_JDM_NODES)
    ]
    with pytest.raises(PackageRejected, match=r"nodes \(limit"):
        load_package(_body(doc))
    big = _doc()
    big["catalogue"]["keywords"] = ["关键词" * 10] * 40_000
    with pytest.raises(PackageRejected, match=r"bytes \(limit"):
        load_package(_body(big))
    many = _doc()
    many["golden_cases"] = many["golden_cases"] * 400
    with pytest.raises(PackageRejected, match="golden cases"):
        load_package(_body(many))


def test_engine_holds_an_unchecked_package_to_the_limits() -> None:
    """An ItemPackage not made by load_package (e.g. replaced in memory) is not compiled when
    its graph is oversized: the review goes to manual with review_error."""
    from kiosk.review.items import MAX_JDM_NODES

    pkg = load_package((ITEMS / "senior-card.json").read_bytes())
    graph = json.loads(pkg.decision_jdm)
    graph["nodes"] += [{"id": f"x{i}", "type": "expressionNode", "content": {}} for i in range(MAX_JDM_NODES)]
    huge = dataclasses.replace(pkg, decision_jdm=json.dumps(graph), sha256="0" * 64)
    engine = ReviewEngine()
    try:
        decision = engine.review(huge, {"today": "2026-11-23"})
    finally:
        engine.close()
    assert decision.outcome.value == "manual" and decision.reasons == ("review_error",)
    assert "nodes" in str(decision.trace["error"])


def test_parse_helpers() -> None:
    from kiosk.limits import LimitExceeded, Limits, parse_json, parse_toml, shape

    small = Limits(max_bytes=100, max_depth=3, max_values=5)
    assert parse_json(b"[[1]]", small) == [[1]]
    with pytest.raises(LimitExceeded, match="deep"):
        parse_json(b"[[[[1]]]]", small)
    with pytest.raises(LimitExceeded, match="values"):
        parse_json(b"[1,2,3,4,5,6]", small)
    with pytest.raises(LimitExceeded, match="bytes"):
        parse_json(b" " * 101, small)
    with pytest.raises(ValueError):
        parse_json(b"{", small)
    assert parse_toml("a = [1]", small) == {"a": [1]}
    assert shape({"a": [1, {"b": 2}]}) == (4, 5)
