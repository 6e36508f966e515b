"""The intelligent review (Dezhou standard §8.3): a package's JDM graph evaluated by zen-engine.

Decision tables in the graph emit rows ``{outcome, reason}``; every row any table emitted is
a *finding* (collected from the evaluation trace, so several tables may run side by side).
Aggregation:

1. any ``reject`` finding → **reject**, with the reject reasons;
2. else any ``manual`` finding, a missing required input, a stale package or a stale/missing
   warning list → **manual**, with those reasons;
3. else at least one ``approve`` finding → **approve**;
4. else (no rule fired at all) → **manual** ``no_rule_matched`` (standard §5.6: what does not
   meet the smart-approval conditions goes to a person).

Engine inputs are a flat mapping of dotted names (see :func:`build_inputs` and
``docs/rule-package.md``); they hold flags and numbers, never names or ID numbers in clear.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import zen

from devices.interfaces import AnyIdCardText
from kiosk.limits import PACKAGE_LIMITS, LimitExceeded, parse_json
from kiosk.review import checks
from kiosk.review.inputs import assemble
from kiosk.review.items import MAX_JDM_NODES, SYSTEM_REASONS, ItemPackage, Text
from kiosk.review.warnings import WarningHit

__all__ = [
    "Decision",
    "GoldenFailure",
    "Outcome",
    "ReviewEngine",
    "build_inputs",
    "flatten",
    "run_golden_cases",
    "unflatten",
]

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    MANUAL = "manual"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[str, ...]  # reason codes, in the order found
    reason_texts: tuple[Text, ...]  # one per reason, from the package (or the system texts)
    package_id: str
    package_version: str
    package_sha256: str
    inputs_sha256: str
    trace: Mapping[str, Any]  # JSON-able: zen trace, findings, missing inputs
    elapsed_ms: float

    @property
    def reason_texts_zh(self) -> tuple[str, ...]:
        return tuple(t.zh for t in self.reason_texts)

    @property
    def reason_texts_en(self) -> tuple[str, ...]:
        return tuple(t.en for t in self.reason_texts)

    def transferred(self, reason: str, text: tuple[str, str]) -> Decision:
        """The same decision moved to manual review with one more reason (e.g. staff-checked identity).

        A reject stays a reject (with the extra reason); an approve becomes manual."""
        outcome = Outcome.REJECT if self.outcome is Outcome.REJECT else Outcome.MANUAL
        return replace(
            self,
            outcome=outcome,
            reasons=(*self.reasons, reason),
            reason_texts=(*self.reason_texts, Text(zh=text[0], en=text[1])),
        )

    @classmethod
    def manual_fallback(cls, pkg: ItemPackage, reason: str, *, elapsed_ms: float) -> Decision:
        """A manual-review decision made without the engine (timeout, engine error)."""
        return cls(
            outcome=Outcome.MANUAL,
            reasons=(reason,),
            reason_texts=(_reason_text(pkg, reason),),
            package_id=pkg.id,
            package_version=pkg.version,
            package_sha256=pkg.sha256,
            inputs_sha256="",
            trace={"fallback": reason},
            elapsed_ms=elapsed_ms,
        )

    def to_record(self) -> dict[str, Any]:
        """JSON-able record for the case file and the review trail."""
        return {
            "outcome": self.outcome.value,
            "reasons": list(self.reasons),
            "reason_texts": [{"zh": t.zh, "en": t.en} for t in self.reason_texts],
            "package": {
                "id": self.package_id,
                "version": self.package_version,
                "sha256": self.package_sha256,
            },
            "inputs_sha256": self.inputs_sha256,
            "trace": self.trace,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }


@dataclass(frozen=True)
class GoldenFailure:
    case: str
    expected_decision: str
    actual_decision: str
    expected_reasons: tuple[str, ...]
    actual_reasons: tuple[str, ...]


def _reason_text(pkg: ItemPackage, code: str) -> Text:
    text = pkg.reasons.get(code) or SYSTEM_REASONS.get(code)
    return text if text is not None else Text(zh=code, en=code)


def unflatten(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` → ``{"a": {"b": 1}}``; a name that is both a value and a prefix is an error."""
    out: dict[str, Any] = {}
    for key in sorted(flat):
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"input {key!r} conflicts with a value at {part!r}")
            node = child
        if isinstance(node.get(leaf), dict):
            raise ValueError(f"input {key!r} is also a prefix of other inputs")
        node[leaf] = flat[key]
    return out


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def _table_ids(pkg: ItemPackage) -> frozenset[str]:
    """The decision table node ids; the graph is measured again before zen compiles it (an
    ItemPackage made without :func:`kiosk.review.items.load_package` is held to the same limits):
    LimitExceeded, which :meth:`ReviewEngine.review` turns into a manual ``review_error``."""
    graph = parse_json(pkg.decision_jdm, PACKAGE_LIMITS, f"decision graph of {pkg.id}")
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, list) or len(nodes) > MAX_JDM_NODES:
        raise LimitExceeded(f"decision graph of {pkg.id} has no node list or more than {MAX_JDM_NODES} nodes")
    return frozenset(n["id"] for n in nodes if n["type"] == "decisionTableNode")


