"""A life event as one application (kiosk/session/bundle.py) with the repository's items, a real
store and the real review engine: the combined form and materials, the checks of every item, each
item's own decision, the cases stored all or none."""

from __future__ import annotations

import json

import pytest

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.review.engine import Outcome
from kiosk.session.bundle import plan_bundle
from kiosk.session.context import SessionContext
from kiosk.session.machine import Step
from kiosk.session.steps.case_record import store_bundle
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.review import ReviewStep
from offline_cache.store import DuplicateCaseError
from tests.kiosk.steps.helpers import NOW, walk_to


def test_birth_plan(ctx: SessionContext) -> None:
    plan = plan_bundle(ctx.catalogue, "birth")
    assert plan.item_ids == ("birth-registration", "maternity-allowance", "newborn-medical-insurance")
    keys = [f.key for f in plan.form]
    assert len(keys) == len(set(keys))
    assert {"name", "id_number", "address", "phone", "child_name", "child_birth_date"} <= set(plan.shared)
    assert "employer_name" in keys and "employer_name" not in plan.shared  # one item's own field
    assert [m.type for m in plan.materials] == ["birth_medical_certificate", "household_register"]
    assert plan.wire(1) == {
        "id": plan.bundle_id,
        "life_event": "birth",
        "items": list(plan.item_ids),
        "position": 1,
    }
    with pytest.raises(KeyError):
        plan_bundle(ctx.catalogue, "no-such-event")


def test_a_field_is_checked_by_every_item_that_asks_for_it(ctx: SessionContext) -> None:
    plan = plan_bundle(ctx.catalogue, "retirement")
    # the senior card leaves the phone optional; the housing fund requires it
    assert not ctx.catalogue.package("senior-card").field("phone").required
    values = {"bank_account": "6228480402564890018", "phone": ""}
    assert plan.validate_form(values)["phone"] == "form.error.required"
    assert plan.validate_form({**values, "bank_account": "12"})["bank_account"] == "form.error.pattern"


def test_each_item_is_reviewed_by_its_own_rules_and_stored_all_or_none(ctx: SessionContext) -> None:
    walk_to(ctx, Step.FORM, "hpf-withdrawal-retirement")
    data = ctx.data
    data.bundle = plan_bundle(ctx.catalogue, "retirement")
    data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
    form = FormStep(ctx)
    values = {f.key: f.value for f in form.fields()}
    assert values["age"] and values["name"]  # the card fills the shared identity fields once
    assert form.submit({**values, "bank_account": "6228480402564890018", "phone": "13905340001"}) == {}
    assert ctx.machine.step is Step.MATERIALS  # the pension needs the bank card
    ctx.go(Step.REVIEW)
    review = ReviewStep(ctx)
    try:
        decision = review.run()
    finally:
        review.close()
    decisions = data.application.item_decisions
    assert {i: d.outcome for i, d in decisions.items()} == {
        "hpf-withdrawal-retirement": Outcome.MANUAL,
        "retirement-pension-claim": Outcome.MANUAL,
        "senior-card": Outcome.APPROVE,
    }
    assert decision.outcome is Outcome.MANUAL  # approved only when every item is
    assert [t.zh.split("：")[0] for t in decision.reason_texts] == [
        "离休、退休提取住房公积金",
        "职工基本养老保险待遇申领（退休）",
        "老年人优待证申领",
    ]

    data.case.case_number = "K-TEST-1"
    ids = store_bundle(ctx, data, data.bundle)
    stored = [ctx.store.cases.get(i) for i in ids]
    assert [c.item_id for c in stored if c is not None] == list(data.bundle.item_ids)
    bodies = [json.loads(c.payload) for c in stored if c is not None]
    assert {b["bundle"]["id"] for b in bodies} == {data.bundle.bundle_id}
    assert [b["decision"]["outcome"] for b in bodies] == ["manual", "manual", "approve"]
    assert "bank_account" in bodies[0]["form"] and "bank_account" not in bodies[2]["form"]  # each its slice
    assert "age" in bodies[2]["form"]

    # a case id already stored makes the whole application fail: nothing of it is queued
    before = ctx.store.outbox.counts(cases=True)
    with pytest.raises(DuplicateCaseError):
        ctx.store.cases.add_bundle(
            [("new-case-1", "senior-card", b"{}", []), (ids[0], "senior-card", b"{}", [])], NOW.timestamp()
        )
    assert ctx.store.cases.get("new-case-1") is None
    assert ctx.store.outbox.counts(cases=True) == before


def test_a_warning_list_hit_of_one_item_stays_with_the_application(ctx: SessionContext) -> None:
    """李建国 is on the dishonest-persons list, which only the business registration consults: the hit
    is kept for the application although items reviewed after it consult no list."""
    walk_to(ctx, Step.REVIEW, "business-registration")
    data = ctx.data
    data.bundle = plan_bundle(ctx.catalogue, "business-start")
    assert data.bundle.item_ids[-1] == "tax-registration"
    data.identity.card = IdCardRead(text=sim_card("business").text, photo_raw=b"", read_at=NOW)
    data.application.form = {"business_name": "德城区建国便利店", "business_scope": "日用百货零售"}
    review = ReviewStep(ctx)
    try:
        review.run()
    finally:
        review.close()
    assert ctx.catalogue.package("tax-registration").warning_lists == ()
    assert [h.list_name for h in data.application.warnings if h.matched] == ["dishonest_persons"]
    business = data.application.item_decisions["business-registration"]
    assert business.outcome is Outcome.MANUAL and any("dishonest" in r for r in business.reasons)
