"""Field extraction from OCR'd materials, driven by a material spec given as plain data.

A material (e.g. the lease 房屋租赁合同) names its fields in the item package::

    {"key": "lessee", "label": "承租方(?:\\(乙方\\))?", "value": "(.+)", "normaliser": "text"}

:func:`extract_fields` finds, for each field, the OCR line that starts with the
label (after :func:`normalise_text`, so full-width ``（）：`` match ``():``), takes
what follows it (or the next line when the label stands alone) and applies the
value regex (group 1, or the named group ``value``, or the whole match).
:func:`cross_check` compares extracted values with what the kiosk already knows
(ID card name, form fields).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
_SPACES = re.compile(r"\s+")
_DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")


class MaterialSpecError(ValueError):
    """A field spec in an item package is invalid (bad regex, unknown normaliser)."""


def normalise_text(text: str, kind: str = "text") -> str:
    """Canonical form for matching and comparing.

    * every kind: NFKC (full-width letters, digits and punctuation to half-width,
      e.g. ``（乙方）：`` -> ``(乙方):``) and all whitespace removed;
    * ``code``: upper case, and letters OCR confuses with digits mapped to digits
      (O->0, l/I->1, ...), except a final ``X`` (ID-number check character);
    * ``date``: ``2027年12月31日`` -> ``2027-12-31`` (unchanged when no date is found);
    * ``term``: every date in the text to ISO (``2019年5月8日至长期`` -> ``2019-05-08至长期``).
    """
    out = _SPACES.sub("", unicodedata.normalize("NFKC", text))
    if kind == "code":
        out = out.translate(_CODE_CONFUSABLES).upper()
        if out.endswith("x"):
            out = out[:-1] + "X"
    elif kind == "date":
        m = _DATE.search(out)
        if m:
            out = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    elif kind == "term":
        out = _DATE.sub(lambda m: f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}", out)
    elif kind != "text":
        raise MaterialSpecError(f"unknown normaliser {kind!r}")
    return out


NORMALISERS: dict[str, Callable[[str], str]] = {
    "text": lambda s: normalise_text(s, "text"),
    "code": lambda s: normalise_text(s, "code"),
    "date": lambda s: normalise_text(s, "date"),
    "term": lambda s: normalise_text(s, "term"),
}


@dataclass(frozen=True)
class FieldSpec:
    """How to find one field: ``label`` and ``value`` are regexes on normalised text."""

    key: str
    label: str
    value: str = "(.+)"
    normaliser: str = "text"

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
        allowed = {"key", "label", "value", "normaliser"}
        extra = set(data) - allowed
        if extra:
            raise MaterialSpecError(f"unknown field spec keys: {sorted(extra)}")
        try:
            return cls(**{k: str(v) for k, v in data.items()})
        except TypeError as err:
            raise MaterialSpecError(f"incomplete field spec: {err}") from err


@dataclass(frozen=True)
class ExtractedField:
    value: str  # normalised
    confidence: float  # the OCR line's confidence
    box: tuple[Point, Point, Point, Point]

    def __repr__(self) -> str:  # values may be personal data
        return f"ExtractedField(<{len(self.value)} chars>, confidence={self.confidence:.3f})"


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
    """Extract each spec'd field from OCR lines (first labelled line wins); missing fields are absent."""
    texts = [normalise_text(line.text) for line in lines]
    found: dict[str, ExtractedField] = {}
    for spec in field_specs:
        label = re.compile(rf"^(?:{spec.label})[:：]?(?P<rest>.*)$")
        for i, text in enumerate(texts):
            m = label.match(text)
            if m is None:
                continue
            rest = m.group("rest")
            line = lines[i]
            if not rest and i + 1 < len(lines):  # label alone, value on the next line
                rest = texts[i + 1]
                line = lines[i + 1]
            value = _value_of(spec, rest)
            if value is None and i + 1 < len(lines) and line is lines[i]:
                # a stray glyph after the label (e.g. "有效期限2"): try the next line
                value = _value_of(spec, texts[i + 1])
                line = lines[i + 1]
            if value is None:
                continue
            found[spec.key] = ExtractedField(value, line.confidence, line.box)
            break
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
    FieldSpec("premises_address", r"房屋坐落|房屋地址|租赁房屋坐落"),
    FieldSpec("term_start", r"租赁期限", r"(.+?)至", "date"),
    FieldSpec("term_end", r"租赁期限", r"至(.+)$", "date"),
)
