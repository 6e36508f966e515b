"""What an item author needs to check a rule package before it is signed (no Qt).

Item authors are not programmers: every problem is reported with where it is (a path
such as ``form → fields → 3 → label``, counted from 1) and what to do, never as a stack
trace or a raw schema message.  The command line is ``python -m terminal.items``
(docs/rule-package.md); this module is its logic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema

from kiosk.review.engine import ReviewEngine
from kiosk.review.inputs import rule_input_names
from kiosk.review.items import SCHEMA_PATH, ItemPackage, PackageRejected, load_package


@dataclass(frozen=True)
class Finding:
    """One thing the author must fix: where, and what is wrong there."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class GoldenResult:
    name: str
    passed: bool
    expected: tuple[str, tuple[str, ...]]
    actual: tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Rule:
    """One row of a decision table, as the author sees it."""

    table: str
    rule_id: str
    number: int  # 1-based row number in its table
    outcome: str
    reason: str


def _where(path: Iterable[Any]) -> str:
    return " → ".join(str(p + 1) if isinstance(p, int) else str(p) for p in path)


def _schema_message(err: jsonschema.ValidationError) -> str:
    """A schema error said plainly (the validator's own words name JSON types and regexes)."""
    kind = err.validator
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        return f"'{missing[0] if missing else err.message}' is missing: add it"
    if kind == "additionalProperties":
        extra = re.findall(r"'([^']+)'", err.message)
        return f"unknown entry {', '.join(repr(e) for e in extra)}: check the spelling or remove it"
    if kind == "type":
        wanted = {
            "string": "text in quotes",
            "integer": "a whole number",
            "number": "a number",
            "boolean": "true or false",
            "array": "a list [...]",
            "object": "a group {...}",
        }
        value: Any = err.validator_value
        types = [str(t) for t in (value if isinstance(value, list) else [value])]
        return f"should be {' or '.join(wanted.get(t, t) for t in types)}, not {json.dumps(err.instance, ensure_ascii=False)[:40]}"
    if kind == "enum":
        allowed: Any = err.validator_value
        options = ", ".join(json.dumps(v, ensure_ascii=False) for v in allowed)
        return f"{json.dumps(err.instance, ensure_ascii=False)} is not allowed here; use one of {options}"
    if kind == "pattern":
        return f"{json.dumps(err.instance, ensure_ascii=False)} is not in the expected form"
    if kind in {"minItems", "minLength"}:
        return "must not be empty"
    if kind in {"maxItems", "maxLength"}:
        return "is too long"
    if kind in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        return f"{err.instance} is out of range ({kind} {err.validator_value})"
    if kind == "format":
        return f"{json.dumps(err.instance, ensure_ascii=False)} is not a valid {err.validator_value}"
    return err.message


def lint(body: bytes, file_name: str = "") -> list[Finding]:
    """Everything wrong with a package, most basic first; empty when it loads."""
    try:
        doc = json.loads(body)
    except UnicodeDecodeError:
        return [Finding("", "the file is not UTF-8 text: save it as UTF-8")]
    except json.JSONDecodeError as err:
        return [
            Finding(
                f"line {err.lineno}, column {err.colno}",
                f"not valid JSON ({err.msg}): "
                "look for a missing comma, quote or bracket just before this place",
            )
        ]
    if not isinstance(doc, dict):
        return [Finding("", "a package is one group {...} at the top level")]
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(
        validator.iter_errors(doc), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))
    )
    findings = [Finding(_where(e.absolute_path), _schema_message(e)) for e in errors]
    if findings:
        return findings
    if file_name and doc.get("id") and file_name.removesuffix(".json") != doc["id"]:
        findings.append(Finding("id", f"the id {doc['id']!r} must match the file name {file_name!r}"))
    try:
        load_package(body)
    except PackageRejected as err:
        findings.append(Finding("", str(err)))
        return findings
    review = doc["review"]
    if review.get("mode") != "manual" and "inputs" not in review:
        used = sorted(rule_input_names(review["decision"]) | set(review["required_inputs"]))
        findings.append(
            Finding(
                "review",
                "'inputs' is missing: declare every value the rules read, each with its source"
                f" (the rules read {', '.join(used)})",
            )
        )
    return findings


def run_golden(pkg: ItemPackage, engine: ReviewEngine) -> list[GoldenResult]:
    results = []
    for case in pkg.golden_cases:
        decision = engine.review(pkg, case.inputs)
        expected = (case.expected_decision, tuple(sorted(case.expected_reasons)))
        actual = (decision.outcome.value, tuple(sorted(decision.reasons)))
        results.append(GoldenResult(case.name, expected == actual, expected, actual))
    return results


def rules(pkg: ItemPackage) -> list[Rule]:
    """Every row of every decision table."""
    graph = json.loads(pkg.decision_jdm)
    out: list[Rule] = []
    for node in graph["nodes"]:
        if node["type"] != "decisionTableNode":
            continue
        content = node.get("content", {})
        cols = {o["field"]: o["id"] for o in content.get("outputs", [])}
        for n, row in enumerate(content.get("rules", []), start=1):
            out.append(
                Rule(
                    table=str(node.get("name") or node["id"]),
                    rule_id=str(row.get("_id", f"{node['id']}#{n}")),
                    number=n,
                    outcome=json.loads(row[cols["outcome"]]),
                    reason=json.loads(row[cols["reason"]]),
                )
            )
    return out


def fired_rule_ids(trace: Mapping[str, Any]) -> set[str]:
    """The decision-table rows a review's zen trace says matched."""
    fired: set[str] = set()
    for node in trace.values():
        if not isinstance(node, Mapping):
            continue
        data = node.get("traceData")
        for hit in data if isinstance(data, list) else [data]:
            if isinstance(hit, Mapping) and isinstance(hit.get("rule"), Mapping):
                rule_id = hit["rule"].get("_id")
                if isinstance(rule_id, str):
                    fired.add(rule_id)
    return fired


def uncovered_rules(pkg: ItemPackage, engine: ReviewEngine) -> list[Rule]:
    """Rows that no golden case makes fire: untested rules an author should add a case for."""
    fired: set[str] = set()
    for case in pkg.golden_cases:
        decision = engine.review(pkg, case.inputs)
        zen = decision.trace.get("zen")
        if isinstance(zen, Mapping):
            fired |= fired_rule_ids(zen)
    return [r for r in rules(pkg) if r.rule_id not in fired]


_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def bump_version(body: bytes, part: str = "patch") -> tuple[bytes, str]:
    """The package with its version raised (``major``, ``minor`` or ``patch``), same layout."""
    doc = json.loads(body)
    m = _VERSION.match(str(doc.get("version", "")))
    if m is None:
        raise PackageRejected(f"version {doc.get('version')!r} is not of the form 1.2.3")
    major, minor, patch = (int(x) for x in m.groups())
    if part == "major":
        major, minor, patch = major + 1, 0, 0
    elif part == "minor":
        minor, patch = minor + 1, 0
    elif part == "patch":
        patch += 1
    else:
        raise ValueError(f"unknown version part {part!r}")
    doc["version"] = f"{major}.{minor}.{patch}"
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode(), doc["version"]


def form_preview_rows(pkg: ItemPackage) -> Sequence[tuple[str, str]]:
    """(label, how it is filled) for every form field, for the form preview."""
    rows = []
    for f in pkg.form:
        how = f.source or "typed by the citizen"
        flags = [x for x, on in (("required", f.required), ("read-only", f.readonly)) if on]
        rows.append((f"{f.label_zh} / {f.label_en}", how + (f" ({', '.join(flags)})" if flags else "")))
    return rows
