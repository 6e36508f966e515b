"""Core values → view-models (:mod:`ui.viewmodels`).  Only the facade calls these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from devices.interfaces import ForeignerIdCardText, IdCardRead
from kiosk.documents.capture import FieldSource, MaterialResult
from kiosk.documents.elicence import ELicence
from kiosk.i18n import tr
from kiosk.identity.face_prompts import FacePrompt
from kiosk.review.engine import Decision
from kiosk.review.items import ItemPackage, MaterialSpec
from kiosk.review.party_warnings import party_label
from kiosk.review.warnings import WarningHit
from kiosk.session.bundle import BundlePlan
from kiosk.session.values import FormField, PrintResult, Problem, SubmitResult
from ui.viewmodels import (
    ApplicantView,
    Bilingual,
    DecisionView,
    FacePromptView,
    FieldView,
    ItemView,
    LicenceOffer,
    MaterialFieldView,
    MaterialSpecView,
    MaterialView,
    PrintedView,
    ProblemView,
    SubmittedView,
    WarningView,
)


def _material_views(materials: tuple[MaterialSpec, ...]) -> tuple[MaterialSpecView, ...]:
    return tuple(
        MaterialSpecView(
            type=m.type,
            name=(m.name.zh, m.name.en),
            required=m.required,
            extract=tuple((e.key, (e.label.zh, e.label.en)) for e in m.extract),
        )
        for m in materials
    )


def item_view(pkg: ItemPackage) -> ItemView:
    return ItemView(
        id=pkg.id,
        name=(pkg.name_zh, pkg.name_en),
        conditions=tuple((c.zh, c.en) for c in pkg.catalogue.conditions),
        time_limit_days=pkg.catalogue.time_limit_days,
        materials=_material_views(pkg.materials),
    )


def bundle_view(plan: BundlePlan) -> ItemView:
    """A life event applied for as one application (一件事): its name, every item's conditions,
    the materials of all its items (each type once); the id is its first item's (the session's)."""
    limits = [p.catalogue.time_limit_days for p in plan.packages]
    return ItemView(
        id=plan.item_ids[0],
        name=(plan.name.zh, plan.name.en),
        conditions=tuple(
            (f"{p.name_zh}：{c.zh}", f"{p.name_en}: {c.en}")
            for p in plan.packages
            for c in p.catalogue.conditions
        ),
        time_limit_days=None if None in limits else max((n for n in limits if n is not None), default=0),
        materials=_material_views(plan.materials),
    )


def applicant_view(card: IdCardRead) -> ApplicantView:
    text = card.text
    if isinstance(text, ForeignerIdCardText):
        return ApplicantView(
            name=text.name,
            document_kind=text.kind.value,
            foreigner=True,
            chinese_name=text.chinese_name,
            english_name=text.english_name,
            nationality=text.nationality,
        )
    return ApplicantView(name=text.name, document_kind=text.kind.value)


def field_views(fields: Sequence[FormField]) -> tuple[FieldView, ...]:
    return tuple(
        FieldView(f.key, f.label, f.value, f.readonly, f.prefilled, f.required, f.kind) for f in fields
    )


def prompt_view(prompt: FacePrompt) -> FacePromptView:
    return FacePromptView(prompt.challenge_key, prompt.quality_key)


def material_view(result: MaterialResult) -> MaterialView:
    return MaterialView(
        type=result.material_type,
        pages=tuple(p.thumb_jpeg for p in result.pages),
        pages_confirmed=result.pages_confirmed,
        licence_id=result.licence_id,
        fields=MappingProxyType(
            {
                k: MaterialFieldView(
                    value=f.value,
                    pending=f.pending,
                    corrected=f.source is FieldSource.CITIZEN,
                    reason=f.reason or None,
                    crop_jpeg=f.crop_jpeg or None,
                )
                for k, f in result.fields.items()
            }
        ),
        checks=MappingProxyType({c.field: c.match for c in result.checks}),
        pending_fields=tuple(result.pending_fields),
        ready=result.ready,
    )


def offers_view(offers: Mapping[str, Sequence[ELicence]]) -> Mapping[str, tuple[LicenceOffer, ...]]:
    return MappingProxyType(
        {
            t: tuple(LicenceOffer(lic.licence_id, (lic.title_zh, lic.title_en)) for lic in lics)
            for t, lics in offers.items()
        }
    )


def decision_view(decision: Decision, warnings: Sequence[WarningHit] = ()) -> DecisionView:
    return DecisionView(
        outcome=decision.outcome.value,
        reasons=tuple(zip(decision.reason_texts_zh, decision.reason_texts_en, strict=False)),
        warnings=tuple(
            WarningView(
                (h.description.zh, h.description.en),
                (h.what_follows.zh, h.what_follows.en),
                (h.whom_to_ask.zh, h.whom_to_ask.en),
                _concerns(h),
            )
            for h in warnings
            if h.matched
        ),
    )


def _concerns(hit: WarningHit) -> Bilingual | None:
    who = party_label(hit)
    if who is None:
        return None
    return tr("review.warning_concerns", "zh", who=who.zh), tr("review.warning_concerns", "en", who=who.en)


def submitted_view(result: SubmitResult) -> SubmittedView:
    return SubmittedView(result.case_id, result.acknowledged, result.case_number)


def printed_view(result: PrintResult) -> PrintedView:
    return PrintedView(
        receipt_printed=result.receipt_printed,
        certificate_printed=result.certificate_printed,
        queue_number=result.queue_number,
        delivery=result.delivery,
        slips_printed=result.slips_printed,
        certificate_job=result.certificate_job,
        commitment_job=result.commitment_job,
    )


def problem_view(problem: Problem) -> ProblemView:
    return ProblemView(
        title_key=problem.title_key,
        detail_key=problem.detail_key,
        action_key=f"action.{problem.action.value}",
        can_retry=problem.retry_step is not None,
        allow_manual=problem.allow_manual,
    )
