"""The receipt names the person who applied for a legal person by their role: 法定代表人 (legal
representative) without a letter of authorisation, 代办人 (authorised agent) with it; an agent for
a person stays 代办人.  Reviewed, submitted and printed through the steps; the receipt read back as
the ESC/POS printer simulator decoded the bytes it received."""

from __future__ import annotations

import pytest

from kiosk.documents.capture import MaterialResult
from kiosk.session.context import SessionContext
from kiosk.session.steps.review import ReviewStep
from tests.kiosk.steps.helpers import Parts, at_review, confirmed

EMPLOYER = "employer-social-insurance-registration"
USCC = "91371402MA3C123452"
LI_ID = "37140219880721003X"


def _printed_receipt(ctx: SessionContext, parts: Parts, *materials: MaterialResult, lang: str = "zh") -> str:
    """李建国 at the terminal applies for his company; the receipt's text as the printer decoded it."""
    form = {"phone": "13905340000", "applicant_kind": "legal_person", "uscc": USCC}
    at_review(ctx, "business", EMPLOYER, {**form, "company_name": "德州市德城区建国商贸有限公司"}, *materials)
    review = ReviewStep(ctx)
    try:
        assert review.run().outcome.value == "approve"
    finally:
        review.close()
    assert parts.submission.submit(b"\x89PNG signature") is not None
    assert parts.outputs.print(lang).receipt_printed
    receipt: str = parts.printer.wait_for_receipts(1, timeout=10.0)[0].text
    assert LI_ID not in receipt and USCC not in receipt
    return receipt


LICENCE = ("business_licence", "uscc", "representative")
LETTER = ("authorisation_letter", "uscc", "agent_id_number")


def test_the_legal_representative_is_named_so(ctx: SessionContext, parts: Parts) -> None:
    receipt = _printed_receipt(ctx, parts, confirmed(*LICENCE))
    assert "法定代表人：李*国" in receipt and "法定代表人证件：3714**********003X" in receipt
    assert "代 办 人" not in receipt and "代办人证件" not in receipt
    assert "信用代码：9137**********3452" in receipt


def test_with_the_letter_of_authorisation_it_is_the_authorised_agent(
    ctx: SessionContext, parts: Parts
) -> None:
    receipt = _printed_receipt(ctx, parts, confirmed(*LICENCE), confirmed(*LETTER))
    assert "代 办 人：李*国" in receipt and "代办人证件：3714**********003X" in receipt
    assert "法定代表人" not in receipt


@pytest.mark.parametrize(
    ("materials", "name_line", "number_line"),
    [
        ((LICENCE,), "Legal representative: 李*国", "Legal representative's ID number: 3714**********003X"),
        ((LICENCE, LETTER), "Authorised agent: 李*国", "Authorised agent's ID number: 3714**********003X"),
    ],
)
def test_english_receipts_name_the_role_too(
    ctx: SessionContext,
    parts: Parts,
    materials: tuple[tuple[str, ...], ...],
    name_line: str,
    number_line: str,
) -> None:
    receipt = _printed_receipt(ctx, parts, *(confirmed(*m) for m in materials), lang="en")
    flat = receipt.replace("\n", " ")  # a long line wraps at a space, at the printer's width
    assert name_line in flat and number_line in flat
    assert "Applied by (agent)" not in flat
