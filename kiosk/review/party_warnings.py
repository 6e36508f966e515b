"""Every party of an application checked against the item's warning lists (Dezhou §8.1.8).

An application by an agent (代办) is for its principal, one by a legal representative or an
authorised agent for the legal person (法人): the principal's ID number and name, and the legal
person's USCC and name, are checked on the lists the item consults exactly as the person at the
terminal is (the card's ID number and name).  The form's business name and scope describe the
applicant's business: they are checked as the applicant's (the principal's or the legal
person's when someone applies for them; a legal person's name is its business name).

Each hit says whose identifier matched (``WarningHit.party``: ``applicant`` in person, else
``principal`` / ``legal_person`` or the role of the person at the terminal, ``agent`` /
``legal_representative`` / ``authorised_agent``) and carries that party masked, so the prudent
prompt and the reasons name them without a number in clear.  In an application in person nothing
changes: one party, the applicant, and the item's own rules give the reasons.  When someone else
is at the terminal, a match on any party also adds one reason per hit naming the party
(:func:`party_reasons`): such an application is never approved on the spot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from devices.interfaces import AnyIdCardText
from kiosk.i18n import tr
from kiosk.outputs.masking import mask_id_number, mask_name
from kiosk.review.applicants import KIND_FIELD, parties
from kiosk.review.items import Text
from kiosk.review.warnings import WarningHit, WarningList, check_warnings

__all__ = ["APPLICANT", "Party", "application_parties", "check_parties", "party_label", "party_reasons"]

#: The party of an application in person.
APPLICANT = "applicant"
#: The form's fields that describe the applicant's business (list identifiers of the same name).
_BUSINESS_FIELDS = ("business_name", "business_scope")


@dataclass(frozen=True)
class Party:
    """One party of an application: its role, the identifiers the lists are checked against and
    how it is named to the citizen and staff (masked)."""

    role: str
    identifiers: Mapping[str, str]
    masked: str

    def __repr__(self) -> str:  # personal data stays out of logs
        return f"Party(role={self.role!r})"


def _masked(name: str, number: str) -> str:
    return " ".join(
        p for p in (mask_name(name) if name else "", mask_id_number(number) if number else "") if p
    )


def application_parties(
    form: Mapping[str, str], card: AnyIdCardText, *, kinds: Iterable[str], authorised: bool
) -> tuple[Party, ...]:
    """The parties of the application, the applicant first: in person only the card holder; for
    someone else the principal or the legal person, then the person at the terminal in their role
    (kiosk.review.applicants.parties).  ``kinds``: the kinds the item offers (a kind it does not,
    e.g. another item's in a life event's combined form, counts as in person); ``authorised``:
    the item's authorisation material was presented."""
    business = {k: form[k] for k in _BUSINESS_FIELDS if form.get(k, "").strip()}
    at_terminal = {"id_number": card.id_number, "name": card.name}
    if form.get(KIND_FIELD, "").strip() not in kinds:
        form = {}
    applying = parties(form, at_terminal, authorised=authorised)
    if applying.agent is None:
        return (Party(APPLICANT, {**at_terminal, **business}, _masked(card.name, card.id_number)),)
    entity = applying.applicant
    name = str(entity["name"])
    if applying.kind == "legal_person":
        number = str(entity["uscc"])
        applicant = Party(
            "legal_person", {"uscc": number, "business_name": name, **business}, _masked(name, number)
        )
    else:
        number = str(entity["id_number"])
        applicant = Party("principal", {"id_number": number, "name": name, **business}, _masked(name, number))
    person = Party(str(applying.agent["role"]), at_terminal, _masked(card.name, card.id_number))
    return applicant, person


def check_parties(
    lists: Iterable[WarningList],
    of: Iterable[Party],
    *,
    today: dt.date,
    keys: Mapping[str, bytes] | None = None,
    expected: Iterable[str] = (),
) -> list[WarningHit]:
    """Every party checked on every list (kiosk.review.warnings.check_warnings), each match tagged
    with its party; a stale or missing list is reported once, not once per party."""
    lists = list(lists)
    hits: list[WarningHit] = []
    stale_seen = False
    for party in of:
        found = check_warnings(lists, party.identifiers, today=today, keys=keys, expected=expected)
        for hit in found:
            if hit.matched:
                hits.append(replace(hit, party=party.role, party_masked=party.masked))
            elif not stale_seen:
                hits.append(hit)
        stale_seen = True
    return hits


def party_label(hit: WarningHit) -> Text | None:
    """Who matched, named and masked (``委托人 李*国 3714**********003X``); None in person."""
    if not hit.matched or hit.party == APPLICANT:
        return None
    zh, en = (
        tr("review.warning_who", lang, role=tr(f"party.{hit.party}", lang), v=hit.party_masked)
        for lang in ("zh", "en")
    )
    return Text(zh, en)


def party_reasons(hits: Iterable[WarningHit]) -> list[tuple[str, Text]]:
    """One reason per list a party other than an applicant in person matched: its code
    ``warning_<party>`` and a text naming the party (masked) and the list."""
    out: list[tuple[str, Text]] = []
    for h in hits:
        who = party_label(h)
        if who is not None:
            zh = tr("review.warning_party", "zh", who=who.zh, list=h.description.zh)
            en = tr("review.warning_party", "en", who=who.en, list=h.description.en)
            out.append((f"warning_{h.party}", Text(zh, en)))
    return out
