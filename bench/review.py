"""The on-the-spot review alone (``python -m bench.review``).

Loads the three rule packages, builds each demo citizen's review inputs the way
``kiosk.services`` does (card text from the simulated card, the form as the demo
fills it, the lease's extracted fields and cross-checks for business
registration, the warning lists from ``items/warning_lists``), then times
``ReviewEngine.review`` over ``--n`` evaluations, round-robin over the citizens.
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

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardText
from kiosk.identity import age_on
from kiosk.items import ItemPackage, load_package
from kiosk.review import ReviewEngine, build_inputs
from kiosk.runtime import DEMO_CITIZENS, DemoCitizen
from kiosk.warnings import WarningList, check_warnings, load_warning_lists

ITEMS_DIR = Path(__file__).resolve().parent.parent / "items"


@dataclass(frozen=True)
class Case:
    citizen: str
    package: ItemPackage
    inputs: dict[str, Any]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _known_values(text: IdCardText, materials: dict[str, dict[str, str]], today: dt.date) -> dict[str, str]:
    """What the terminal knows to prefill the form (kiosk.services ``_known_values``)."""
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
    return Case(citizen.key, pkg, inputs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time ReviewEngine.review on the demo citizens")
    parser.add_argument("--n", type=int, default=2000, help="number of timed evaluations")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    packages = {
        pkg.id: pkg for pkg in (load_package(p.read_bytes()) for p in sorted(ITEMS_DIR.glob("*.json")))
    }
    warning_lists = load_warning_lists(ITEMS_DIR / "warning_lists")
    today = dt.date.today()
    cases = [build_case(c, packages[c.item_id], warning_lists, today) for c in DEMO_CITIZENS]

    engine = ReviewEngine()
    try:
        for case in cases:  # warm-up: compile each graph once, and show what each citizen gets
            d = engine.review(case.package, case.inputs)
            print(f"{case.citizen:<9} {case.package.id:<24} {d.outcome.value:<8} {','.join(d.reasons)}")
        timings: list[float] = []
        outcomes: Counter[str] = Counter()
        t0 = time.perf_counter()
        for i in range(args.n):
            case = cases[i % len(cases)]
            t = time.perf_counter()
            decision = engine.review(case.package, case.inputs)
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
        "outcomes": dict(sorted(outcomes.items())),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
