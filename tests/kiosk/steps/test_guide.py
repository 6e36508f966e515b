"""The citizen's path for the item at hand: the steps it has with their states (the step bar),
the commitment to read before signing, and whether an SMS may be promised."""

from __future__ import annotations

from kiosk.outputs.delivery import DeliveryChoice, DeliveryMethod, ExpressAddress
from kiosk.review.engine import Decision, Outcome
from kiosk.session import guide
from kiosk.session.context import SessionContext
from kiosk.session.machine import Step


def _decide(ctx: SessionContext, outcome: Outcome) -> None:
    ctx.data.application.decision = Decision(outcome, (), (), "p", "1", "0" * 64, "0" * 64, {}, 1.0)


def test_items_without_materials_have_no_materials_step(ctx: SessionContext) -> None:
    senior = guide.item_steps(ctx.catalogue.package("senior-card"))
    business = guide.item_steps(ctx.catalogue.package("business-registration"))
    assert Step.MATERIALS not in senior and Step.MATERIALS in business
    assert Step.SUBMIT not in senior and senior[0] is Step.CHOOSE_ITEM and senior[-1] is Step.RATING
    assert Step.MATERIALS in guide.item_steps(None)  # no item chosen yet


def test_step_marks_by_state_also_off_the_happy_path(ctx: SessionContext) -> None:
    steps = guide.item_steps(ctx.catalogue.package("senior-card"))
    marks = dict(guide.step_marks(steps, Step.FORM))
    assert marks[Step.CHOOSE_ITEM] == marks[Step.READ_CARD] == marks[Step.FACE_CHECK] == "done"
    assert marks[Step.FORM] == "current" and marks[Step.REVIEW] == marks[Step.RATING] == "todo"
    assert dict(guide.step_marks(steps, Step.STAFF_ASSIST))[Step.FACE_CHECK] == "current"
    problem = dict(guide.step_marks(steps, Step.DEVICE_PROBLEM, last_on_path=Step.READ_CARD))
    assert problem[Step.READ_CARD] == "current" and problem[Step.CHOOSE_ITEM] == "done"
    assert dict(guide.step_marks(steps, Step.SUBMIT))[Step.CONFIRM_SIGN] == "current"


def test_the_commitment_to_sign_follows_the_item_and_the_decision(ctx: SessionContext) -> None:
    business = ctx.catalogue.package("business-registration")
    assert business.outputs.commitment is not None
    ctx.data.item_id = business.id
    assert guide.commitment_to_sign(ctx.data, business) is None  # no decision yet
    for outcome in Outcome:
        _decide(ctx, outcome)
        found = guide.commitment_to_sign(ctx.data, business)
        assert (found is not None) == (outcome.value in business.outputs.commitment.outcomes)
    assert guide.commitment_to_sign(ctx.data, ctx.catalogue.package("senior-card")) is None


def test_an_sms_only_with_a_phone_number(ctx: SessionContext) -> None:
    business = ctx.catalogue.package("business-registration")
    senior = ctx.catalogue.package("senior-card")
    assert not guide.phone_known(ctx.data, business)
    ctx.data.application.form["phone"] = "13905340000"
    assert guide.phone_known(ctx.data, business)
    ctx.data.application.form["phone"] = "  "
    assert not guide.phone_known(ctx.data, business)  # left empty
    ctx.data.application.form.clear()
    assert not guide.phone_known(ctx.data, senior)
    address = ExpressAddress("张三", "13905340000", "山东省德州市德城区新华路1号", "253000")
    ctx.data.case.delivery = DeliveryChoice(DeliveryMethod.EXPRESS, address)
    assert guide.phone_known(ctx.data, senior)
