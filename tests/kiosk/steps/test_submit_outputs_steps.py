"""The sign-and-submit and result steps alone: the case and its outbox entry in a real store, the
receipt on the simulated ESC/POS printer (real bytes over TCP), the certificate in the PDF spool.
No terminal and no platform: the case stays queued."""

from __future__ import annotations

import json

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.session.context import SessionContext
from kiosk.session.events import CaseSubmitted, OutputsPrinted
from kiosk.session.machine import Step
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.numbers import Numbering, case_number_ok, check_character
from kiosk.session.steps.review import ReviewStep
from tests.kiosk.steps.helpers import NOW, Parts, Recorder, walk_to

SIGNATURE = b"\x89PNG signature"


def _to_confirm(ctx: SessionContext) -> None:
    """The senior citizen's session, reviewed and waiting on the confirm/sign screen."""
    walk_to(ctx, Step.FORM, "senior-card")
    ctx.data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
    form = FormStep(ctx)
    assert form.submit({f.key: f.value for f in form.fields()}) == {}
    review = ReviewStep(ctx)
    try:
        review.run()
    finally:
        review.close()
    assert ctx.machine.step is Step.CONFIRM_SIGN


def test_the_case_is_stored_with_its_outbox_entry_and_stays_queued(
    ctx: SessionContext, parts: Parts, recorder: Recorder
) -> None:
    _to_confirm(ctx)
    result = parts.submission.submit(SIGNATURE)
    assert result is not None and result.queued and not result.acknowledged
    assert ctx.machine.step is Step.RESULT and ctx.data.case.case_id == result.case_id
    assert [e.result for e in recorder.of(CaseSubmitted)] == [result]  # type: ignore[attr-defined]
    stored = ctx.store.cases.get(result.case_id)
    assert stored is not None
    payload = json.loads(stored.payload)
    assert payload["decision"]["outcome"] == "approve"
    assert payload["delivery"]["method"] == "print_here"  # the package's default, settled on submit
    assert payload["signature_attachment"] is not None
    # the terminal's readable number (the platform did not answer) goes with the case
    assert payload["case_number"] == result.case_number and case_number_ok(result.case_number)
    assert payload["case_id"] == result.case_id and len(result.case_number) < 20
    # an approval gets its certificate number when the case is stored, unique per day
    assert ctx.data.case.certificate_number == f"LNYD{ctx.config.terminal_id[-4:]}{NOW:%Y%m%d}0001"


def test_the_receipt_and_certificate_are_printed(
    ctx: SessionContext, parts: Parts, recorder: Recorder
) -> None:
    _to_confirm(ctx)
    submitted = parts.submission.submit(SIGNATURE)
    assert submitted is not None
    printed = parts.outputs.print("en")
    assert printed.receipt_printed and printed.certificate_printed and printed.problem is None
    assert printed.certificate_number == ctx.data.case.certificate_number
    receipts = parts.printer.wait_for_receipts(1, timeout=10.0)
    text = receipts[0].text.replace("\n", "")
    # the short readable number on the receipt, never the 36-character UUID (the idempotency key)
    assert submitted.case_number == "0001-260302-0001" + check_character("0001-260302-0001")
    assert submitted.case_number in text and submitted.case_id not in text
    assert "371402195203140022" not in receipts[0].text  # the receipt masks the ID number
    assert printed.certificate_job and (parts.spool / f"{printed.certificate_job}.pdf").exists()
    assert [e.result for e in recorder.of(OutputsPrinted)] == [printed]  # type: ignore[attr-defined]


def test_an_unplugged_printer_is_a_problem_not_a_crash(ctx: SessionContext, parts: Parts) -> None:
    _to_confirm(ctx)
    assert parts.outputs.choose_delivery("window") == {}
    assert parts.submission.submit(SIGNATURE) is not None
    assert ctx.data.case.queue_number  # a window pick-up gets a queue number before printing
    parts.printer.unplug()
    printed = parts.outputs.print("zh")
    assert not printed.receipt_printed and printed.slips_printed == ()
    assert printed.problem is not None and printed.problem.device == "receipt_printer"


def test_express_delivery_is_checked_against_the_jurisdiction(ctx: SessionContext, parts: Parts) -> None:
    _to_confirm(ctx)
    offered, default = parts.outputs.delivery_options()
    assert [m.value for m in offered] == ["print_here", "window", "express"] and default is not None
    prefill = parts.outputs.express_prefill()
    assert prefill["recipient"] == "张桂兰"
    errors = parts.outputs.choose_delivery("express", {**prefill, "mobile": "", "postal_code": ""})
    assert {"mobile", "postal_code"} <= set(errors) and ctx.data.case.delivery is None
    assert parts.outputs.choose_delivery("teleport") == {"method": "delivery.error.choice"}


def test_certificate_numbers_are_never_reused(ctx: SessionContext) -> None:
    numbering = Numbering(ctx)
    pkg = ctx.catalogue.package("senior-card")
    first, second = numbering.next_certificate(pkg), numbering.next_certificate(pkg)
    assert first != second and second.endswith("0002")
    assert Numbering(ctx).next_certificate(pkg).endswith("0003")  # persisted in the store