def _findings(trace: Mapping[str, Any], tables: frozenset[str]) -> list[dict[str, str]]:
    """Every {outcome, reason} row the decision tables that ran emitted, in evaluation order."""
    rows: list[dict[str, str]] = []
    ran = sorted(
        (n for node_id, n in trace.items() if node_id in tables and isinstance(n, Mapping)),
        key=lambda n: int(n.get("order", 0)),
    )
    for node in ran:
        out = node.get("output")
        items = out if isinstance(out, list) else [out]
        for item in items:
            if isinstance(item, Mapping) and "outcome" in item and "reason" in item:
                rows.append({"outcome": str(item["outcome"]), "reason": str(item["reason"])})
    return rows


class ReviewEngine:
    """Evaluates packages' decision graphs; compiled graphs are cached by package sha256."""

    def __init__(self) -> None:
        self._engine = zen.ZenEngine()
        self._decisions: dict[str, tuple[Any, frozenset[str]]] = {}
        # zen's synchronous evaluate holds the GIL for the whole evaluation, so a thread waiting
        # with a timeout cannot wake up before it ends (a slow graph would blow the deadline).
        # async_evaluate runs on zen's own runtime without the GIL: drive it from a private
        # event loop thread and wait on the concurrent future with the deadline.
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="zen-loop", daemon=True)
        self._loop_thread.start()

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop_thread.join(5)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()

    def _evaluate(self, compiled: Any, nested: dict[str, Any], deadline_s: float) -> Any:
        async def run() -> Any:
            return await compiled.async_evaluate(nested, {"trace": True})

        future = asyncio.run_coroutine_threadsafe(run(), self._loop)
        try:
            return future.result(timeout=deadline_s)
        except FutureTimeout:
            future.cancel()
            raise

    def _decision(self, pkg: ItemPackage) -> tuple[Any, frozenset[str]]:
        """The compiled graph and its decision table node ids."""
        cached = self._decisions.get(pkg.sha256)
        if cached is None:
            tables = _table_ids(pkg)  # limits first: zen is never handed an oversized graph
            cached = (self._engine.create_decision(pkg.decision_jdm), tables)
            self._decisions[pkg.sha256] = cached
        return cached

    def review(
        self,
        pkg: ItemPackage,
        inputs: Mapping[str, Any],
        *,
        deadline_s: float = 45.0,
        last_verified_at: float | None = None,
        now: float | None = None,
    ) -> Decision:
        """Review flat ``inputs`` against ``pkg``.  Never raises for engine trouble: a graph error
        or a run past ``deadline_s`` gives a manual decision (``review_error``/``review_timeout``).

        ``last_verified_at`` (epoch s, from ``kiosk.review.sync.last_verified_at``) enables the offline
        age check: past the package's ``max_offline_days`` the decision is manual ``package_stale``.
        ``None`` skips the check (golden cases, packages bundled with the software)."""
        t0 = time.perf_counter()
        offline_stale = last_verified_at is not None and pkg.offline_too_long(
            last_verified_at, time.time() if now is None else now
        )
        inputs_sha256 = hashlib.sha256(_canonical(dict(inputs))).hexdigest()
        today = _today(inputs)
        required = [*pkg.required_inputs, *(f"warnings.{name}" for name in pkg.warning_lists)]
        missing = [k for k in required if inputs.get(k) is None]

        try:
            nested = unflatten(inputs)
            compiled, tables = self._decision(pkg)
            response = self._evaluate(compiled, nested, deadline_s)
        except FutureTimeout:
            log.error("review of %s %s passed its %.1f s deadline", pkg.id, pkg.version, deadline_s)
            return replace(
                Decision.manual_fallback(pkg, "review_timeout", elapsed_ms=_ms(t0)),
                inputs_sha256=inputs_sha256,
            )
        except Exception as err:  # zen raises RuntimeError subclasses with the graph's error
            log.error("review of %s %s failed: %s", pkg.id, pkg.version, err)
            decision = Decision.manual_fallback(pkg, "review_error", elapsed_ms=_ms(t0))
            return replace(
                decision, inputs_sha256=inputs_sha256, trace={"fallback": "review_error", "error": str(err)}
            )

        trace = response.get("trace") or {}
        findings = _findings(trace, tables)
        by_outcome: dict[str, list[str]] = {o.value: [] for o in Outcome}
        for row in findings:
            codes = by_outcome.setdefault(row["outcome"], [])
            if row["reason"] not in codes:
                codes.append(row["reason"])

        if by_outcome[Outcome.REJECT]:
            outcome, reasons = Outcome.REJECT, by_outcome[Outcome.REJECT]
        else:
            reasons = list(by_outcome[Outcome.MANUAL])
            if missing:
                reasons.append("input_missing")
            if (pkg.fresh_until is not None and today > pkg.fresh_until) or offline_stale:
                reasons.append("package_stale")
            if inputs.get("warnings.stale"):
                reasons.append("warning_list_stale")
            if reasons:
                outcome = Outcome.MANUAL
            elif by_outcome[Outcome.APPROVE]:
                outcome, reasons = Outcome.APPROVE, by_outcome[Outcome.APPROVE]
            else:
                outcome, reasons = Outcome.MANUAL, ["no_rule_matched"]

        decision = Decision(
            outcome=outcome,
            reasons=tuple(reasons),
            reason_texts=tuple(_reason_text(pkg, r) for r in reasons),
            package_id=pkg.id,
            package_version=pkg.version,
            package_sha256=pkg.sha256,
            inputs_sha256=inputs_sha256,
            trace={
                "findings": findings,
                "missing_inputs": missing,
                "offline_stale": offline_stale,
                "zen": trace,
            },
            elapsed_ms=_ms(t0),
        )
        log.info(
            "review %s %s: %s %s in %.1f ms",
            pkg.id,
            pkg.version,
            decision.outcome.value,
            ",".join(decision.reasons),
            decision.elapsed_ms,
        )
        return decision


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


