"""Who applies: the person at the terminal for themselves, as an agent (代办) for a principal, or
for a legal person (法人) as its legal representative or an authorised agent.

A package that allows more than the applicant in person declares it::

    "applicants": {"kinds": ["self", "agent"], "authorisation": "power_of_attorney"}

and its form carries the fields of the parties under reserved keys (the author labels them):

=================  ===========================================================================
``applicant_kind``  a select field whose options are the declared kinds (``self``, ``agent``,
                    ``legal_person``); the one who identified at the terminal chooses
``principal_id_number``, ``principal_name``   kind ``agent``: the principal (委托人)
``uscc``, ``company_name``                     kind ``legal_person``: the unified social credit
                                              code (GB 32100, check character validated) and name
=================  ===========================================================================

The ID card + face check identify the person at the terminal: the principal's agent, or the legal
person's representative (or its agent with a 授权委托书).  ``authorisation`` names the material
that carries the authorisation (委托书), scanned and OCR-checked like any material: its
cross-checks (the principal's ID number against ``form.principal_id_number``, the agent's against
the card) reach the rules as ``cross_check.<material>.<field>``.

The rules read the source ``applying``: ``applying.kind`` (the option code) and
``applying.principal_valid`` (kind ``agent``: the principal's ID number passes GB 11643; kind
``legal_person``: the USCC's check character is right; ``self``: true).  The case carries the
principal as ``applicant`` and the person at the terminal as ``agent``; the receipt names both.
The agent's ``role`` says in what capacity they act: ``agent`` (代办, for a person), and for a
legal person ``legal_representative`` (法定代表人, in their own right) or ``authorised_agent``
(受托人, when the item's ``authorisation`` material, the 授权委托书, was presented: the letter
is what lets someone other than the representative act for the legal person).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.identity.cards import validate_id_number
from kiosk.review.checks import is_uscc

__all__ = [
    "APPLICANT_INPUTS",
    "AUTHORISED_AGENT",
    "IN_PERSON",
    "KINDS",
    "LEGAL_REPRESENTATIVE",
    "Applicants",
    "Parties",
    "applicant_value",
    "check_package",
    "form_errors",
    "parties",
]

KINDS = ("self", "agent", "legal_person")
KIND_FIELD = "applicant_kind"
#: The form fields each kind needs (besides the kind itself).
PARTY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "self": (),
    "agent": ("principal_id_number", "principal_name"),
    "legal_person": ("uscc", "company_name"),
}
APPLICANT_INPUTS = ("applying.kind", "applying.principal_valid")


@dataclass(frozen=True)
class Applicants:
    kinds: tuple[str, ...] = ("self",)
    authorisation: str | None = None  # the material type carrying the 委托书 / 授权委托书

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Applicants:
        block = doc.get("applicants")
        if block is None:
            return IN_PERSON
        return cls(tuple(block["kinds"]), block.get("authorisation"))

    def authorised(self, presented: Iterable[str]) -> bool:
        """Whether the authorisation material is among the ``presented`` material types."""
        return self.authorisation is not None and self.authorisation in set(presented)


#: A package without ``applicants``: the applicant in person only.
IN_PERSON = Applicants()


def check_package(doc: Mapping[str, Any]) -> list[str]:
    """Problems with a schema-valid package's ``applicants`` (empty: fine)."""
    applicants = Applicants.from_doc(doc)
    if doc.get("applicants") is None:
        return []
    fields = {f["key"]: f for f in doc["form"]["fields"]}
    problems: list[str] = []
    kind_field = fields.get(KIND_FIELD)
    if kind_field is None or kind_field["type"] != "select":
        problems.append(f"applicants: the form needs a select field {KIND_FIELD!r} offering the kinds")
    else:
        options = [o["value"] for o in kind_field.get("options", ())]
        if sorted(options) != sorted(applicants.kinds):
            problems.append(f"applicants: {KIND_FIELD!r} must offer exactly {', '.join(applicants.kinds)}")
    for kind in applicants.kinds:
        for key in PARTY_FIELDS[kind]:
            if key not in fields:
                problems.append(f"applicants: kind {kind!r} needs the form field {key!r}")
    materials = {m["type"] for m in doc["materials"]}
    if applicants.authorisation is not None and applicants.authorisation not in materials:
        problems.append(f"applicants: no material {applicants.authorisation!r} for the authorisation")
    return problems


def _kind(values: Mapping[str, str]) -> str:
    return values.get(KIND_FIELD, "").strip() or "self"


def form_errors(applicants: Applicants, values: Mapping[str, str]) -> dict[str, str]:
    """Field key → i18n error key for the parties of the chosen kind (required, and valid)."""
    kind = _kind(values)
    if kind not in applicants.kinds:
        return {}  # the select field itself says "form.error.option"
    errors: dict[str, str] = {}
    for key in PARTY_FIELDS[kind]:
        if not values.get(key, "").strip():
            errors[key] = "form.error.required"
    number = values.get("principal_id_number", "").strip().upper()
    if kind == "agent" and number and not validate_id_number(number).ok:
        errors["principal_id_number"] = "form.error.id_number"
    code = values.get("uscc", "").strip().upper()
    if kind == "legal_person" and code and not is_uscc(code):
        errors["uscc"] = "form.error.uscc"
    return errors


def applicant_value(name: str, values: Mapping[str, str]) -> Any:
    """The value of an ``applicant.*`` input (see the module docstring)."""
    kind = _kind(values)
    if name == "applying.kind":
        return kind
    if kind == "agent":
        return validate_id_number(values.get("principal_id_number", "").strip().upper()).ok
    if kind == "legal_person":
        return is_uscc(values.get("uscc", "").strip().upper())
    return True


@dataclass(frozen=True)
class Parties:
    """Who the case is for and who applied at the terminal (None: the applicant in person)."""

    kind: str
    applicant: Mapping[str, Any]
    agent: Mapping[str, Any] | None

    def __repr__(self) -> str:  # personal data stays out of logs
        return f"Parties(kind={self.kind!r})"


#: The role of the person at the terminal for a legal person, without and with a 授权委托书.
LEGAL_REPRESENTATIVE = "legal_representative"
AUTHORISED_AGENT = "authorised_agent"


def parties(
    values: Mapping[str, str], at_terminal: Mapping[str, Any], *, authorised: bool = False
) -> Parties:
    """The case's parties from the form and the identity read at the terminal (``at_terminal``:
    :func:`kiosk.identity.cards.applicant_fields` of the card).  ``authorised``: the item's
    authorisation material was presented (a legal person's authorised agent, not its
    representative)."""
    kind = _kind(values)
    if kind == "agent":
        principal = {
            "kind": "person",
            "id_number": values.get("principal_id_number", "").strip().upper(),
            "name": values.get("principal_name", "").strip(),
        }
        return Parties(kind, principal, {**at_terminal, "role": "agent"})
    if kind == "legal_person":
        entity = {
            "kind": "legal_person",
            "uscc": values.get("uscc", "").strip().upper(),
            "name": values.get("company_name", "").strip(),
        }
        role = AUTHORISED_AGENT if authorised else LEGAL_REPRESENTATIVE
        return Parties(kind, entity, {**at_terminal, "role": role})
    return Parties(kind, at_terminal, None)
