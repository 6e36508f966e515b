"""A life event's outputs follow each item (kiosk/session/steps/item_outputs.py): 退休一件事's first
item, the housing fund withdrawal, offers no printing here and has no certificate; the senior card,
its third item, is approved and may be printed here.  The citizen is offered what any item offers;
each case records its item's own delivery; the senior card's certificate is numbered, printed here
(or collected at the window) and goes with the senior card's own case.  Real packages, store and
review engine; the receipt and slips read back as the ESC/POS simulator decoded the bytes."""

from __future__ import annotations

import json
from typing import Any

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.cases.outbox import JOB_ATTACHMENT
from kiosk.outputs.delivery import DeliveryMethod
from kiosk.review.engine import Outcome
from kiosk.session.bundle import plan_bundle
from kiosk.session.context import SessionContext
from kiosk.session.machine import Step
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.review import ReviewStep
from kiosk.session.values import PrintResult
from tests.kiosk.steps.helpers import NOW, Parts, walk_to

ITEMS = ("hpf-withdrawal-retirement", "retirement-pension-claim", "senior-card")


def _reviewed(ctx: SessionContext) -> None:
    """张桂兰 applies for 退休一件事; without the platform's lookup only the senior card is approved."""
    walk_to(ctx, Step.FORM, ITEMS[0])
    ctx.data.bundle = plan_bundle(ctx.catalogue, "retirement")
    ctx.data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
    form = FormStep(ctx)
    values = {f.key: f.value for f in form.fields()}
    assert form.submit({**values, "bank_account": "6228480402564890018", "phone": "13905340001"}) == {}
    ctx.go(Step.REVIEW)
    review = ReviewStep(ctx)
    try:
        review.run()
    finally:
        review.close()
    outcomes = {i: d.outcome for i, d in ctx.data.application.item_decisions.items()}
    assert outcomes == {ITEMS[0]: Outcome.MANUAL, ITEMS[1]: Outcome.MANUAL, ITEMS[2]: Outcome.APPROVE}


def _submit_and_print(ctx: SessionContext, parts: Parts, method: str) -> tuple[dict[str, Any], PrintResult]:
    assert parts.outputs.choose_delivery(method) == {}
    assert parts.submission.submit(b"\x89PNG signature") is not None
    printed = parts.outputs.print("zh")
    assert printed.receipt_printed and printed.problem is None
    cases = {}
    for item, case_id in ctx.data.case.item_cases.items():
        stored = ctx.store.cases.get(case_id)
        assert stored is not None and stored.item_id == item
        cases[item] = json.loads(stored.payload)
    return cases, printed


def _texts(parts: Parts, n: int) -> list[str]:
    return [r.text.replace("\n", "") for r in parts.printer.wait_for_receipts(n, timeout=10.0)]


def test_the_citizen_is_offered_what_any_item_offers(ctx: SessionContext, parts: Parts) -> None:
    _reviewed(ctx)
    offered, default = parts.outputs.delivery_options()
    # printing here comes from the senior card alone (approved); the first item's default stays preselected
    assert offered == (DeliveryMethod.PRINT_HERE, DeliveryMethod.WINDOW, DeliveryMethod.EXPRESS)
    assert default is DeliveryMethod.WINDOW


def test_the_approved_items_certificate_is_printed_here_with_its_own_case(
    ctx: SessionContext, parts: Parts
) -> None:
    _reviewed(ctx)
    cases, printed = _submit_and_print(ctx, parts, "print_here")
    # each case its own delivery: printing here where the item offers it, else the item's default
    assert {i: c["delivery"]["method"] for i, c in cases.items()} == {
        ITEMS[0]: "window",
        ITEMS[1]: "window",
        ITEMS[2]: "print_here",
    }
    number = ctx.data.case.item_certificates[ITEMS[2]]
    assert number.startswith("LNYD") and list(ctx.data.case.item_certificates) == [ITEMS[2]]
    assert printed.certificate_printed and printed.certificate_number == number
    assert (parts.spool / f"{printed.certificate_job}.pdf").read_bytes().startswith(b"%PDF")
    # the certificate PDF goes to the platform with the senior card's case, not the first item's
    [job] = ctx.store.outbox.entries(kind=JOB_ATTACHMENT)
    assert job.case_id == ctx.data.case.item_cases[ITEMS[2]] != ctx.data.case.case_id
    receipt, *slips = _texts(parts, 3)
    assert f"证照编号：{number}" in receipt and "取件方式：本机打印" in receipt
    assert "其中离休、退休提取住房公积金：窗口领取，审核通过后凭取件单领取" in receipt
    assert "其中职工基本养老保险待遇申领（退休）：窗口领取" in receipt
    assert "其中老年人优待证申领" not in receipt  # delivered as chosen
    # the items for staff are collected at the window: a pick-up slip (no certificate there) and a ticket
    assert "取件单" in slips[0] and number not in slips[0] and "退休一件事" in slips[0]
    assert "排队号" in slips[1]


def test_collected_at_the_window_the_certificate_is_not_printed_here(
    ctx: SessionContext, parts: Parts
) -> None:
    _reviewed(ctx)
    cases, printed = _submit_and_print(ctx, parts, "window")
    assert {c["delivery"]["method"] for c in cases.values()} == {"window"}
    number = ctx.data.case.item_certificates[ITEMS[2]]
    assert not printed.certificate_printed and not list(parts.spool.glob("*.pdf"))
    receipt, pickup, _ticket = _texts(parts, 3)
    assert "其中" not in receipt  # every item as chosen
    assert number in pickup  # the certificate is collected at the window with the slip
