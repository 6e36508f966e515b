"""Per-material extractors declared as data: labels, value regexes, normalisers, validators.

An extractor spec is plain data (it can live in an item's rule package)::

    {"material": "business_licence",
     "regions": [[0, 0, 1, 1]],
     "fields": [{"key": "uscc", "label": "统一社会信用代码", "value": "([0-9A-Z]{18})",
                 "normaliser": "code", "validator": "uscc", "min_confidence": 0.9}, ...]}

:func:`run_extractor` finds every field with :func:`kiosk.documents.materials.extract_fields`,
validates it and marks it ``needs_confirmation`` when it is missing, its OCR
confidence is below ``min_confidence`` or its validator fails: the screen then
asks the citizen to confirm or correct it, showing the crop at ``box``.
:func:`extract_key_values` is the generic ``label：value`` extractor.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.documents.materials import (
    NORMALISERS,
    FieldSpec,
    MaterialSpecError,
    extract_fields,
    normalise_text,
)
from kiosk.documents.ocr import OcrLine, Point, Region
from kiosk.identity.cards import validate_id_number
from kiosk.review.checks import is_uscc, parse_iso_date

Box = tuple[Point, Point, Point, Point]


def _is_date(v: str) -> bool:
    return parse_iso_date(v) is not None


def _is_term(v: str) -> bool:
    """``2020-01-01至长期`` / ``2020-01-01至2040-12-31`` / ``长期``."""
    parts = [p for p in re.split(r"至|—", v) if p]
    return bool(parts) and all(p in ("长期", "永久") or _is_date(p) for p in parts)


_CURRENCY = r"(?:人民币|美元|港元|港币|欧元|日元)"
_AMOUNT = r"(?:\d[\d,]*(?:\.\d+)?|[零〇壹贰贰叁肆伍陆柒捌玖拾佰仟万亿一二三四五六七八九十百千两]+)"
_MONEY = re.compile(
    rf"(?:{_CURRENCY}[:：]?)?{_AMOUNT}(?:万|亿)?{_CURRENCY}?元?(?:整)?(?:{_CURRENCY}|\({_CURRENCY}\))?(?:整)?"
)


def _is_money(v: str) -> bool:
    """An amount as printed on licences and contracts: ``200万元``, ``贰佰万元（人民币）``,
    ``人民币贰佰万元整``, ``(人民币)200万元``, ``188万元整``, ``100万美元`` (NFKC'd, no spaces)."""
    v = unicodedata.normalize("NFKC", v).replace(" ", "")
    v = re.sub(rf"^\({_CURRENCY}\)", "", v)  # a leading bracketed currency
    if not v or not re.search(r"[\d零〇壹贰叁肆伍陆柒捌玖拾佰仟一二三四五六七八九十百千两]", v):
        return False
    if not re.search(r"元|万|亿", v):
        return False
    return _MONEY.fullmatch(v) is not None


#: 企业类型 as printed on licences: a closed vocabulary, optionally with its bracketed detail
#: (``有限责任公司(自然人投资或控股)``) and branch suffix; NFKC'd text (half-width brackets).
_COMPANY_TYPE = re.compile(
    r"(?:其他)?(?:(?:有限责任|股份有限)公司|个人独资企业|(?:普通|有限|特殊普通)?合伙企业|个体工商户|农民专业合作社"
    r"|全民所有制|集体所有制|股份合作制|(?:外商投资|外国\(地区\))企业|非公司企业法人)(?:分公司)?"
    r"(?:\([^()]{1,40}\))?(?:分公司)?"
)

VALIDATORS: dict[str, Callable[[str], bool]] = {
    "none": lambda v: True,
    "nonempty": lambda v: bool(v),
    "uscc": is_uscc,
    "id_number": lambda v: validate_id_number(v).ok,
    "date": _is_date,
    "term": _is_term,
    "money": _is_money,
    "company_type": lambda v: _COMPANY_TYPE.fullmatch(v) is not None,
    # a person's name: 2-6 characters, or longer with the middle dot of transliterated names
    "cjk_name": lambda v: (
        re.fullmatch(r"[\u4e00-\u9fff]{2,6}|[\u4e00-\u9fff]{1,10}(?:·[\u4e00-\u9fff]{1,10})+", v) is not None
    ),
}


class ConfirmReason(enum.Enum):
    """Why a field needs the citizen's confirmation; values are stable identifiers."""

    MISSING = "missing"
    LOW_CONFIDENCE = "low_confidence"
    INVALID = "invalid"
    #: a multi-line value whose continuation may have been missed (its last line fills its column)
    TRUNCATED = "truncated"


@dataclass(frozen=True)
class FieldRule:
    key: str
    label: str
    value: str = "(.+)"
    normaliser: str = "text"
    validator: str = "nonempty"
    min_confidence: float = 0.85
    required: bool = True
    multiline: bool = False

    def __post_init__(self) -> None:
        if self.validator not in VALIDATORS:
            raise MaterialSpecError(f"field {self.key!r}: unknown validator {self.validator!r}")
        if self.normaliser not in NORMALISERS:
            raise MaterialSpecError(f"field {self.key!r}: unknown normaliser {self.normaliser!r}")
        if not 0.0 <= self.min_confidence <= 1.0:
            raise MaterialSpecError(f"field {self.key!r}: min_confidence must be within 0..1")
        self.spec  # compiles the regexes  # noqa: B018

    @property
    def spec(self) -> FieldSpec:
        return FieldSpec(self.key, self.label, self.value, self.normaliser, self.multiline)


@dataclass(frozen=True)
class ExtractorSpec:
    material: str
    fields: tuple[FieldRule, ...]
    #: Known-layout regions to OCR (fractions of the rectified page); the whole page by default.
    regions: tuple[Region, ...] = ((0.0, 0.0, 1.0, 1.0),)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExtractorSpec:
        extra = set(data) - {"material", "fields", "regions"}
        if extra:
            raise MaterialSpecError(f"unknown extractor keys: {sorted(extra)}")
        fields: list[FieldRule] = []
        allowed = {
            "key",
            "label",
            "value",
            "normaliser",
            "validator",
            "min_confidence",
            "required",
            "multiline",
        }
        for f in data.get("fields", []):
            bad = set(f) - allowed
            if bad:
                raise MaterialSpecError(f"unknown field rule keys: {sorted(bad)}")
            try:
                fields.append(FieldRule(**f))
            except TypeError as err:
                raise MaterialSpecError(f"incomplete field rule: {err}") from err
        regions = tuple(
            (float(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in data.get("regions", [[0, 0, 1, 1]])
        )
        return cls(str(data["material"]), tuple(fields), regions)


@dataclass(frozen=True)
class Field:
    """One extracted field: normalised value, OCR confidence, source box (page pixels)."""

    key: str
    value: str | None
    confidence: float
    box: Box | None
    valid: bool
    needs_confirmation: bool
    reason: ConfirmReason | None = None

    def __repr__(self) -> str:  # values may be personal data
        n = len(self.value) if self.value is not None else 0
        return (
            f"Field({self.key}, <{n} chars>, confidence={self.confidence:.3f}, "
            f"needs_confirmation={self.needs_confirmation})"
        )


@dataclass(frozen=True)
class Extraction:
    material: str
    fields: Mapping[str, Field]

    @property
    def to_confirm(self) -> tuple[str, ...]:
        return tuple(k for k, f in self.fields.items() if f.needs_confirmation)

    def values(self) -> dict[str, str]:
        return {k: f.value for k, f in self.fields.items() if f.value is not None}


def run_extractor(lines: Sequence[OcrLine], spec: ExtractorSpec) -> Extraction:
    """Extract, validate and flag every field of ``spec`` from OCR lines."""
    found = extract_fields(lines, [r.spec for r in spec.fields])
    out: dict[str, Field] = {}
    for rule in spec.fields:
        got = found.get(rule.key)
        if got is None:
            out[rule.key] = Field(rule.key, None, 0.0, None, False, rule.required, ConfirmReason.MISSING)
            continue
        valid = VALIDATORS[rule.validator](got.value) and not got.truncated
        reason = None
        if got.truncated:
            reason = ConfirmReason.TRUNCATED
        elif not valid:
            reason = ConfirmReason.INVALID
        elif got.confidence < rule.min_confidence or got.partial_label:
            reason = ConfirmReason.LOW_CONFIDENCE
        out[rule.key] = Field(rule.key, got.value, got.confidence, got.box, valid, reason is not None, reason)
    _check_birth_against_number(out)
    return Extraction(spec.material, out)


def _check_birth_against_number(fields: dict[str, Field]) -> None:
    """An ID number carries its holder's birth date (digits 7-14): a printed birth date that
    disagrees with it marks both fields invalid (one of them is misread, or the card is forged)."""
    birth, number = fields.get("birth"), fields.get("id_number")
    if birth is None or number is None or birth.value is None or number.value is None:
        return
    if len(number.value) != 18 or not number.value[:17].isdigit():
        return
    digits = number.value[6:14]
    if birth.value.replace("-", "") == digits:
        return
    for f in (birth, number):
        fields[f.key] = dataclasses.replace(
            f, valid=False, needs_confirmation=True, reason=ConfirmReason.INVALID
        )


_KV = re.compile(r"^(?P<label>[^:：]{1,12})[:：](?P<value>.+)$")


def extract_key_values(lines: Sequence[OcrLine], min_confidence: float = 0.85) -> list[Field]:
    """Generic ``label：value`` form extractor: one field per line that looks like a pair.

    The key is the normalised label text; nothing is validated, so only confidence flags a field."""
    out: list[Field] = []
    seen: set[str] = set()
    for line in lines:
        m = _KV.match(normalise_text(line.text))
        if m is None:
            continue
        key, value = m.group("label"), m.group("value")
        if key in seen:
            continue
        seen.add(key)
        low = line.confidence < min_confidence
        reason = ConfirmReason.LOW_CONFIDENCE if low else None
        out.append(Field(key, value, line.confidence, line.box, True, low, reason))
    return out


_DATE_RE = r"(\d{4}\s*[年.\-]\s*\d{1,2}\s*[月.\-]\s*\d{1,2}\s*日?)"

#: Business licence (营业执照), company and individual-business wording both.
BUSINESS_LICENCE = ExtractorSpec(
    "business_licence",
    (
        FieldRule("uscc", "统一社会信用代码", r"([0-9A-Z]{18})", "uscc", "uscc", 0.9),
        FieldRule("name", "名称", multiline=True),
        FieldRule("type", "类型", validator="company_type"),
        FieldRule("representative", "法定代表人|经营者|负责人", validator="cjk_name"),
        FieldRule("address", "住所|经营场所|主要经营场所", multiline=True),
        FieldRule("registered_capital", "注册资本", validator="money", required=False),
        FieldRule("established", "成立日期|注册日期", _DATE_RE, "date", "date"),
        FieldRule("term", "营业期限|经营期限", r"(.+)", "term", "term", required=False),
    ),
    # the whole field block of portrait and landscape layouts (a landscape 2016 licence's address
    # row ends at 62 % of the height)
    regions=((0.0, 0.0, 1.0, 0.8),),
)

#: Resident ID card front (OCR fallback when the reader is unavailable).
ID_CARD_FRONT = ExtractorSpec(
    "id_card_front",
    (
        FieldRule("name", "姓名", validator="cjk_name"),
        # PP-OCR now and then reads the printed label 性别 as 性別 (the traditional form)
        FieldRule("sex", "性[别別]", r"^([男女])"),
        FieldRule("nation", r"性[别別][男女]民族|民族", r"([\u4e00-\u9fff]{1,8})$"),
        FieldRule("birth", "出生", _DATE_RE, "date", "date"),
        FieldRule("address", "住址", multiline=True),
        FieldRule("id_number", "公民身份号码|公民身份证号码", r"(\d{17}[\dX])", "code", "id_number", 0.9),
    ),
)

#: Resident ID card back.
ID_CARD_BACK = ExtractorSpec(
    "id_card_back",
    (
        FieldRule("authority", "签发机关"),
        FieldRule("valid_from", "有效期限", r"(\d{4}\.\d{2}\.\d{2})", "date", "date"),
        FieldRule("valid_until", "有效期限", r"-(\d{4}\.\d{2}\.\d{2}|长期)$", "date", "nonempty"),
    ),
)

#: The lease (房屋租赁合同), same fields as :data:`kiosk.documents.materials.LEASE_FIELDS` plus validators;
#: the labelled fields sit in the top 45 % of the page.
LEASE = ExtractorSpec(
    "lease",
    (
        FieldRule("lessor", r"出租方(?:\(甲方\))?"),
        FieldRule("lessee", r"承租方(?:\(乙方\))?", validator="cjk_name"),
        FieldRule("lessee_id", r"乙方身份证(?:号码|号)?", r"(\d{17}[\dX]|\d{15})", "code", "id_number", 0.9),
        FieldRule("premises_address", r"房屋坐落|房屋地址|租赁房屋坐落", multiline=True),
        FieldRule("term_start", "租赁期限", r"(.+?)至", "date", "date"),
        FieldRule("term_end", "租赁期限", r"至(.+)$", "date", "date"),
    ),
    regions=((0.0, 0.0, 1.0, 0.45),),
)

#: A 常住人口登记卡 page of the 居民户口簿 (household register): a ruled table of spaced labels.
HOUSEHOLD_REGISTER = ExtractorSpec(
    "household_register",
    (
        FieldRule("relation", "户主或与户主关系"),
        FieldRule("name", "姓名", validator="cjk_name"),
        # printed beside 姓名 and often empty: known, so it ends the name instead of joining it
        FieldRule("former_name", "曾用名", required=False),
        FieldRule("sex", "性[别別]", r"^([男女])"),
        FieldRule("nation", "民族", r"^([\u4e00-\u9fff]{1,8})"),
        FieldRule("birth", "出生日期", _DATE_RE, "date", "date"),
        FieldRule("native_place", "籍贯", required=False),
        FieldRule("id_number", "公民身份号码", r"(\d{17}[\dX])", "code", "id_number", 0.9),
        FieldRule("address", "住址", multiline=True),
    ),
    regions=((0.0, 0.0, 1.0, 0.7),),
)

EXTRACTORS: dict[str, ExtractorSpec] = {
    s.material: s for s in (BUSINESS_LICENCE, ID_CARD_FRONT, ID_CARD_BACK, LEASE, HOUSEHOLD_REGISTER)
}
