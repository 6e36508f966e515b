"""A material as the citizen hands it in: its pages, the fields read from all of them, the
fields the citizen confirmed or corrected, or an e-licence reused instead of paper (no Qt).

One :class:`MaterialResult` per material type lives in the session
(``SessionData.materials``) and is replaced whole on every change:

* :func:`add_page` / :func:`replace_page` / :func:`delete_page` change the pages and read the
  fields again over **all** pages (:func:`read_pages`); the citizen's earlier confirmations of
  that material are dropped, since what they confirmed may have changed;
* :func:`confirm_pages` records that the citizen checked the thumbnails;
* every field carries its OCR confidence, source box and page, and is flagged
  (``needs_confirmation``) when its confidence is below the rule's ``min_confidence`` or its
  validator fails; required fields not found at all are listed in ``unread``.  The citizen
  confirms or corrects them with :func:`confirm_field` (the corrected value is what the form,
  the cross-checks, the review and the case use; each change is kept as a :class:`Correction`);
* :func:`from_elicence` fills a material from a verified e-licence: no OCR, nothing to confirm,
  the source is the licence id.

The validator, confidence threshold and multi-line flag of a field are the rule package's when it
sets them, else those of the extractor of the same material in
:data:`kiosk.documents.extractors.EXTRACTORS`, else ``nonempty``, :data:`DEFAULT_MIN_CONFIDENCE` and
single-line (:func:`field_rules`).  Each page is laid out on its own; a field comes from the first
page that has it.
Values are personal data: nothing here logs them, and the reprs hide them.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from kiosk.documents.elicence import ELicence
from kiosk.documents.extractors import EXTRACTORS, VALIDATORS, ExtractorSpec, FieldRule, run_extractor
from kiosk.documents.materials import NORMALISERS, CrossCheckResult, ExtractedField, cross_check
from kiosk.documents.ocr import OcrLine, Point
from kiosk.review.items import MaterialSpec

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

Box = tuple[Point, Point, Point, Point]
_NO_BOX: Box = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0))

DEFAULT_MIN_CONFIDENCE = 0.85
#: Most pages one material may have (a lease of a few pages; more is a mistake or a stuck button).
MAX_PAGES = 8
_THUMB_HEIGHT = 240
_CROP_PAD = 12


class FieldSource(enum.Enum):
    """Where a field's value came from; values are stable identifiers (case records)."""

    OCR = "ocr"
    CITIZEN = "citizen"  # typed or corrected by the citizen on screen
    ELICENCE = "elicence"


class InvalidFieldValue(ValueError):
    """The citizen's value for a field fails the field's validator."""

    def __init__(self, key: str) -> None:
        super().__init__(f"invalid value for field {key!r}")
        self.key = key


@dataclass(frozen=True)
class MaterialPage:
    """One captured page: the corrected page image, its JPEG and thumbnail, and its OCR lines."""

    page_id: str
    image: Frame = field(repr=False, compare=False)
    jpeg: bytes = field(repr=False)
    thumb_jpeg: bytes = field(repr=False)
    sha256: str = ""
    lines: tuple[OcrLine, ...] = field(default=(), repr=False)
    ocr_ms: float = 0.0
    capture_issues: tuple[str, ...] = ()  # kiosk.documents.pagecapture.CaptureIssue values


@dataclass(frozen=True)
class MaterialField:
    """One field of a material: value (normalised), confidence, where it was read."""

    key: str
    value: str
    confidence: float
    box: Box | None  # page pixels; None for e-licence and typed values
    page: int | None  # index of the page it was read on
    valid: bool
    needs_confirmation: bool
    reason: str | None  # kiosk.documents.extractors.ConfirmReason value when flagged
    source: FieldSource = FieldSource.OCR
    confirmed: bool = False
    crop_jpeg: bytes = field(default=b"", repr=False)  # the source box of a flagged field

    @property
    def pending(self) -> bool:
        return self.needs_confirmation and not self.confirmed

    def __repr__(self) -> str:  # values are personal data
        return (
            f"MaterialField({self.key}, <{len(self.value)} chars>, confidence={self.confidence:.3f}, "
            f"source={self.source.value}, pending={self.pending})"
        )


