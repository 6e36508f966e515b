"""A life event applied for as one application (一件事一次办, GB/T 44888 §6.11): the plan of the
combined session and the cases it files.

:func:`plan_bundle` turns a life event of the catalogue into one combined form (a field several
items ask for with the same key is asked once: the shared fields) and one list of materials (a
material type several items need is scanned once).  The citizen's answers are checked against
every item's own rules (:meth:`BundlePlan.validate_form`); each item then gets its own slice of
the form (:meth:`BundlePlan.item_form`), its own review, and its own case.

Wire shape: one case per item, as today (each has its own case id, which is its idempotency key
through the outbox), each payload carrying the same ``bundle`` object::

    "bundle": {"id": "<uuid of the application>", "life_event": "birth",
               "items": ["birth-registration", "maternity-allowance", ...], "position": 0}

so the platform files every item with its department and records them as one application (the
sandbox lists them at ``/_sandbox/bundles``).  :func:`bundle_cases` builds the cases;
``store.cases.add_bundle`` stores all of them with their outbox entries in one transaction, so
a crash never leaves half an application queued.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.i18n import tr
from kiosk.review.catalogue_entry import Text
from kiosk.review.engine import Decision, Outcome
from kiosk.review.items import FormField, ItemPackage, MaterialSpec
from kiosk.session.catalogue import Catalogue

__all__ = [
    "BundleCase",
    "BundlePlan",
    "bundle_cases",
    "combine_decisions",
    "combined_outcome",
    "plan_bundle",
]

#: The order of outcomes from best to worst: the application's outcome is its worst item's.
_SEVERITY = (Outcome.APPROVE, Outcome.MANUAL, Outcome.REJECT)


@dataclass(frozen=True)
class BundlePlan:
    event_id: str
    name: Text
    packages: tuple[ItemPackage, ...]
    #: the combined form: every item's fields, a key asked by several items once (the first item's)
    form: tuple[FormField, ...]
    #: every item's materials, a type needed by several items once (the first item's)
    materials: tuple[MaterialSpec, ...]
    #: the keys two or more items ask for: filled in once for all of them
    shared: tuple[str, ...]
    #: the application's id, carried on each case (``bundle.id``)
    bundle_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.packages)

    def validate_form(self, values: Mapping[str, str]) -> dict[str, str]:
        """Field key → i18n error key, each field checked by every item that asks for it (a phone
        optional for one item and required by another is required)."""
        errors: dict[str, str] = {}
        for pkg in self.packages:
            for key, err in pkg.validate_form(values).items():
                errors.setdefault(key, err)
        return errors

    def material(self, type_: str) -> MaterialSpec:
        for m in self.materials:
            if m.type == type_:
                return m
        raise KeyError(type_)

    def item_form(self, pkg: ItemPackage, values: Mapping[str, str]) -> dict[str, str]:
        """The part of the combined form ``pkg`` asks for: what its case carries."""
        return {f.key: values[f.key] for f in pkg.form if f.key in values}

    def wire(self, position: int) -> dict[str, Any]:
        """The ``bundle`` object of the case of the item at ``position``."""
        return {
            "id": self.bundle_id,
            "life_event": self.event_id,
            "items": list(self.item_ids),
            "position": position,
        }


def plan_bundle(catalogue: Catalogue, event_id: str) -> BundlePlan:
    """The combined session of the life event ``event_id``; KeyError when no item declares it."""
    for event in catalogue.life_events():
        if event.id == event_id:
            packages = tuple(catalogue.package(i) for i in event.item_ids)
            break
    else:
        raise KeyError(event_id)
    form: dict[str, FormField] = {}
    askers: dict[str, int] = {}
    materials: dict[str, MaterialSpec] = {}
    for pkg in packages:
        for f in pkg.form:
            form.setdefault(f.key, f)
            askers[f.key] = askers.get(f.key, 0) + 1
        for m in pkg.materials:
            materials.setdefault(m.type, m)
    shared = tuple(k for k, n in askers.items() if n > 1)
    return BundlePlan(event_id, event.name, packages, tuple(form.values()), tuple(materials.values()), shared)


def combined_outcome(decisions: Mapping[str, Decision]) -> Outcome:
    """The application's outcome: approved only when every item is; else its worst item's."""
    return max((d.outcome for d in decisions.values()), key=_SEVERITY.index, default=Outcome.MANUAL)


def combine_decisions(plan: BundlePlan, decisions: Mapping[str, Decision]) -> Decision:
    """The application's decision as the confirm screen, the result and the receipt show it: the
    combined outcome, and one reason line per item naming the item, its decision and its reasons
    (the item's own decisions go with its case)."""
    lines: list[Text] = []
    codes: list[str] = []
    for pkg in plan.packages:
        d = decisions[pkg.id]
        codes.extend(f"{pkg.id}:{r}" for r in d.reasons)
        key = f"receipt.result.{d.outcome.value}"
        zh = f"{pkg.name_zh}：{tr(key, 'zh')}" + "".join(f"（{t.zh}）" for t in d.reason_texts)
        en = f"{pkg.name_en}: {tr(key, 'en')}" + "".join(f" ({t.en})" for t in d.reason_texts)
        lines.append(Text(zh, en))
    worst = max(decisions.values(), key=lambda d: _SEVERITY.index(d.outcome))
    return replace(
        worst,
        outcome=combined_outcome(decisions),
        reasons=tuple(codes),
        reason_texts=tuple(lines),
        elapsed_ms=sum(d.elapsed_ms for d in decisions.values()),
    )


@dataclass(frozen=True)
class BundleCase:
    case_id: str
    item_id: str
    payload: bytes


def bundle_cases(
    plan: BundlePlan,
    values: Mapping[str, str],
    decisions: Mapping[str, Decision],
    payload_of: Callable[[ItemPackage, str, dict[str, str], Decision], bytes],
) -> list[BundleCase]:
    """One case per item of ``plan``: ``payload_of(pkg, case_id, form, decision)`` builds the item's
    case body (kiosk.session.steps.case_record.case_payload over the item's slice) and the
    ``bundle`` object is added to it."""
    cases: list[BundleCase] = []
    for position, pkg in enumerate(plan.packages):
        case_id = str(uuid.uuid4())
        body = json.loads(payload_of(pkg, case_id, plan.item_form(pkg, values), decisions[pkg.id]))
        body["bundle"] = plan.wire(position)
        payload = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
        cases.append(BundleCase(case_id, pkg.id, payload))
    return cases
