"""The review inputs a package declares, and their assembly for one application.

A package lists under ``review.inputs`` every value its rules read, each with its source:

=============  ==========================================================================
source         names
=============  ==========================================================================
card           ``age``, ``card_expired``, ``card_not_yet_valid``, ``id_number_valid``,
               ``document_kind``
form           ``form.complete``, ``form.valid``, ``form.<key>.present``,
               ``form.<key>.valid``, ``form.<key>.value`` (select and number fields only)
material       ``materials.<type>.present``, ``materials.<type>.complete``
cross_check    ``cross_check.<type>.<field>`` (a cross-check the material declares)
warning_list   ``warnings.<list>`` (a list the package names), ``warnings.stale``
platform       ``platform.<name>``: a value the platform looked up for this application
applying      ``applying.kind``, ``applying.principal_valid`` (kiosk/review/applicants.py)
=============  ==========================================================================

The engine assembles only what is declared (plus ``today`` and the warning-list flags, which its
own aggregation reads), so a package cannot make the terminal compute anything it does not need
and a reviewer sees in the package what reaches the rules.  Values are flags, numbers and option
codes: never names, addresses or ID numbers.  :func:`check_declared` is the lint: every input a
decision table, a required input or a golden case uses must be declared, and every declared name
must exist for its source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devices.interfaces import AnyIdCardText
from kiosk.identity.cards import age_on, card_expired, card_number_ok
from kiosk.review.applicants import APPLICANT_INPUTS, applicant_value

if TYPE_CHECKING:
    from kiosk.review.items import ItemPackage
    from kiosk.review.warnings import WarningHit

__all__ = ["CARD_INPUTS", "SOURCES", "InputDecl", "assemble", "check_declared", "rule_input_names"]

SOURCES = ("card", "form", "material", "cross_check", "warning_list", "platform", "applying")
CARD_INPUTS = ("age", "card_expired", "card_not_yet_valid", "id_number_valid", "document_kind")
_ALWAYS = "today"


@dataclass(frozen=True)
class InputDecl:
    name: str
    source: str


def rule_input_names(graph: Mapping[str, Any]) -> set[str]:
    """The input fields every decision table of a JDM graph reads."""
    names: set[str] = set()
    for node in graph.get("nodes", ()):
        if node.get("type") != "decisionTableNode":
            continue
        for col in node.get("content", {}).get("inputs", ()):
            field = col.get("field")
            if isinstance(field, str) and field:
                names.add(field)
    return names


def _name_problem(decl: Mapping[str, str], doc: Mapping[str, Any]) -> str | None:
    """Why a declared name does not exist for its source, or None."""
    name, source = decl["name"], decl["source"]
    parts = name.split(".")
    if source == "card":
        return None if name in CARD_INPUTS else f"the card gives only {', '.join(CARD_INPUTS)}"
    if source == "form":
        fields = {f["key"]: f["type"] for f in doc["form"]["fields"]}
        if name in ("form.complete", "form.valid"):
            return None
        if len(parts) == 3 and parts[0] == "form" and parts[1] in fields:
            if parts[2] in ("present", "valid"):
                return None
            if parts[2] == "value":
                ok = fields[parts[1]] in ("select", "number")
                return None if ok else "only select and number fields give their value to the rules"
        return "use form.complete, form.valid or form.<field key>.present / .valid / .value"
    if source == "material":
        types = {m["type"] for m in doc["materials"]}
        ok = len(parts) == 3 and parts[0] == "materials" and parts[1] in types
        return (
            None if ok and parts[2] in ("present", "complete") else "use materials.<type>.present / .complete"
        )
    if source == "cross_check":
        checks = {
            f"cross_check.{m['type']}.{c['field']}" for m in doc["materials"] for c in m["cross_checks"]
        }
        return None if name in checks else "no material declares this cross-check"
    if source == "warning_list":
        lists = {f"warnings.{n}" for n in doc["warning_lists"]} | {"warnings.stale"}
        return None if name in lists else "the package's warning_lists do not name this list"
    if source == "platform":
        return None if len(parts) == 2 and parts[0] == "platform" else "use platform.<name>"
    if source == "applying":
        ok = name in APPLICANT_INPUTS and doc.get("applicants") is not None
        return None if ok else f"use {' or '.join(APPLICANT_INPUTS)}, with the package's applicants declared"
    return f"unknown source {source!r}"


def check_declared(doc: Mapping[str, Any], graph: Mapping[str, Any]) -> list[str]:
    """Problems with ``review.inputs`` of a schema-valid package (empty: fine)."""
    declared = doc["review"].get("inputs")
    if declared is None:
        return []
    problems: list[str] = []
    names = [d["name"] for d in declared]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"review.inputs: {dup!r} is declared twice")
    for d in declared:
        why = _name_problem(d, doc)
        if why is not None:
            problems.append(f"review.inputs: {d['name']!r} ({d['source']}): {why}")
    known = set(names) | {_ALWAYS}
    for name in sorted(rule_input_names(graph) - known):
        problems.append(f"a decision table reads {name!r}, which review.inputs does not declare")
    for name in sorted(set(doc["review"]["required_inputs"]) - known):
        problems.append(f"required input {name!r} is not declared in review.inputs")
    for case in doc["golden_cases"]:
        for name in sorted(set(case["inputs"]) - known):
            if not name.startswith("warnings."):
                problems.append(
                    f"golden case {case['name']!r} gives {name!r}, which review.inputs does not declare"
                )
    return problems


def _card_value(name: str, card: AnyIdCardText, today: dt.date) -> Any:
    if name == "age":
        return age_on(card.birth_date, today) if card.birth_date <= today else None
    if name == "card_expired":
        return card_expired(card, today)
    if name == "card_not_yet_valid":
        return card.valid_from > today
    if name == "id_number_valid":
        # valid by the rules of the card's kind, and matching the printed birth date/sex (nationality)
        return card_number_ok(card, today)
    return card.kind.value  # document_kind


def _all_names(pkg: ItemPackage) -> list[InputDecl]:
    """What a package without ``review.inputs`` gets: every card, form, material and cross-check input."""
    out = [InputDecl(n, "card") for n in CARD_INPUTS]
    out += [InputDecl("form.complete", "form"), InputDecl("form.valid", "form")]
    for f in pkg.form:
        out += [InputDecl(f"form.{f.key}.present", "form"), InputDecl(f"form.{f.key}.valid", "form")]
    for m in pkg.materials:
        out += [InputDecl(f"materials.{m.type}.{p}", "material") for p in ("present", "complete")]
        out += [InputDecl(f"cross_check.{m.type}.{c.field}", "cross_check") for c in m.cross_checks]
    return out


def assemble(
    pkg: ItemPackage,
    card: AnyIdCardText,
    form: Mapping[str, str],
    materials: Mapping[str, Mapping[str, str]],
    cross_checks: Mapping[str, bool],
    warning_hits: Iterable[WarningHit],
    today: dt.date,
    lookups: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The flat engine inputs ``pkg`` declares (see the module docstring); an undeclared input is
    never computed.  ``lookups`` holds platform values by name (``platform.<name>``)."""
    inputs: dict[str, Any] = {_ALWAYS: today.isoformat()}
    declared = pkg.inputs or tuple(_all_names(pkg))
    fields = {f.key: f for f in pkg.form}
    for decl in declared:
        name, parts = decl.name, decl.name.split(".")
        if decl.source == "card":
            inputs[name] = _card_value(name, card, today)
        elif decl.source == "form":
            inputs[name] = _form_value(parts, pkg, fields, form)
        elif decl.source == "material":
            got = materials.get(parts[1])
            if parts[2] == "present":
                inputs[name] = got is not None
            else:
                spec = pkg.material(parts[1])
                inputs[name] = got is not None and all(got.get(e.key, "").strip() for e in spec.extract)
        elif decl.source == "cross_check":
            present = parts[1] in materials
            inputs[name] = bool(cross_checks.get(f"{parts[1]}.{parts[2]}", False)) if present else None
        elif decl.source == "platform":
            inputs[name] = (lookups or {}).get(name)
        elif decl.source == "applying":
            inputs[name] = applicant_value(name, form)
    hits = list(warning_hits)
    for list_name in pkg.warning_lists:
        inputs[f"warnings.{list_name}"] = any(h.matched for h in hits if h.list_name == list_name)
    inputs["warnings.stale"] = any(h.stale for h in hits if h.list_name in pkg.warning_lists)
    return inputs


def _form_value(
    parts: list[str], pkg: ItemPackage, fields: Mapping[str, Any], form: Mapping[str, str]
) -> Any:
    if parts[1] in ("complete", "valid"):
        complete = valid = True
        for f in pkg.form:
            value = form.get(f.key, "").strip()
            error = f.check(value)
            complete = complete and (bool(value) or not f.required)
            valid = valid and (error is None or not value)
        return complete if parts[1] == "complete" else valid
    spec = fields[parts[1]]
    value = form.get(spec.key, "").strip()
    if parts[2] == "present":
        return bool(value)
    if parts[2] == "valid":
        # the value given is acceptable; None when nothing was given (see form.complete)
        return (spec.check(value) is None) if value else None
    if not value or spec.check(value) is not None:
        return None
    return float(value) if spec.type == "number" else value