@dataclass(frozen=True)
class Correction:
    """What the citizen changed: kept in the case (encrypted with it), never logged."""

    field: str
    original: str | None  # None when the field was not read at all
    corrected: str | None  # None when the citizen confirmed the field is absent
    confidence: float
    reason: str | None

    def __repr__(self) -> str:
        return f"Correction({self.field}, confidence={self.confidence:.3f}, reason={self.reason})"

    def to_record(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "original": self.original,
            "corrected": self.corrected,
            "confidence": round(self.confidence, 4),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class MaterialResult:
    """A material of the session: pages (or an e-licence), fields, cross-checks, corrections."""

    material_type: str
    fields: Mapping[str, MaterialField]
    checks: tuple[CrossCheckResult, ...] = field(repr=False)  # holds expected values: personal data
    ocr_ms: float = 0.0
    image_sha256: str = ""  # first page ("" for an e-licence)
    image_jpeg: bytes = field(default=b"", repr=False)  # first page (b"" for an e-licence)
    capture_issues: tuple[str, ...] = ()  # kiosk.documents.pagecapture.CaptureIssue values, all pages
    pages: tuple[MaterialPage, ...] = ()
    unread: tuple[str, ...] = ()  # required fields not found and not yet settled by the citizen
    pages_confirmed: bool = False
    corrections: tuple[Correction, ...] = ()
    licence_id: str | None = None  # set when the material is a reused e-licence

    @property
    def source(self) -> FieldSource:
        return FieldSource.ELICENCE if self.licence_id is not None else FieldSource.OCR

    @property
    def pending_fields(self) -> tuple[str, ...]:
        """Flagged fields not yet confirmed, then required fields not read."""
        return tuple(k for k, f in self.fields.items() if f.pending) + self.unread

    @property
    def ready(self) -> bool:
        """The citizen confirmed the pages and every flagged field: the review may use it."""
        return self.pages_confirmed and not self.pending_fields

    def values(self) -> dict[str, str]:
        return {k: f.value for k, f in self.fields.items()}


# --------------------------------------------------------------------------- rules
def field_rules(spec: MaterialSpec) -> dict[str, FieldRule]:
    """The package's fields of ``spec``: the validator, confidence threshold and multi-line flag
    the package sets, else those of the known extractor's field of the same key, else
    ``nonempty``, :data:`DEFAULT_MIN_CONFIDENCE` and single-line."""
    known = EXTRACTORS.get(spec.type)
    by_key = {r.key: r for r in known.fields} if known is not None else {}
    rules: dict[str, FieldRule] = {}
    for e in spec.extract:
        base = by_key.get(e.key)
        validator = e.validator or (base.validator if base is not None else "nonempty")
        if validator not in VALIDATORS:
            validator = "nonempty"
        min_conf = e.min_confidence
        if min_conf is None:
            min_conf = base.min_confidence if base is not None else DEFAULT_MIN_CONFIDENCE
        multiline = (
            e.multiline if e.multiline is not None else (base.multiline if base is not None else False)
        )
        rules[e.key] = FieldRule(
            e.key,
            e.label_regex,
            e.value_regex,
            e.normaliser,
            validator=validator,
            min_confidence=min_conf,
            required=True,
            multiline=multiline,
        )
    return rules


# --------------------------------------------------------------------------- pages
def make_page(page: Frame, lines: Sequence[OcrLine], ocr_ms: float, issues: Sequence[str]) -> MaterialPage:
    """Wrap a corrected page image and its OCR lines (JPEG for the case, thumbnail for the screen)."""
    ok, jpeg = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 80])
    jpeg_bytes = jpeg.tobytes() if ok else b""
    h, w = page.shape[:2]
    scale = _THUMB_HEIGHT / max(h, 1)
    thumb = cv2.resize(page, (max(1, int(w * scale)), _THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
    ok, tjpeg = cv2.imencode(".jpg", thumb, [cv2.IMWRITE_JPEG_QUALITY, 75])
    return MaterialPage(
        page_id=uuid.uuid4().hex[:12],
        image=page,
        jpeg=jpeg_bytes,
        thumb_jpeg=tjpeg.tobytes() if ok else b"",
        sha256=hashlib.sha256(jpeg_bytes).hexdigest(),
        lines=tuple(lines),
        ocr_ms=ocr_ms,
        capture_issues=tuple(issues),
    )


def crop_jpeg(page: Frame, box: Box, pad: int = _CROP_PAD) -> bytes:
    """JPEG of the axis-aligned bounding rectangle of ``box`` (plus ``pad`` px) on ``page``."""
    h, w = page.shape[:2]
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    x0, x1 = max(0, int(min(xs)) - pad), min(w, int(max(xs)) + pad + 1)
    y0, y1 = max(0, int(min(ys)) - pad), min(h, int(max(ys)) + pad + 1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return b""
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(page[y0:y1, x0:x1]), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return buf.tobytes() if ok else b""


def _checks(fields: Mapping[str, MaterialField], expected: Mapping[str, str]) -> tuple[CrossCheckResult, ...]:
    as_extracted = {k: ExtractedField(f.value, f.confidence, f.box or _NO_BOX) for k, f in fields.items()}
    return tuple(cross_check(as_extracted, expected))


def read_pages(
    spec: MaterialSpec,
    pages: Sequence[MaterialPage],
    expected: Mapping[str, str],
    *,
    pages_confirmed: bool = False,
) -> MaterialResult:
    """Extract every field of ``spec`` over all ``pages`` (in order; the first labelled line wins),
    flag the doubtful ones with the crop of their source box, and cross-check."""
    if not pages:
        raise ValueError("a scanned material needs at least one page")
    rules = field_rules(spec)
    extractor = ExtractorSpec(spec.type, tuple(rules.values()))
    # each page is laid out on its own (boxes of different pages share coordinates); a field
    # comes from the first page that has it
    per_page = [run_extractor(list(p.lines), extractor) for p in pages]
    fields: dict[str, MaterialField] = {}
    unread: list[str] = []
    for key in rules:
        page, f = next(
            ((i, ex.fields[key]) for i, ex in enumerate(per_page) if ex.fields[key].value is not None),
            (None, per_page[0].fields[key]),
        )
        if f.value is None or f.box is None or page is None:
            unread.append(key)
            continue
        crop = crop_jpeg(pages[page].image, f.box) if f.needs_confirmation else b""
        fields[key] = MaterialField(
            key=key,
            value=f.value,
            confidence=f.confidence,
            box=f.box,
            page=page,
            valid=f.valid,
            needs_confirmation=f.needs_confirmation,
            reason=f.reason.value if f.reason is not None else None,
            crop_jpeg=crop,
        )
    issues: list[str] = []
    for p in pages:
        issues.extend(i for i in p.capture_issues if i not in issues)
    return MaterialResult(
        material_type=spec.type,
        fields=fields,
        checks=_checks(fields, expected),
        ocr_ms=sum(p.ocr_ms for p in pages),
        image_sha256=pages[0].sha256,
        image_jpeg=pages[0].jpeg,
        capture_issues=tuple(issues),
        pages=tuple(pages),
        unread=tuple(unread),
        pages_confirmed=pages_confirmed,
    )


def add_page(
    spec: MaterialSpec, current: MaterialResult | None, page: MaterialPage, expected: Mapping[str, str]
) -> MaterialResult:
    """``current`` with ``page`` appended (a fresh material when ``current`` is None or an e-licence)."""
    pages = current.pages if current is not None and current.licence_id is None else ()
    if len(pages) >= MAX_PAGES:
        raise ValueError(f"a material has at most {MAX_PAGES} pages")
    return read_pages(spec, (*pages, page), expected)


def replace_page(
    spec: MaterialSpec, current: MaterialResult, index: int, page: MaterialPage, expected: Mapping[str, str]
) -> MaterialResult:
    """``current`` with page ``index`` retaken."""
    pages = list(current.pages)
    if not 0 <= index < len(pages):
        raise IndexError(f"no page {index}")
    pages[index] = page
    return read_pages(spec, pages, expected)


def delete_page(
    spec: MaterialSpec, current: MaterialResult, index: int, expected: Mapping[str, str]
) -> MaterialResult | None:
    """``current`` without page ``index``; None when no page is left."""
    pages = list(current.pages)
    if not 0 <= index < len(pages):
        raise IndexError(f"no page {index}")
    del pages[index]
    return read_pages(spec, pages, expected) if pages else None


def confirm_pages(current: MaterialResult) -> MaterialResult:
    return dataclasses.replace(current, pages_confirmed=True)


def recheck(current: MaterialResult, expected: Mapping[str, str]) -> MaterialResult:
    """Cross-checks again (the form may have changed since the material was read)."""
    return dataclasses.replace(current, checks=_checks(current.fields, expected))


# --------------------------------------------------------------------------- confirmation
def confirm_field(
    spec: MaterialSpec, current: MaterialResult, key: str, value: str, expected: Mapping[str, str]
) -> MaterialResult:
    """The citizen confirms (same value) or corrects (another value) field ``key``.

    The value is normalised like an OCR'd one and must pass the field's validator
    (:class:`InvalidFieldValue` otherwise); an empty value says the material does not
    carry the field (it is then absent, as if unread).  A change is recorded as a
    :class:`Correction` with the original value and its confidence."""
    rules = field_rules(spec)
    if key not in rules:
        raise KeyError(key)
    rule = rules[key]
    new = NORMALISERS[rule.normaliser](value) if value.strip() else ""
    if new and not VALIDATORS[rule.validator](new):
        raise InvalidFieldValue(key)
    old = current.fields.get(key)
    original = old.value if old is not None else None
    fields = dict(current.fields)
    corrections = list(current.corrections)
    if old is None or (new or None) != original:  # a typed or settled unread field counts too
        reason = old.reason if old is not None else "missing"
        confidence = old.confidence if old is not None else 0.0
        corrections.append(Correction(key, original, new or None, confidence, reason))
    if not new:
        fields.pop(key, None)
    elif old is not None and new == old.value:
        fields[key] = dataclasses.replace(old, confirmed=True)
    else:
        fields[key] = MaterialField(
            key=key,
            value=new,
            confidence=old.confidence if old is not None else 0.0,
            box=old.box if old is not None else None,
            page=old.page if old is not None else None,
            valid=True,
            needs_confirmation=True,
            reason=old.reason if old is not None else "missing",
            source=FieldSource.CITIZEN,
            confirmed=True,
            crop_jpeg=old.crop_jpeg if old is not None else b"",
        )
    return dataclasses.replace(
        current,
        fields=fields,
        unread=tuple(k for k in current.unread if k != key),
        corrections=tuple(corrections),
        checks=_checks(fields, expected),
    )


# --------------------------------------------------------------------------- e-licences
def matching_licences(spec: MaterialSpec, licences: Sequence[ELicence]) -> list[ELicence]:
    """The licences that can stand for material ``spec`` (same material type)."""
    return [lic for lic in licences if lic.material_type == spec.type]


def from_elicence(spec: MaterialSpec, licence: ELicence, expected: Mapping[str, str]) -> MaterialResult:
    """Material ``spec`` filled from a verified e-licence: no OCR, nothing to confirm."""
    if licence.material_type != spec.type:
        raise ValueError(f"licence {licence.licence_id} is a {licence.material_type}, not a {spec.type}")
    rules = field_rules(spec)
    fields: dict[str, MaterialField] = {}
    for key, rule in rules.items():
        raw = licence.fields.get(key)
        if raw is None or not raw.strip():
            continue
        value = NORMALISERS[rule.normaliser](raw)
        fields[key] = MaterialField(
            key=key,
            value=value,
            confidence=1.0,
            box=None,
            page=None,
            valid=VALIDATORS[rule.validator](value),
            needs_confirmation=False,
            reason=None,
            source=FieldSource.ELICENCE,
            confirmed=True,
        )
    return MaterialResult(
        material_type=spec.type,
        fields=fields,
        checks=_checks(fields, expected),
        ocr_ms=0.0,
        image_sha256="",
        image_jpeg=b"",
        pages_confirmed=True,
        licence_id=licence.licence_id,
    )


# --------------------------------------------------------------------------- case record
def case_record(result: MaterialResult, page_attachments: Sequence[str] = ()) -> dict[str, Any]:
    """The material as the case keeps it (the case is encrypted at rest and on upload).

    The page images travel as attachments of the case (resumable uploads, kiosk/cases/uploads.py):
    ``page_attachments[i]`` is the attachment id of page ``i``; the record names them."""
    attachment = list(page_attachments) + [None] * (len(result.pages) - len(page_attachments))
    return {
        "type": result.material_type,
        "source": result.source.value,
        "elicence_id": result.licence_id,
        "fields": {
            k: {
                "value": f.value,
                "confidence": f.confidence,
                "source": f.source.value,
                "page": f.page,
                "flagged": f.needs_confirmation,
                "confirmed": f.confirmed,
            }
            for k, f in result.fields.items()
        },
        "unread": list(result.unread),
        "corrections": [c.to_record() for c in result.corrections],
        "cross_checks": [{"field": c.field, "match": c.match} for c in result.checks],
        "pages": [{"sha256": p.sha256, "attachment": attachment[i]} for i, p in enumerate(result.pages)],
        "image_sha256": result.image_sha256,  # the first page
        "image_attachment": attachment[0] if attachment else None,
    }
