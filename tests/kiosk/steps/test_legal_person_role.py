"""The case record of a legal person's application tells its legal representative (法定代表人, in
their own right) from an authorised agent (受托人, with the item's 授权委托书)."""

from __future__ import annotations

import json
from typing import Any

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.documents.capture import MaterialResult
from kiosk.review.engine import Decision, Outcome
from kiosk.session.context import SessionContext
from kiosk.session.steps.case_record import case_payload
from tests.kiosk.steps.helpers import NOW

ITEM = "employer-social-insurance-registration"
USCC = "91371402MA3C123456"


def _case(ctx: SessionContext, materials: tuple[str, ...]) -> dict[str, Any]:
    ctx.data.item_id = ITEM
    ctx.data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
    ctx.data.application.form = {"applicant_kind": "legal_person", "uscc": USCC, "company_name": "建国商贸"}
    ctx.data.application.materials = {t: MaterialResult(t, {}, ()) for t in materials}
    ctx.data.application.decision = Decision(Outcome.MANUAL, (), (), "p", "1", "0" * 64, "0" * 64, {}, 1.0)
    body: dict[str, Any] = json.loads(case_payload(ctx.config, ctx.data, ctx.package(ctx.data), "c-1", NOW))
    return body


def test_without_an_authorisation_letter_the_person_is_the_legal_representative(ctx: SessionContext) -> None:
    case = _case(ctx, ("business_licence",))
    assert case["applicant_kind"] == "legal_person"
    assert case["applicant"] == {"kind": "legal_person", "uscc": USCC, "name": "建国商贸"}
    assert case["agent"]["role"] == "legal_representative"


def test_with_the_authorisation_letter_the_person_is_an_authorised_agent(ctx: SessionContext) -> None:
    case = _case(ctx, ("business_licence", "authorisation_letter"))
    assert case["agent"]["role"] == "authorised_agent"
    assert case["agent"]["id_number"] == sim_card("senior").text.id_number
