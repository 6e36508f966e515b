"""The form and review steps alone: the real item packages and warning lists from a real store,
the card as the reader would have delivered it, no terminal."""

from __future__ import annotations

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.review.engine import Outcome
from kiosk.review.sync import VERIFIED_AT_META_PREFIX
from kiosk.session.context import SessionContext
from kiosk.session.events import ReviewDecided
from kiosk.session.machine import Step
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.review import ReviewStep
from tests.kiosk.steps.helpers import NOW, Recorder, walk_to


def _with_card(ctx: SessionContext, key: str, item_id: str) -> None:
    walk_to(ctx, Step.FORM, item_id)
    ctx.data.identity.card = IdCardRead(text=sim_card(key).text, photo_raw=b"", read_at=NOW)


def _fill(form: FormStep, **extra: str) -> dict[str, str]:
    values = {f.key: f.value for f in form.fields()}
    values.update(extra)
    return values


def test_the_form_is_prefilled_from_the_card(ctx: SessionContext) -> None:
    _with_card(ctx, "senior", "senior-card")
    fields = {f.key: f for f in FormStep(ctx).fields()}
    prefilled = {k: f.value for k, f in fields.items() if f.prefilled}
    assert "张桂兰" in prefilled.values() and "371402195203140022" in prefilled.values()
    assert all(fields[k].readonly for k, v in prefilled.items() if v == "371402195203140022")


BUSINESS = {
    "business_name": "德城区建国便利店",
    "business_scope": "日用百货零售",
    "premises_address": "山东省德州市德城区新华路26号",
    "phone": "13905340000",
}


def test_a_refused_form_stays_and_a_valid_one_goes_on(ctx: SessionContext) -> None:
    _with_card(ctx, "business", "business-registration")
    form = FormStep(ctx)
    required = {f.key for f in form.fields() if f.required and not f.readonly}
    assert {"business_name", "business_scope"} <= required
    errors = form.submit(_fill(form, **{**BUSINESS, "business_name": "", "phone": "12"}))
    assert {"business_name", "phone"} <= set(errors) and ctx.machine.step is Step.FORM
    assert ctx.data.application.form == {}  # nothing kept from a refused form
    assert form.submit(_fill(form, **BUSINESS)) == {}
    assert ctx.machine.step is Step.MATERIALS  # the lease is still to scan
    assert ctx.data.application.form["business_name"] == BUSINESS["business_name"]


def _review(ctx: SessionContext, recorder: Recorder, *, staff: bool = False) -> Outcome:
    _with_card(ctx, "senior", "senior-card")
    form = FormStep(ctx)
    assert form.submit(_fill(form, phone="13905340000")) == {}
    assert ctx.machine.step is Step.REVIEW
    ctx.data.identity.staff_assisted_identity = staff
    step = ReviewStep(ctx)
    try:
        decision = step.run()
    finally:
        step.close()
    assert ctx.machine.step is Step.CONFIRM_SIGN and ctx.data.application.decision is decision
    published = recorder.of(ReviewDecided)
    assert len(published) == 1 and published[0].decision is decision  # type: ignore[attr-defined]
    audit = [r for r in ctx.store.audit_trail.records() if r.event == "review"]
    assert audit[-1].details["outcome"] == decision.outcome.value
    return decision.outcome


def test_the_review_decides_and_is_audited(ctx: SessionContext, recorder: Recorder) -> None:
    assert _review(ctx, recorder) is Outcome.APPROVE  # 73 years old: the senior card is granted here


def test_an_identity_checked_by_staff_is_never_approved_by_the_terminal(
    ctx: SessionContext, recorder: Recorder
) -> None:
    assert _review(ctx, recorder, staff=True) is Outcome.MANUAL
    assert "staff_identity" in ctx.data.application.decision.reasons


def test_a_package_no_verified_sync_confirmed_goes_to_manual_review(
    ctx: SessionContext, recorder: Recorder
) -> None:
    ctx.store.meta.delete(VERIFIED_AT_META_PREFIX + "senior-card")
    assert _review(ctx, recorder) is Outcome.MANUAL
    assert ctx.data.application.decision.reasons == ("package_stale",)
