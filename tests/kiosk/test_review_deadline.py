"""The review's time budget (a deliberately slow graph) and the per-package offline age."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.review.engine import Outcome, ReviewEngine
from kiosk.review.items import (
    DEFAULT_MAX_OFFLINE_DAYS,
    ItemPackage,
    PackageRejected,
    load_package,
    pkg_offline_too_long,
)

ROOT = Path(__file__).resolve().parents[2]
DAY = 86400.0
NOW = 1_800_000_000.0

# An expression node that takes about a second in zen-engine (5 million element filter).
SLOW_EXPRESSION = "len(filter([0..5000000], # % 7 == 0))"


@pytest.fixture(scope="module")
def engine() -> Iterator[ReviewEngine]:
    eng = ReviewEngine()
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def senior() -> ItemPackage:
    return load_package((ROOT / "items" / "senior-card.json").read_bytes())


def _approving_case(pkg: ItemPackage) -> dict[str, object]:
    case = next(c for c in pkg.golden_cases if c.expected_decision == "approve")
    return dict(case.inputs)


def _slow_variant(pkg: ItemPackage) -> ItemPackage:
    """``pkg`` with a slow expression node on the path from the input to every table."""
    graph = json.loads(pkg.decision_jdm)
    input_id = next(n["id"] for n in graph["nodes"] if n["type"] == "inputNode")
    graph["nodes"].append(
        {
            "id": "slow-step",
            "type": "expressionNode",
            "name": "slow",
            "position": {"x": 0, "y": 0},
            "content": {
                "passThrough": True,
                "expressions": [{"id": "slow-x", "key": "slow", "value": SLOW_EXPRESSION}],
            },
        }
    )
    for edge in graph["edges"]:
        if edge["sourceId"] == input_id:
            edge["sourceId"] = "slow-step"
    graph["edges"].append({"id": "slow-in", "sourceId": input_id, "targetId": "slow-step", "type": "edge"})
    # A distinct sha256 so the engine compiles this graph rather than reusing the cached original.
    return replace(pkg, decision_jdm=json.dumps(graph), sha256="slow-" + pkg.sha256[5:])


def test_slow_review_falls_back_to_manual_at_the_deadline(engine: ReviewEngine, senior: ItemPackage) -> None:
    slow = _slow_variant(senior)
    inputs = _approving_case(senior)

    t0 = time.perf_counter()
    decision = engine.review(slow, inputs, deadline_s=0.2)
    waited = time.perf_counter() - t0
    assert decision.outcome is Outcome.MANUAL
    assert decision.reasons == ("review_timeout",)
    assert decision.reason_texts[0].zh == "智能审核超时，转人工审核"
    assert decision.package_id == senior.id and decision.inputs_sha256
    assert 0.2 <= waited < 0.9  # returned at the deadline, not when the slow step finished

    # The same slow graph with a generous budget really decides: the deadline made the difference.
    decision = engine.review(slow, inputs, deadline_s=30.0)
    assert decision.outcome is Outcome.APPROVE
    assert decision.elapsed_ms > 200


def test_fast_review_meets_a_tight_deadline(engine: ReviewEngine, senior: ItemPackage) -> None:
    engine.review(senior, _approving_case(senior))  # compile once
    decision = engine.review(senior, _approving_case(senior), deadline_s=0.5)
    assert decision.outcome is Outcome.APPROVE


def test_pkg_offline_too_long() -> None:
    assert DEFAULT_MAX_OFFLINE_DAYS == 7
    assert not pkg_offline_too_long(NOW - 6.9 * DAY, NOW)
    assert pkg_offline_too_long(NOW - 7.1 * DAY, NOW)
    assert pkg_offline_too_long(None, NOW)  # never verified
    assert not pkg_offline_too_long(NOW - 20 * DAY, NOW, max_offline_days=30)


def test_package_max_offline_days_field(senior: ItemPackage) -> None:
    assert senior.max_offline_days == DEFAULT_MAX_OFFLINE_DAYS
    doc = json.loads((ROOT / "items" / "senior-card.json").read_bytes())
    doc["max_offline_days"] = 2
    pkg = load_package(json.dumps(doc).encode())
    assert pkg.max_offline_days == 2
    assert pkg.offline_too_long(NOW - 2.5 * DAY, NOW)
    assert not pkg.offline_too_long(NOW - 1.5 * DAY, NOW)
    doc["max_offline_days"] = 0
    with pytest.raises(PackageRejected):
        load_package(json.dumps(doc).encode())


def test_review_goes_manual_when_offline_too_long(engine: ReviewEngine, senior: ItemPackage) -> None:
    inputs = _approving_case(senior)
    fresh = engine.review(senior, inputs, last_verified_at=NOW - DAY, now=NOW)
    assert fresh.outcome is Outcome.APPROVE
    stale = engine.review(senior, inputs, last_verified_at=NOW - 8 * DAY, now=NOW)
    assert stale.outcome is Outcome.MANUAL
    assert stale.reasons == ("package_stale",)
    assert stale.reason_texts[0].en == "The item's review rules are out of date"
    assert stale.trace["offline_stale"] is True
    # A reject stays a reject: staleness only stops automatic approval.
    reject_case = next((c for c in senior.golden_cases if c.expected_decision == "reject"), None)
    assert reject_case is not None
    rejected = engine.review(senior, reject_case.inputs, last_verified_at=NOW - 8 * DAY, now=NOW)
    assert rejected.outcome is Outcome.REJECT
    # No sync time known (golden cases, bundled packages): no offline check.
    assert engine.review(senior, inputs).outcome is Outcome.APPROVE
