"""The on-the-spot review alone (``python -m bench.review``).

Loads the three rule packages and turns each into a **100-rule item**
(:func:`with_generated_rules`: a second decision table of ``--rules`` generated rows, age bands
and form/material flags, next to the item's own table, so every review evaluates the item's
rules plus 100 more; the generated rows do not fire for the demo citizens and the golden cases
still pass).  Builds each demo citizen's raw data the way the step services (kiosk/session/steps/) do (card text
from the simulated card, the form as the demo fills it, the lease's extracted fields and
cross-checks for business registration, the warning lists from ``items/warning_lists``), then
times a full review over ``--n`` evaluations, round-robin over the citizens: warning-list
matching (normalisation + keyed hashes), ``build_inputs`` (normalisation, checks), the zen
evaluation and the aggregation (``ReviewEngine.review``).  No OCR.
The last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._stats import percentile
from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardText
from kiosk.identity.cards import age_on
from kiosk.review.engine import Decision, ReviewEngine, build_inputs, run_golden_cases
from kiosk.review.items import ItemPackage, load_package
from kiosk.review.warnings import WarningList, check_warnings, load_warning_lists
from terminal.runtime import DEMO_CITIZENS, DemoCitizen

ITEMS_DIR = Path(__file__).resolve().parent.parent / "items"


@dataclass(frozen=True)
class Case:
    citizen: str
    package: ItemPackage
    inputs: dict[str, Any]
    text: IdCardText
    form: dict[str, str]
    materials: dict[str, dict[str, str]]
    cross_checks: dict[str, bool]


def with_generated_rules(body: bytes, n_rules: int) -> ItemPackage:
    """The package in ``body`` plus a decision table of ``n_rules`` generated rows (validated)."""
    doc = json.loads(body)
    graph = doc["review"]["decision"]
    input_id = next(n["id"] for n in graph["nodes"] if n["type"] == "inputNode")
    output_id = next(n["id"] for n in graph["nodes"] if n["type"] == "outputNode")
    table = "generated"
    inputs = [
        {"id": f"{table}_age", "name": "age", "field": "age"},
        {"id": f"{table}_expired", "name": "card_expired", "field": "card_expired"},
        {"id": f"{table}_form", "name": "form.complete", "field": "form.complete"},
    ]
    rules = []
    for k in range(n_rules):
        low = 120 + 2 * k  # age bands nobody alive falls into: evaluated, never matched
        rules.append(
            {
                "_id": f"{table}_r{k}",
                f"{table}_age": f"[{low}..{low + 1}]",
                f"{table}_expired": "false" if k % 2 else "",
                f"{table}_form": "true" if k % 3 else "",
                f"{table}_outcome": '"manual"',
                f"{table}_reason": f'"generated_rule_{k}"',
            }
        )
        doc["reasons"][f"generated_rule_{k}"] = {"zh": f"生成规则{k}", "en": f"Generated rule {k}"}
    graph["nodes"].append(
        {
            "id": table,
            "type": "decisionTableNode",
            "name": "generated",
            "position": {"x": 0, "y": 0},
            "content": {
                "hitPolicy": "collect",
                "passThrough": False,
                "inputs": inputs,
                "outputs": [
                    {"id": f"{table}_outcome", "name": "Outcome", "field": "outcome"},
                    {"id": f"{table}_reason", "name": "Reason", "field": "reason"},
                ],
                "rules": rules,
            },
        }
    )
    graph["edges"] += [
        {"id": f"{table}_in", "sourceId": input_id, "targetId": table, "type": "edge"},
        {"id": f"{table}_out", "sourceId": table, "targetId": output_id, "type": "edge"},
    ]
    doc["version"] = doc["version"] + ".100"
    return load_package(json.dumps(doc, ensure_ascii=False).encode())


def _known_values(text: IdCardText, materials: dict[str, dict[str, str]], today: dt.date) -> dict[str, str]:
    """What the terminal knows to prefill the form (kiosk.session.steps.form ``session_known_values``)."""
    known = {
        "idcard.name": text.name,
        "idcard.id_number": text.id_number,
        "idcard.address": text.address,
        "idcard.sex": text.sex,
        "idcard.birth_date": text.birth_date.isoformat(),
        "idcard.valid_until": text.valid_until.isoformat() if text.valid_until else "长期",
        "computed.age": str(age_on(text.id_number, today)),
    }
    for mtype, fields in materials.items():
        for key, value in fields.items():
            known[f"materials.{mtype}.{key}"] = value
    return known


def build_case(
    citizen: DemoCitizen, pkg: ItemPackage, warning_lists: dict[str, WarningList], today: dt.date
) -> Case:
    text = sim_card(citizen.key).text
    if not isinstance(text, IdCardText):  # the demo citizens hold resident ID cards
        raise TypeError(f"{citizen.key}: not a resident ID card")
    materials: dict[str, dict[str, str]] = {}
    cross_checks: dict[str, bool] = {}
    if citizen.lease is not None:
        lease = citizen.lease
        materials["lease"] = {
            "lessee": str(lease["lessee"]),
            "premises_address": str(lease["premises_address"]),
            "term_end": lease["term_end"].isoformat(),
        }
        # What the demo's OCR cross-check gives: lessee == card name, premises == form premises.
        cross_checks["lease.lessee"] = materials["lease"]["lessee"] == text.name
        cross_checks["lease.premises_address"] = materials["lease"]["premises_address"] == citizen.form.get(
            "premises_address"
        )
    known = _known_values(text, materials, today)
    form: dict[str, str] = {}
    for spec in pkg.form:
        value = citizen.form.get(spec.key) or known.get(spec.source or "", spec.default or "")
        if value:
            form[spec.key] = value

    identifiers = {"id_number": text.id_number, "name": text.name}
    for key in ("business_name", "business_scope"):
        if key in form:
            identifiers[key] = form[key]
    lists = [warning_lists[n] for n in pkg.warning_lists if n in warning_lists]
    hits = check_warnings(lists, identifiers, today=today, expected=pkg.warning_lists)
    inputs = build_inputs(
        pkg,
        card=text,
        form=form,
        materials=materials,
        cross_checks=cross_checks,
        warning_hits=hits,
        today=today,
    )
    return Case(citizen.key, pkg, inputs, text, form, materials, cross_checks)


def full_review(
    engine: ReviewEngine, case: Case, warning_lists: dict[str, WarningList], today: dt.date
) -> Decision:
    """What kiosk.session.steps.review does at review time, minus OCR: warnings, inputs, rules, aggregation."""
    identifiers = {"id_number": case.text.id_number, "name": case.text.name}
    for key in ("business_name", "business_scope"):
        if key in case.form:
            identifiers[key] = case.form[key]
    lists = [warning_lists[n] for n in case.package.warning_lists if n in warning_lists]
    hits = check_warnings(lists, identifiers, today=today, expected=case.package.warning_lists)
    inputs = build_inputs(
        case.package,
        card=case.text,
        form=case.form,
        materials=case.materials,
        cross_checks=case.cross_checks,
        warning_hits=hits,
        today=today,
    )
    return engine.review(case.package, inputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time ReviewEngine.review on the demo citizens")
    parser.add_argument("--n", type=int, default=2000, help="number of timed evaluations")
    parser.add_argument("--rules", type=int, default=100, help="generated decision-table rows per item")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    packages = {
        pkg.id: pkg
        for pkg in (
            with_generated_rules(p.read_bytes(), args.rules) for p in sorted(ITEMS_DIR.glob("*.json"))
        )
    }
    golden_failures = {pid: len(run_golden_cases(pkg)) for pid, pkg in packages.items()}
    warning_lists = load_warning_lists(ITEMS_DIR / "warning_lists")
    today = dt.date.today()
    cases = [build_case(c, packages[c.item_id], warning_lists, today) for c in DEMO_CITIZENS]

    engine = ReviewEngine()
    try:
        for case in cases:  # warm-up: compile each graph once, and show what each citizen gets
            d = full_review(engine, case, warning_lists, today)
            print(f"{case.citizen:<9} {case.package.id:<24} {d.outcome.value:<8} {','.join(d.reasons)}")
        timings: list[float] = []
        outcomes: Counter[str] = Counter()
        t0 = time.perf_counter()
        for i in range(args.n):
            case = cases[i % len(cases)]
            t = time.perf_counter()
            decision = full_review(engine, case, warning_lists, today)
            timings.append((time.perf_counter() - t) * 1000.0)
            outcomes[decision.outcome.value] += 1
        wall = time.perf_counter() - t0
    finally:
        engine.close()

    result = {
        "n": args.n,
        "decisions_per_s": round(args.n / wall, 1),
        "review_ms_p50": round(percentile(timings, 50), 3),
        "review_ms_p95": round(percentile(timings, 95), 3),
        "items": sorted(packages),
        "rules_per_item": {pid: _rule_count(pkg) for pid, pkg in sorted(packages.items())},
        "golden_failures": golden_failures,
        "outcomes": dict(sorted(outcomes.items())),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _rule_count(pkg: ItemPackage) -> int:
    graph = json.loads(pkg.decision_jdm)
    return sum(len(n["content"]["rules"]) for n in graph["nodes"] if n["type"] == "decisionTableNode")


if __name__ == "__main__":
    sys.exit(main())
