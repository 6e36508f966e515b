"""The review step checks every party of an application on the item's warning lists: an agent
(代办) applying for a listed principal, or someone applying for a listed legal person (法人), gets
the prudent prompt and manual review, with reasons naming the party masked; an unlisted principal's
application is decided as before.  Real item packages and warning lists from a real store; the
platform lookup is answered at its interface (tests/e2e/test_applicants_ui.py asks the sandbox)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from devices.idcard.sim_cards import sim_card
from kiosk.documents.capture import MaterialResult
from kiosk.review.engine import Decision, Outcome
from kiosk.review.party_warnings import application_parties
from kiosk.review.warnings import WarningHit
from kiosk.session.context import SessionContext
from kiosk.session.steps.case_record import case_payload
from kiosk.session.steps.lookups import PlatformInputs
from kiosk.session.steps.review import ReviewStep
from tests.kiosk.steps.helpers import NOW, at_review, confirmed
from ui.present import decision_view

RENT, EMPLOYER = "hpf-withdrawal-rent", "employer-social-insurance-registration"
LI_ID, ZHANG_ID, WANG_ID = "37140219880721003X", "371402195203140022", "371428197911020016"
LISTED_USCC, COMPANY_USCC = "91371402MA3C67890Y", "91371402MA3C123452"  # on dishonest_entities / not


class Registers:
    """The platform's registers at the lookup interface: nobody here owns a home."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def look_up(self, id_number: str, item_id: str, names: list[str]) -> Mapping[str, Any]:
        self.asked.append(id_number)
        return dict.fromkeys(names, False)


def _review(
    ctx: SessionContext, card: str, item: str, form: dict[str, str], *materials: MaterialResult
) -> Decision:
    base = {"phone": "13905340000", "bank_account": "6228480402564890018"}
    at_review(ctx, card, item, {**base, **form}, *materials)
    registers = Registers()
    step = ReviewStep(ctx, lookups=PlatformInputs(registers, 5.0))
    try:
        decision = step.run()
    finally:
        step.close()
    if form.get("applicant_kind") == "agent":  # the registers are asked about the principal
        assert registers.asked == [form["principal_id_number"]]
    return decision


def _agent_for(principal_name: str, principal_id: str) -> dict[str, str]:
    return {"applicant_kind": "agent", "principal_name": principal_name, "principal_id_number": principal_id}


RENT_MATERIALS = (
    confirmed("tenancy_agreement"),
    confirmed("power_of_attorney", "principal_id_number", "agent_id_number"),
)


def _matched(ctx: SessionContext) -> list[WarningHit]:
    return [h for h in ctx.data.application.warnings if h.matched]


def test_an_agent_applying_for_a_listed_principal_goes_to_manual_review(ctx: SessionContext) -> None:
    decision = _review(ctx, "senior", RENT, _agent_for("李建国", LI_ID), *RENT_MATERIALS)
    assert decision.outcome is Outcome.MANUAL
    assert decision.reasons == ("warning_dishonest", "warning_principal")
    named = decision.reason_texts[-1]
    assert named.zh == "委托人 李*国 3714**********003X在警示名单中：失信被执行人名单（最高人民法院公布）"
    assert named.en.startswith("Principal 李*国 3714**********003X is on a warning list: List of dishonest")
    assert all(LI_ID not in t.zh + t.en for t in decision.reason_texts)
    assert [(h.list_name, h.party) for h in _matched(ctx)] == [("dishonest_persons", "principal")]
    # the prudent prompt names whose listing it is; the case record says which party matched
    view = decision_view(decision, tuple(ctx.data.application.warnings))
    assert [w.concerns for w in view.warnings] == [
        ("涉及：委托人 李*国 3714**********003X", "Concerns: Principal 李*国 3714**********003X")
    ]
    case = json.loads(case_payload(ctx.config, ctx.data, ctx.package(ctx.data), "c-1", NOW))
    assert case["warnings"] == [
        {
            "list": "dishonest_persons",
            "version": "2025.1",
            "matched": True,
            "stale": False,
            "party": "principal",
        }
    ]


def test_an_unlisted_principal_is_decided_as_before(ctx: SessionContext) -> None:
    decision = _review(ctx, "senior", RENT, _agent_for("王晓明", WANG_ID), *RENT_MATERIALS)
    assert decision.outcome is Outcome.APPROVE and decision.reasons == ("rent_withdrawal",)
    assert ctx.data.application.warnings == []
    assert decision_view(decision, ()).warnings == ()


def test_a_listed_agent_is_named_as_the_agent(ctx: SessionContext) -> None:
    decision = _review(ctx, "business", RENT, _agent_for("张桂兰", ZHANG_ID), *RENT_MATERIALS)
    assert decision.outcome is Outcome.MANUAL
    assert decision.reasons == ("warning_dishonest", "warning_agent")
    assert decision.reason_texts[-1].zh.startswith("代办人 李*国 3714**********003X在警示名单中")


def test_in_person_a_listed_applicant_gets_the_items_reason_only(ctx: SessionContext) -> None:
    decision = _review(ctx, "business", RENT, {"applicant_kind": "self"}, RENT_MATERIALS[0])
    assert decision.outcome is Outcome.MANUAL and decision.reasons == ("warning_dishonest",)
    assert [h.party for h in _matched(ctx)] == ["applicant"]
    assert decision_view(decision, tuple(ctx.data.application.warnings)).warnings[0].concerns is None


def _for_company(uscc: str) -> dict[str, str]:
    return {"applicant_kind": "legal_person", "uscc": uscc, "company_name": "德州市德城区建国商贸有限公司"}


def test_a_listed_legal_person_is_checked_by_its_uscc(ctx: SessionContext) -> None:
    licence = confirmed("business_licence", "uscc", "representative")
    decision = _review(ctx, "business", EMPLOYER, _for_company(LISTED_USCC), licence)
    assert decision.outcome is Outcome.MANUAL
    assert decision.reasons == ("warning_dishonest_entity", "warning_legal_person")
    assert decision.reason_texts[-1].zh.startswith("法人 德************司 9137**********890Y在警示名单中")
    assert LISTED_USCC not in decision.reason_texts[-1].zh + decision.reason_texts[-1].en
    assert [(h.list_name, h.party) for h in _matched(ctx)] == [("dishonest_entities", "legal_person")]


def test_an_unlisted_legal_person_is_decided_as_before(ctx: SessionContext) -> None:
    licence = confirmed("business_licence", "uscc", "representative")
    decision = _review(ctx, "business", EMPLOYER, _for_company(COMPANY_USCC), licence)
    assert decision.outcome is Outcome.APPROVE and decision.reasons == ("registration_accepted",)
    assert _matched(ctx) == []


def test_a_kind_the_item_does_not_offer_counts_as_in_person() -> None:
    """In a life event's combined form another item's ``applicant_kind`` must not make this item's
    application one for a legal person."""
    card = sim_card("business").text
    form = {**_for_company(LISTED_USCC), "business_name": "德城区建国便利店"}
    [alone] = application_parties(form, card, kinds=("self",), authorised=False)
    assert alone.role == "applicant" and alone.identifiers["id_number"] == LI_ID
    assert alone.identifiers["business_name"] == "德城区建国便利店" and "uscc" not in alone.identifiers
    entity, person = application_parties(form, card, kinds=("legal_person",), authorised=False)
    assert (entity.role, person.role) == ("legal_person", "legal_representative")
    assert entity.identifiers["uscc"] == LISTED_USCC and LISTED_USCC not in repr(entity)
    assert entity.masked == "德************司 9137**********890Y"
