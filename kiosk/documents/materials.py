"""Field extraction from OCR'd materials, driven by a material spec given as plain data.

A material (e.g. the lease 房屋租赁合同) names its fields in the item package::

    {"key": "lessee", "label": "承租方(?:\\(乙方\\))?", "value": "(.+)", "normaliser": "text"}

:func:`extract_fields` finds each field's label on the page by layout
(:mod:`kiosk.documents.layout`: after :func:`normalise_text`, so full-width ``（）：`` match
``():`` and spaced-out label characters match the label), takes the value right of it or below
it (joining the wrapped lines of a ``multiline`` field) and applies the value regex (group 1, or
the named group ``value``, or the whole match).
:func:`cross_check` compares extracted values with what the kiosk already knows
(ID card name, form fields).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.documents.layout import Page, find_value
from kiosk.documents.ocr import OcrLine, Point

#: Characters OCR confuses in code-like fields (ID numbers, licence numbers): letter -> digit.
_CODE_CONFUSABLES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "l": "1",
        "I": "1",
        "i": "1",
        "|": "1",
        "Z": "2",
        "S": "5",
        "B": "8",
    }
)
#: The same for unified social credit codes (GB 32100), whose alphabet has no I, O, S, V or Z but
#: does use B, D and Q: only the letters it lacks are mapped.
_USCC_CONFUSABLES = str.maketrans(
    {"O": "0", "o": "0", "I": "1", "i": "1", "l": "1", "|": "1", "Z": "2", "S": "5"}
)
_SPACES = re.compile(r"\s+")
#: A date: ``2027年12月31日`` (the 日 required: a date cut before it, e.g. at a line break, is not a
#: date), or ``2027.12.31`` / ``2027-12-31`` / ``2027/12/31``.
_DATE = re.compile(
    r"(\d{4})\s*(?:年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日|[./-]\s*(\d{1,2})\s*[./-]\s*(\d{1,2})(?!\d))"
)


def _iso(m: re.Match[str]) -> str:
    month, day = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
    return f"{int(m.group(1)):04d}-{int(month):02d}-{int(day):02d}"


class MaterialSpecError(ValueError):
    """A field spec in an item package is invalid (bad regex, unknown normaliser)."""


def normalise_text(text: str, kind: str = "text") -> str:
    """Canonical form for matching and comparing.

    * every kind: NFKC (full-width letters, digits and punctuation to half-width,
      e.g. ``（乙方）：`` -> ``(乙方):``) and all whitespace removed;
    * ``code``: upper case, and letters OCR confuses with digits mapped to digits
      (O->0, l/I->1, ...), except a final ``X`` (ID-number check character);
    * ``uscc``: upper case, and only the letters a credit code never uses mapped to digits;
    * ``date``: ``2027年12月31日`` -> ``2027-12-31`` (unchanged when no date is found);
    * ``term``: every date in the text to ISO (``2019年5月8日至长期`` -> ``2019-05-08至长期``).
    """
    out = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    if kind == "code":
        out = out.translate(_CODE_CONFUSABLES).upper()
        if out.endswith("x"):
            out = out[:-1] + "X"
    elif kind == "uscc":
        out = out.translate(_USCC_CONFUSABLES).upper()
    elif kind == "date":
        m = _DATE.search(out)
        if m:
            out = _iso(m)
    elif kind == "term":
        out = _DATE.sub(_iso, out)
    elif kind != "text":
        raise MaterialSpecError(f"unknown normaliser {kind!r}")
    return out


NORMALISERS: dict[str, Callable[[str], str]] = {
    "text": lambda s: normalise_text(s, "text"),
    "code": lambda s: normalise_text(s, "code"),
    "uscc": lambda s: normalise_text(s, "uscc"),
    "date": lambda s: normalise_text(s, "date"),
    "term": lambda s: normalise_text(s, "term"),
}


@dataclass(frozen=True)
class FieldSpec:
    """How to find one field: ``label`` and ``value`` are regexes on normalised text;
    a ``multiline`` value may wrap onto the lines below (an address)."""

    key: str
    label: str
    value: str = "(.+)"
    normaliser: str = "text"
    multiline: bool = False

    def __post_init__(self) -> None:
        if self.normaliser not in NORMALISERS:
            raise MaterialSpecError(f"field {self.key!r}: unknown normaliser {self.normaliser!r}")
        for name, pattern in (("label", self.label), ("value", self.value)):
            try:
                re.compile(pattern)
            except re.error as err:
                raise MaterialSpecError(f"field {self.key!r}: bad {name} regex: {err}") from err

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FieldSpec:
        """From plain data (an item package); unknown keys are an error."""
        allowed = {"key", "label", "value", "normaliser", "multiline"}
        extra = set(data) - allowed
        if extra:
            raise MaterialSpecError(f"unknown field spec keys: {sorted(extra)}")
        try:
            return cls(
                str(data["key"]),
                str(data["label"]),
                str(data.get("value", "(.+)")),
                str(data.get("normaliser", "text")),
                bool(data.get("multiline", False)),
            )
        except KeyError as err:
            raise MaterialSpecError(f"incomplete field spec: missing {err}") from err
        except TypeError as err:
            raise MaterialSpecError(f"incomplete field spec: {err}") from err


@dataclass(frozen=True)
class ExtractedField:
    value: str  # normalised
    confidence: float  # the lowest confidence of the OCR lines the value came from
    box: tuple[Point, Point, Point, Point]  # around all of them
    lines: int = 1  # how many lines the value spans
    #: a multi-line value whose last line reaches the edge of its column: a continuation may have
    #: been missed, so the value must not be taken as complete
    truncated: bool = False
    #: found beside only part of its label (one character of a spaced two-character label)
    partial_label: bool = False

    def __repr__(self) -> str:  # values may be personal data
        return (
            f"ExtractedField(<{len(self.value)} chars>, confidence={self.confidence:.3f}, "
            f"lines={self.lines}, truncated={self.truncated})"
        )


@dataclass(frozen=True)
class CrossCheckResult:
    field: str
    expected: str
    found: str | None  # None when the field was not extracted
    match: bool


def _value_of(spec: FieldSpec, rest: str) -> str | None:
    if spec.normaliser == "code":  # let the value regex see digits where OCR read O, l, ...
        rest = normalise_text(rest, "code")
    m = re.search(spec.value, rest)
    if m is None:
        return None
    if "value" in m.groupdict():
        raw = m.group("value")
    elif m.groups():
        raw = m.group(1)
    else:
        raw = m.group(0)
    if raw is None:
        return None
    value = NORMALISERS[spec.normaliser](raw)
    return value or None


def extract_fields(lines: Sequence[OcrLine], field_specs: Sequence[FieldSpec]) -> dict[str, ExtractedField]:
    """Extract each spec'd field from the OCR lines of one page by layout
    (:mod:`kiosk.documents.layout`); the first label with an acceptable value wins, missing fields
    are absent."""
    page = Page(lines, [spec.label for spec in field_specs])
    found: dict[str, ExtractedField] = {}
    for spec in field_specs:

        def accept(raw: str, spec: FieldSpec = spec) -> bool:
            return _value_of(spec, raw) is not None

        got = find_value(page, spec.label, accept, multiline=spec.multiline)
        if got is None:
            continue
        value = _value_of(spec, got.raw)
        if value is None:
            continue
        found[spec.key] = ExtractedField(
            value, got.confidence, got.box, got.lines, got.truncated, got.partial_label
        )
    return found


def cross_check(
    extracted: Mapping[str, ExtractedField], expected: Mapping[str, str]
) -> list[CrossCheckResult]:
    """Compare extracted fields with expected values (both normalised as text), in ``expected`` order."""
    results: list[CrossCheckResult] = []
    for key, want in expected.items():
        got = extracted.get(key)
        found = got.value if got is not None else None
        match = found is not None and normalise_text(found) == normalise_text(want)
        results.append(CrossCheckResult(key, want, found, match))
    return results


#: The demo lease (房屋租赁合同) fields, as an item package would declare them.
LEASE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("lessor", r"出租方(?:\(甲方\))?"),
    FieldSpec("lessee", r"承租方(?:\(乙方\))?"),
    FieldSpec("lessee_id", r"乙方身份证(?:号码|号)?", r"(\d{17}[\dX]|\d{15})", "code"),
    FieldSpec("premises_address", r"房屋坐落|房屋地址|租赁房屋坐落", multiline=True),
    FieldSpec("term_start", r"租赁期限", r"(.+?)至", "date"),
    FieldSpec("term_end", r"租赁期限", r"至(.+)$", "date"),
)
