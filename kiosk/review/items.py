"""Service item rule packages: parse, validate and search.

A package is one JSON document (``items/<item_id>.json``) described in
``docs/rule-package.md`` and ``kiosk/review/rule-package.schema.json``.  Packages arrive from the
platform (a trust boundary), so :func:`load_package` validates everything it can before a
package is used: the JSON Schema, the allowed JDM node kinds (no JavaScript), references
between parts, reason codes, and that zen-engine accepts the graph.  Golden cases are run
separately by :func:`kiosk.review.engine.run_golden_cases`.

Limits (a 50,000-rule package took 4.6 s and 519 MB, 100,000-deep nesting raised
``RecursionError``): the package is at most 1 MiB, nested at most 32 levels, with at most
100,000 JSON values (:data:`kiosk.limits.PACKAGE_LIMITS`), at most :data:`MAX_JDM_NODES` graph
nodes, :data:`MAX_JDM_EDGES` edges, :data:`MAX_RULES` decision-table rules in all and
:data:`MAX_GOLDEN_CASES` golden cases.  Each is refused with a :class:`PackageRejected` that
says which limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import zen

from kiosk.limits import PACKAGE_LIMITS, parse_json
from kiosk.review import checks
from kiosk.review.applicants import IN_PERSON, Applicants, check_package, form_errors
from kiosk.review.catalogue_entry import CatalogueEntry, LifeEventRef, Text, parse_catalogue
from kiosk.review.inputs import InputDecl, check_declared
from kiosk.review.manual_review import with_manual_review

__all__ = [
    "ALLOWED_NODE_TYPES",
    "DEFAULT_MAX_OFFLINE_DAYS",
    "FORM_ERRORS",
    "OUTCOMES",
    "SCHEMA_PATH",
    "SYSTEM_REASONS",
    "CatalogueEntry",
    "CertificateTemplate",
    "CommitmentTemplate",
    "CrossCheckSpec",
    "DeliveryOptions",
    "ExtractSpec",
    "FormField",
    "GoldenCase",
    "InputDecl",
    "ItemPackage",
    "LifeEventRef",
    "MaterialSpec",
    "OutputTemplates",
    "PackageRejected",
    "Text",
    "load_package",
    "load_packages",
    "pkg_offline_too_long",
]

log = logging.getLogger(__name__)

#: The identity carriers of an item that does not say (``identity.carriers``).
DEFAULT_CARRIERS = ("id_card", "e_id_qr")

SCHEMA_PATH = Path(__file__).resolve().parent / "rule-package.schema.json"
ALLOWED_NODE_TYPES = frozenset(
    {"inputNode", "outputNode", "decisionTableNode", "expressionNode", "switchNode"}
)
OUTCOMES = ("approve", "reject", "manual")
#: Limits on the decision graph (the real packages use 5 nodes and 14 rules at most).
MAX_JDM_NODES = 200
MAX_JDM_EDGES = 1_000
MAX_RULES = 2_000
MAX_GOLDEN_CASES = 500
#: The i18n keys :meth:`FormField.check` / :meth:`ItemPackage.validate_form` return.
FORM_ERRORS = (
    "form.error.required",
    "form.error.too_long",
    "form.error.phone",
    "form.error.date",
    "form.error.number",
    "form.error.id_number",
    "form.error.option",
    "form.error.pattern",
    "form.error.uscc",
)
# Shape only; the GB 11643 check digit is kiosk.identity.cards's business (the review input id_number_valid).
# 18 characters (resident; 2023 foreigner's permanent residence card) or 3 letters + 12 digits
# (2017 foreigner's permanent residence card).
_ID_NUMBER_SHAPE = re.compile(r"^(\d{17}[\dX]|[A-Z]{3}\d{12})$")


#: Default ``max_offline_days`` of a package.
DEFAULT_MAX_OFFLINE_DAYS = 7


def pkg_offline_too_long(
    last_verified_at: float | None, now: float, max_offline_days: int = DEFAULT_MAX_OFFLINE_DAYS
) -> bool:
    """True when a package last verified at ``last_verified_at`` (epoch s; None = never verified)
    may no longer decide on its own at ``now``: its items go to manual review (``package_stale``)."""
    if last_verified_at is None:
        return True
    return now - last_verified_at > max_offline_days * 86400.0


class PackageRejected(ValueError):
    """The package must not be used: malformed, outside the schema, or unsafe."""


@dataclass(frozen=True)
class SelectOption:
    value: str
    label: Text


@dataclass(frozen=True)
class FormField:
    key: str
    label: Text
    type: str  # text | date | phone | number | select | id_number
    required: bool
    readonly: bool = False
    source: str | None = None  # idcard.<f> | computed.<f> | materials.<type>.<f> | form.<k> | literal:<v>
    pattern: str | None = None
    max_length: int | None = None
    options: tuple[SelectOption, ...] = ()

    @property
    def label_zh(self) -> str:
        return self.label.zh

    @property
    def label_en(self) -> str:
        return self.label.en

    @property
    def default(self) -> str | None:
        """The literal default when ``source`` is ``literal:<value>``."""
        if self.source is not None and self.source.startswith("literal:"):
            return self.source.removeprefix("literal:")
        return None

    def check(self, value: str) -> str | None:
        """The i18n error key for ``value``, or ``None`` when it is acceptable (see FORM_ERRORS)."""
        value = value.strip()
        if not value:
            return "form.error.required" if self.required else None
        if self.max_length is not None and len(value) > self.max_length:
            return "form.error.too_long"
        if self.type == "phone" and not checks.is_cn_mobile(value):
            return "form.error.phone"
        if self.type == "date" and checks.parse_iso_date(value) is None:
            return "form.error.date"
        if self.type == "number":
            try:
                float(value)
            except ValueError:
                return "form.error.number"
        if self.type == "id_number" and not _ID_NUMBER_SHAPE.match(value.upper()):
            return "form.error.id_number"
        if self.type == "select" and value not in {o.value for o in self.options}:
            return "form.error.option"
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return "form.error.pattern"
        return None


@dataclass(frozen=True)
class ExtractSpec:
    """One field to extract from a material's OCR lines (see kiosk.documents.materials.FieldSpec).

    Both regexes apply to NFKC-normalised text without whitespace; the value is group
    ``value``, else group 1, else the whole match, then normalised by ``normaliser``."""

    key: str
    label: Text
    label_regex: str
    value_regex: str
    normaliser: str = "text"  # text | code | uscc | date | term
    #: kiosk.documents.extractors.VALIDATORS name; None: the built-in extractor's, else nonempty
    validator: str | None = None
    #: OCR confidence below which the citizen confirms the value; None: the built-in default
    min_confidence: float | None = None
    #: the value may wrap onto the lines below (an address); None: the built-in default
    multiline: bool | None = None


@dataclass(frozen=True)
class CrossCheckSpec:
    field: str  # an ExtractSpec key of the same material
    against: str  # "idcard.name" | "idcard.address" | "idcard.id_number" | "form.<key>"


@dataclass(frozen=True)
class MaterialSpec:
    type: str
    name: Text
    required: bool
    extract: tuple[ExtractSpec, ...]
    cross_checks: tuple[CrossCheckSpec, ...]


@dataclass(frozen=True)
class GoldenCase:
    name: str
    inputs: Mapping[str, Any]
    expected_decision: str
    expected_reasons: tuple[str, ...]


@dataclass(frozen=True)
class CertificateTemplate:
    title: Text
    number_prefix: str
    authority: Text  # the issuing authority printed with the seal
    fields: tuple[tuple[Text, str], ...]  # (label, source)

    @property
    def title_zh(self) -> str:
        return self.title.zh

    @property
    def title_en(self) -> str:
        return self.title.en


@dataclass(frozen=True)
class DeliveryOptions:
    """``outputs.delivery``: methods the item allows (kiosk.outputs.delivery.DeliveryMethod values)."""

    options: tuple[str, ...]  # print_here | window | express
    default: str


@dataclass(frozen=True)
class CommitmentTemplate:
    """``outputs.commitment``: the commitment form (承诺单) printed with the signature."""

    title: Text
    text: Text
    originals: tuple[Text, ...]  # originals to present later (may be empty)
    deadline_days: int
    outcomes: tuple[str, ...]  # approve | manual


@dataclass(frozen=True)
class OutputTemplates:
    receipt_title: Text
    certificate: CertificateTemplate | None
    delivery: DeliveryOptions | None = None  # None: no choice offered (receipt only)
    commitment: CommitmentTemplate | None = None


@dataclass(frozen=True)
class ItemPackage:
    id: str
    version: str
    sha256: str  # of the package body exactly as received
    fresh_until: dt.date | None
    catalogue: CatalogueEntry
    form: tuple[FormField, ...]
    materials: tuple[MaterialSpec, ...]
    warning_lists: tuple[str, ...]
    required_inputs: tuple[str, ...]
    decision_jdm: str  # the JDM graph as canonical JSON text, for zen-engine
    reasons: Mapping[str, Text]
    golden_cases: tuple[GoldenCase, ...]
    outputs: OutputTemplates
    #: days the package may serve without a verified sync (R-OFFLINE); see offline_too_long
    max_offline_days: int = DEFAULT_MAX_OFFLINE_DAYS
    #: the review inputs the package declares (kiosk.review.inputs); empty: every built-in input
    inputs: tuple[InputDecl, ...] = ()
    #: ``review.mode: manual``: no automatic decision, every application goes to staff
    manual_only: bool = False
    #: ``identity.carriers``: what identifies the applicant (id_card, e_id_qr, ssc)
    carriers: tuple[str, ...] = DEFAULT_CARRIERS
    #: ``applicants``: for themselves, as an agent, for a legal person (kiosk.review.applicants)
    applicants: Applicants = IN_PERSON

    def offline_too_long(self, last_verified_at: float | None, now: float) -> bool:
        """True when the last verified sync (epoch s; None = never) is older than ``max_offline_days``."""
        return pkg_offline_too_long(last_verified_at, now, self.max_offline_days)

    def __repr__(self) -> str:
        return f"ItemPackage(id={self.id!r}, version={self.version!r}, sha256={self.sha256[:12]}…)"

    @property
    def name_zh(self) -> str:
        return self.catalogue.name.zh

    @property
    def name_en(self) -> str:
        return self.catalogue.name.en

    @property
    def certificate(self) -> CertificateTemplate | None:
        return self.outputs.certificate

    def validate_form(self, values: Mapping[str, str]) -> dict[str, str]:
        """Field key → i18n error key for every unacceptable value (empty dict: the form is fine)."""
        errors: dict[str, str] = {}
        for f in self.form:
            err = f.check(values.get(f.key, ""))
            if err is not None:
                errors[f.key] = err
        return {**form_errors(self.applicants, values), **errors}

    def field(self, key: str) -> FormField:
        for f in self.form:
            if f.key == key:
                return f
        raise KeyError(key)

    def material(self, type_: str) -> MaterialSpec:
        for m in self.materials:
            if m.type == type_:
                return m
        raise KeyError(type_)


#: Reasons the review engine itself can give; a package may override their texts.
SYSTEM_REASONS: Mapping[str, Text] = MappingProxyType(
    {
        "input_missing": Text(
            "审核所需信息不完整，转人工审核", "Information needed for the review is missing"
        ),
        "package_stale": Text("事项审核规则已过期，转人工审核", "The item's review rules are out of date"),
        "warning_list_stale": Text(
            "警示名单未及时更新，转人工审核", "A warning list is out of date and cannot be relied on"
        ),
        "review_timeout": Text("智能审核超时，转人工审核", "The automatic review took too long"),
        "review_error": Text("智能审核出错，转人工审核", "The automatic review failed"),
        "no_rule_matched": Text("未命中任何审核规则，转人工审核", "No review rule applied"),
        "staff_review": Text("本事项由工作人员审核办理", "Staff review this item"),
        "platform_lookup_unavailable": Text(
            "无法从平台查询审核所需信息，转人工审核",
            "The platform could not be asked for information the review needs",
        ),
    }
)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _text(d: Mapping[str, str]) -> Text:
    return Text(zh=d["zh"], en=d["en"])


def _texts(items: Iterable[Mapping[str, str]]) -> tuple[Text, ...]:
    return tuple(_text(d) for d in items)


def _check_graph(graph: Mapping[str, Any]) -> None:
    """Node kinds, wiring and decision table outputs; raises PackageRejected."""
    nodes = graph.get("nodes")
    if not isinstance(nodes, list):
        raise PackageRejected("review.decision has no node list")
    if len(nodes) > MAX_JDM_NODES:
        raise PackageRejected(f"decision graph has {len(nodes)} nodes (limit {MAX_JDM_NODES})")
    edges = graph.get("edges")
    if isinstance(edges, list) and len(edges) > MAX_JDM_EDGES:
        raise PackageRejected(f"decision graph has {len(edges)} edges (limit {MAX_JDM_EDGES})")
    rules = 0
    for node in nodes:
        content = node.get("content") if isinstance(node, Mapping) else None
        if isinstance(content, Mapping) and isinstance(content.get("rules"), list):
            rules += len(content["rules"])
    if rules > MAX_RULES:
        raise PackageRejected(f"decision tables have {rules} rules in all (limit {MAX_RULES})")
    for node in nodes:
        kind = node.get("type") if isinstance(node, Mapping) else None
        if not isinstance(kind, str) or kind not in ALLOWED_NODE_TYPES:
            raise PackageRejected(f"JDM node type {kind!r} is not allowed")


def _check_semantics(doc: Mapping[str, Any]) -> None:
    graph = doc["review"]["decision"]
    problems = check_declared(doc, graph) + check_package(doc)
    if problems:
        raise PackageRejected(problems[0])
    ids = [n["id"] for n in graph["nodes"]]
    if len(set(ids)) != len(ids):
        raise PackageRejected("duplicate JDM node ids")
    kinds = [n["type"] for n in graph["nodes"]]
    if kinds.count("inputNode") != 1 or kinds.count("outputNode") < 1:
        raise PackageRejected("JDM graph needs exactly one inputNode and at least one outputNode")
    for edge in graph["edges"]:
        if edge["sourceId"] not in ids or edge["targetId"] not in ids:
            raise PackageRejected(f"JDM edge {edge['id']!r} refers to a missing node")

    reasons = set(doc["reasons"]) | set(SYSTEM_REASONS)
    for node in graph["nodes"]:
        if node["type"] != "decisionTableNode":
            continue
        content = node.get("content", {})
        out_cols = {o["field"]: o["id"] for o in content.get("outputs", [])}
        if set(out_cols) != {"outcome", "reason"}:
            raise PackageRejected(f"decision table {node['id']!r} must output exactly 'outcome' and 'reason'")
        for rule in content.get("rules", []):
            try:
                outcome = json.loads(rule.get(out_cols["outcome"], ""))
                reason = json.loads(rule.get(out_cols["reason"], ""))
            except (ValueError, TypeError, AttributeError) as err:
                raise PackageRejected(
                    f"decision table {node['id']!r}: outputs must be string literals"
                ) from err
            if not isinstance(outcome, str) or not isinstance(reason, str):
                raise PackageRejected(f"decision table {node['id']!r}: outputs must be string literals")
            if outcome not in OUTCOMES:
                raise PackageRejected(f"decision table {node['id']!r}: unknown outcome {outcome!r}")
            if reason not in reasons:
                raise PackageRejected(f"decision table {node['id']!r}: reason {reason!r} has no text")

    form_keys = {f["key"] for f in doc["form"]["fields"]}
    material_fields = {(m["type"], e["key"]) for m in doc["materials"] for e in m["extract"]}
    for f in doc["form"]["fields"]:
        src = f.get("source", "")
        if src.startswith("form.") and src[5:] not in form_keys:
            raise PackageRejected(f"form field {f['key']!r}: source {src!r} names no form field")
        if src.startswith("materials."):
            _, mtype, mkey = src.split(".", 2)
            if (mtype, mkey) not in material_fields:
                raise PackageRejected(f"form field {f['key']!r}: source {src!r} names no extracted field")
    for m in doc["materials"]:
        keys = {e["key"] for e in m["extract"]}
        for cc in m["cross_checks"]:
            if cc["field"] not in keys:
                raise PackageRejected(
                    f"material {m['type']!r}: cross-check field {cc['field']!r} not extracted"
                )
            if cc["against"].startswith("form.") and cc["against"][5:] not in form_keys:
                raise PackageRejected(
                    f"material {m['type']!r}: cross-check against unknown {cc['against']!r}"
                )
    delivery = doc["outputs"].get("delivery")
    if delivery is not None and delivery["default"] not in delivery["options"]:
        raise PackageRejected(f"outputs.delivery: default {delivery['default']!r} is not one of the options")
    for case in doc["golden_cases"]:
        unknown = [r for r in case["expected_reasons"] if r not in reasons]
        if unknown:
            raise PackageRejected(f"golden case {case['name']!r}: unknown reasons {unknown}")


def load_package(body: bytes) -> ItemPackage:
    """Parse and validate one package; raises :class:`PackageRejected` with the cause."""
    sha256 = hashlib.sha256(body).hexdigest()
    try:
        doc = parse_json(body, PACKAGE_LIMITS, "rule package")
    except ValueError as err:  # UnicodeDecodeError, JSONDecodeError and LimitExceeded are ValueErrors
        raise PackageRejected(
            f"not JSON: {err}" if isinstance(err, json.JSONDecodeError) else str(err)
        ) from err
    if not isinstance(doc, dict):
        raise PackageRejected("package is not a JSON object")
    golden = doc.get("golden_cases")
    if isinstance(golden, list) and len(golden) > MAX_GOLDEN_CASES:
        raise PackageRejected(f"package has {len(golden)} golden cases (limit {MAX_GOLDEN_CASES})")
    review = doc.get("review")
    if isinstance(review, Mapping) and isinstance(review.get("decision"), Mapping):
        _check_graph(review["decision"])  # clearer message than the schema's enum error
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise PackageRejected(f"schema violation at {where}: {first.message}")
    if doc["review"].get("mode") != "manual" and "decision" not in doc["review"]:
        raise PackageRejected("review.decision is missing: add the rules, or declare review.mode manual")
    doc = with_manual_review(doc)
    try:
        _check_semantics(doc)
    except (TypeError, AttributeError, KeyError) as err:  # a shape the schema let through
        raise PackageRejected(f"inconsistent package: {type(err).__name__}: {err}") from err

    decision_jdm = json.dumps(doc["review"]["decision"], ensure_ascii=False, sort_keys=True)
    try:
        zen.ZenEngine().create_decision(decision_jdm).validate()
    except Exception as err:  # zen raises plain RuntimeError/ValueError for bad graphs
        raise PackageRejected(f"zen-engine refuses the decision graph: {err}") from err

    cat = doc["catalogue"]
    outputs = doc["outputs"]
    cert = outputs.get("certificate")
    delivery = outputs.get("delivery")
    commitment = outputs.get("commitment")
    pkg = ItemPackage(
        id=doc["id"],
        version=doc["version"],
        sha256=sha256,
        fresh_until=dt.date.fromisoformat(doc["fresh_until"]) if "fresh_until" in doc else None,
        catalogue=parse_catalogue(cat),
        form=tuple(
            FormField(
                key=f["key"],
                label=_text(f["label"]),
                type=f["type"],
                required=f["required"],
                readonly=f.get("readonly", False),
                source=f.get("source"),
                pattern=f.get("pattern"),
                max_length=f.get("max_length"),
                options=tuple(SelectOption(o["value"], _text(o["label"])) for o in f.get("options", ())),
            )
            for f in doc["form"]["fields"]
        ),
        materials=tuple(
            MaterialSpec(
                type=m["type"],
                name=_text(m["name"]),
                required=m["required"],
                extract=tuple(
                    ExtractSpec(
                        e["key"],
                        _text(e["label"]),
                        e["label_regex"],
                        e["value_regex"],
                        e.get("normaliser", "text"),
                        e.get("validator"),
                        float(e["min_confidence"]) if "min_confidence" in e else None,
                        bool(e["multiline"]) if "multiline" in e else None,
                    )
                    for e in m["extract"]
                ),
                cross_checks=tuple(CrossCheckSpec(c["field"], c["against"]) for c in m["cross_checks"]),
            )
            for m in doc["materials"]
        ),
        warning_lists=tuple(doc["warning_lists"]),
        required_inputs=tuple(doc["review"]["required_inputs"]),
        inputs=tuple(InputDecl(d["name"], d["source"]) for d in doc["review"].get("inputs", ())),
        manual_only=doc["review"].get("mode") == "manual",
        carriers=tuple(doc.get("identity", {}).get("carriers", DEFAULT_CARRIERS)),
        applicants=Applicants.from_doc(doc),
        decision_jdm=decision_jdm,
        reasons=MappingProxyType({code: _text(t) for code, t in doc["reasons"].items()}),
        golden_cases=tuple(
            GoldenCase(
                name=c["name"],
                inputs=MappingProxyType(dict(c["inputs"])),
                expected_decision=c["expected_decision"],
                expected_reasons=tuple(c["expected_reasons"]),
            )
            for c in doc["golden_cases"]
        ),
        outputs=OutputTemplates(
            receipt_title=_text(outputs["receipt"]["title"]),
            certificate=None
            if cert is None
            else CertificateTemplate(
                title=_text(cert["title"]),
                number_prefix=cert.get("number_prefix", ""),
                authority=_text(cert["authority"]),
                fields=tuple((_text(f["label"]), f["source"]) for f in cert["fields"]),
            ),
            delivery=None
            if delivery is None
            else DeliveryOptions(options=tuple(delivery["options"]), default=delivery["default"]),
            commitment=None
            if commitment is None
            else CommitmentTemplate(
                title=_text(commitment["title"]),
                text=_text(commitment["text"]),
                originals=_texts(commitment.get("originals", ())),
                deadline_days=int(commitment["deadline_days"]),
                outcomes=tuple(commitment["outcomes"]),
            ),
        ),
        max_offline_days=int(doc.get("max_offline_days", DEFAULT_MAX_OFFLINE_DAYS)),
    )
    log.info("loaded package %s %s sha256=%s", pkg.id, pkg.version, sha256[:12])
    return pkg


def load_packages(directory: Path) -> dict[str, ItemPackage]:
    """Every ``*.json`` package directly in ``directory`` (not sub-folders), keyed by id.

    A file whose name does not match its ``id`` is refused."""
    packages: dict[str, ItemPackage] = {}
    for path in sorted(directory.glob("*.json")):
        pkg = load_package(path.read_bytes())
        if pkg.id != path.stem:
            raise PackageRejected(f"{path.name}: id {pkg.id!r} does not match the file name")
        packages[pkg.id] = pkg
    return packages
