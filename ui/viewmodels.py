"""What the screens show: immutable view-models, built by the facade from the core's events.

Screens import these types (and ``ui`` widgets), never the kiosk services, the store or the
devices; the facade (:mod:`ui.facade`) is the only UI module that reads core types.  Texts are
kept as (zh, en) pairs or i18n keys: the screen picks the language when it shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kiosk.maintenance.service import Consumables, Diagnostics, LogTail, OutboxView, TestPrintResult
from kiosk.outputs.delivery import EXPRESS_FIELDS
from kiosk.session.machine import CITIZEN_STEPS, HAPPY_PATH, Step
from offline_cache.store import OutboxState

Bilingual = tuple[str, str]

#: The delivery methods a screen can offer (kiosk.outputs.delivery.DeliveryMethod values).
DELIVERY_METHODS: tuple[str, ...] = ("print_here", "window", "express")

__all__ = [
    "CITIZEN_STEPS",
    "DELIVERY_METHODS",
    "EXPRESS_FIELDS",
    "HAPPY_PATH",
    "ApplicantView",
    "Bilingual",
    "Consumables",
    "DecisionView",
    "DeliveryView",
    "Diagnostics",
    "FacePromptView",
    "FieldView",
    "ItemView",
    "LicenceOffer",
    "LogTail",
    "MaterialFieldView",
    "MaterialSpecView",
    "MaterialView",
    "OutboxState",
    "OutboxView",
    "PrintedView",
    "ProblemView",
    "SessionView",
    "Step",
    "SubmittedView",
    "TestPrintResult",
    "WarningView",
]


@dataclass(frozen=True)
class MaterialSpecView:
    type: str
    name: Bilingual
    required: bool
    extract: tuple[tuple[str, Bilingual], ...]  # (field key, label) in the package's order


@dataclass(frozen=True)
class ItemView:
    id: str
    name: Bilingual
    conditions: tuple[Bilingual, ...]
    time_limit_days: int | None  # None: no published limit
    materials: tuple[MaterialSpecView, ...]


@dataclass(frozen=True)
class ApplicantView:
    """Who applies, with which identity document (``document_kind``: DocumentKind value)."""

    name: str
    document_kind: str
    foreigner: bool = False
    chinese_name: str = ""
    english_name: str = ""
    nationality: str = ""


@dataclass(frozen=True)
class FieldView:
    key: str
    label: Bilingual
    value: str
    readonly: bool
    prefilled: bool
    required: bool
    kind: str


@dataclass(frozen=True)
class FacePromptView:
    challenge_key: str | None
    quality_key: str | None


@dataclass(frozen=True)
class MaterialFieldView:
    value: str
    pending: bool
    corrected: bool  # the citizen corrected it on screen
    reason: str | None
    crop_jpeg: bytes | None


@dataclass(frozen=True)
class MaterialView:
    type: str
    pages: tuple[bytes, ...]  # page thumbnails (JPEG)
    pages_confirmed: bool
    licence_id: str | None
    fields: Mapping[str, MaterialFieldView]
    checks: Mapping[str, bool]  # field key → matches what it was checked against
    pending_fields: tuple[str, ...]
    ready: bool


@dataclass(frozen=True)
class LicenceOffer:
    licence_id: str
    title: Bilingual


@dataclass(frozen=True)
class WarningView:
    description: Bilingual
    what_follows: Bilingual
    whom_to_ask: Bilingual
    #: whose listing it is when someone applies for another (代办, 法人), masked; None in person
    concerns: Bilingual | None = None


@dataclass(frozen=True)
class DecisionView:
    outcome: str  # approve | reject | manual
    reasons: tuple[Bilingual, ...]
    warnings: tuple[WarningView, ...] = ()  # the warning lists that matched


@dataclass(frozen=True)
class DeliveryView:
    offered: tuple[str, ...]
    default: str | None
    prefill: Mapping[str, str]


@dataclass(frozen=True)
class SubmittedView:
    case_id: str
    acknowledged: bool
    case_number: str = ""  # the short readable number shown (the UUID never is)


@dataclass(frozen=True)
class PrintedView:
    receipt_printed: bool
    certificate_printed: bool
    queue_number: str | None
    delivery: str | None
    slips_printed: tuple[str, ...] = ()
    certificate_job: str | None = None
    commitment_job: str | None = None


@dataclass(frozen=True)
class ProblemView:
    title_key: str
    detail_key: str
    action_key: str
    can_retry: bool
    allow_manual: bool


@dataclass(frozen=True)
class SessionView:
    """The session as the screens see it, replaced whole on every event (never mutated)."""

    session_id: str = ""
    step: Step = Step.ATTRACT
    item: ItemView | None = None
    applicant: ApplicantView | None = None
    face_status: str | None = None  # None | "not_matched" | "liveness_failed"
    staff_assist_reason: str | None = None
    materials: Mapping[str, MaterialView] = field(default_factory=dict)
    offers: Mapping[str, tuple[LicenceOffer, ...]] = field(default_factory=dict)
    decision: DecisionView | None = None
    delivery: str | None = None  # the method chosen on the confirm screen
    submitted: SubmittedView | None = None
    printed: PrintedView | None = None
    problem: ProblemView | None = None