def _today(inputs: Mapping[str, Any]) -> dt.date:
    value = inputs.get("today")
    if isinstance(value, str):
        parsed = checks.parse_iso_date(value)
        if parsed is not None:
            return parsed
    return dt.date.today()


def run_golden_cases(pkg: ItemPackage, engine: ReviewEngine | None = None) -> list[GoldenFailure]:
    """Evaluate every golden case; the package may be activated only when this is empty.

    Reasons are compared as sets (order is not part of the contract)."""
    if engine is None:
        own = ReviewEngine()
        try:
            return run_golden_cases(pkg, own)
        finally:
            own.close()
    failures: list[GoldenFailure] = []
    for case in pkg.golden_cases:
        decision = engine.review(pkg, case.inputs)
        if decision.outcome.value != case.expected_decision or set(decision.reasons) != set(
            case.expected_reasons
        ):
            failures.append(
                GoldenFailure(
                    case=case.name,
                    expected_decision=case.expected_decision,
                    actual_decision=decision.outcome.value,
                    expected_reasons=case.expected_reasons,
                    actual_reasons=decision.reasons,
                )
            )
    if failures:
        log.warning("package %s %s: %d golden case(s) failed", pkg.id, pkg.version, len(failures))
    return failures


def build_inputs(
    pkg: ItemPackage,
    card: AnyIdCardText,
    form: Mapping[str, str],
    materials: Mapping[str, Mapping[str, str]],
    cross_checks: Mapping[str, bool],
    warning_hits: Iterable[WarningHit],
    today: dt.date,
    lookups: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Flat engine inputs for ``pkg``: only those its ``review.inputs`` declare (every built-in
    one when it declares none); see :mod:`kiosk.review.inputs` and docs/rule-package.md.

    ``card`` is a ``devices.interfaces.IdCardText`` or ``ForeignerIdCardText``; ``materials`` maps material type → extracted
    field → value; ``cross_checks`` maps ``"<material type>.<field>"`` → matched; ``lookups`` maps
    ``platform.<name>`` → a value the platform looked up.  Values are flags, numbers and option
    codes only: no names, addresses or ID numbers reach the engine or the trace."""
    return assemble(pkg, card, form, materials, cross_checks, warning_hits, today, lookups)
