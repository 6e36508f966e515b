"""New items through the real form and review steps (store, catalogue and engine real, the card
as the reader delivers it): an automated item decides, a platform input nobody looked up sends
the application to staff, a manual item collects its materials and goes to staff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.review.engine import Decision, Outcome
from kiosk.session.context import SessionContext
from kiosk.session.machine import Step
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.review import ReviewStep
from offline_cache.store import Store
from tests.kiosk.steps.helpers import NOW, make_ctx, stock, walk_to


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[SessionContext]:
    store = Store(tmp_path / "terminal.db")
    stock(store)
    yield make_ctx(store)
    store.close()


def _form(ctx: SessionContext, card: str, item_id: str, **typed: str) -> FormStep:
    walk_to(ctx, Step.FORM, item_id)
    ctx.data.identity.card = IdCardRead(text=sim_card(card).text, photo_raw=b"", read_at=NOW)
    form = FormStep(ctx)
    values = {f.key: f.value for f in form.fields()}
    assert form.submit({**values, **typed}) == {}
    return form


def _review(ctx: SessionContext) -> Decision:
    assert ctx.machine.step is Step.REVIEW
    step = ReviewStep(ctx)
    try:
        return step.run()
    finally:
        step.close()


@pytest.mark.parametrize(
    ("card", "outcome", "reason"),
    [
        ("business", Outcome.APPROVE, "registration_conditions_met"),
        ("senior", Outcome.MANUAL, "retirement_age_check"),
    ],
)
def test_unemployment_registration_decides_from_the_card(
    ctx: SessionContext, card: str, outcome: Outcome, reason: str
) -> None:
    _form(ctx, card, "unemployment-registration", job_wanted="service", phone="13905340000")
    decision = _review(ctx)
    assert decision.outcome is outcome and decision.reasons == (reason,)


def test_a_platform_input_nobody_looked_up_goes_to_staff(ctx: SessionContext) -> None:
    _form(
        ctx,
        "business",
        "out-of-area-medical-filing",
        filing_kind="temporary",
        destination="济南市",
        phone="13905340000",
    )
    decision = _review(ctx)
    assert decision.outcome is Outcome.MANUAL and decision.reasons == ("input_missing",)
    assert decision.trace["missing_inputs"] == ["platform.insured_here"]


def test_a_manual_item_collects_its_materials(ctx: SessionContext) -> None:
    _form(ctx, "business", "divorce-registration", phone="13905340000")
    assert ctx.machine.step is Step.MATERIALS  # marriage certificate and agreement still to photograph
    assert ctx.data.application.form["phone"] == "13905340000"
