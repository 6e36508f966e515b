"""What the citizen takes away on the receipt printer: the receipt, the pick-up slip and the
queue ticket, as device-neutral ``ReceiptDoc`` objects.

Pure functions: no device, no clock, no I/O.  They carry only masked personal data
(``张*兰``, ``3714**********0022``; :mod:`kiosk.outputs.masking`).  The A4 documents are
:mod:`kiosk.outputs.certificate` (certificate PDF, QR token) and :mod:`kiosk.outputs.commitment`
(the signed commitment form); their names are importable from here too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from devices.interfaces import ReceiptDoc, ReceiptLine
from kiosk.i18n import Language, tr
from kiosk.outputs.certificate import (
    DEMO_CERT_SIGNING_KEY,
    CertificateData,
    TokenError,
    build_certificate_pdf,
    certificate_claims,
    certificate_qr_content,
    draw_seal,
    sign_certificate_token,
    token_from_qr,
    verify_certificate_token,
)
from kiosk.outputs.commitment import CommitmentData, build_commitment_pdf, signature_ink
from kiosk.outputs.masking import FULL_ID, mask_id_number, mask_name

__all__ = [
    "DEMO_CERT_SIGNING_KEY",
    "CertificateData",
    "CommitmentData",
    "Decision",
    "PickupSlipData",
    "QueueTicketData",
    "ReceiptData",
    "ReceiptDelivery",
    "TokenError",
    "build_certificate_pdf",
    "build_commitment_pdf",
    "build_pickup_slip",
    "build_queue_ticket",
    "build_receipt",
    "certificate_claims",
    "certificate_qr_content",
    "draw_seal",
    "mask_id_number",
    "mask_name",
    "queue_number",
    "sign_certificate_token",
    "signature_ink",
    "token_from_qr",
    "verify_certificate_token",
]

Decision = Literal["approve", "reject", "manual"]

#: The decisions a receipt can tell (its title, result and reasons label come from the catalogue:
#: ``receipt.title.<decision>``, ``receipt.result.<decision>``, ``receipt.reasons.<decision>``).
DECISIONS: tuple[Decision, ...] = ("approve", "manual", "reject")
#: The capacities of the one who applied for someone else (kiosk.review.applicants).
AGENT_ROLES = ("agent", "legal_representative", "authorised_agent")


# ------------------------------------------------------------------ receipt
@dataclass(frozen=True)
class ReceiptDelivery:
    """The delivery choice as the receipt shows it: express details arrive masked."""

    method: str  # kiosk.outputs.delivery.DeliveryMethod value
    after_review: bool = False  # the case waits for manual review: delivery once approved
    recipient_masked: str = ""
    mobile_masked: str = ""
    address_masked: str = ""
    postal_code: str = ""

    def __post_init__(self) -> None:
        if self.method not in ("print_here", "window", "express"):
            raise ValueError(f"unknown delivery method {self.method!r}")
        if self.method == "express":
            for value in (self.recipient_masked, self.mobile_masked, self.address_masked):
                if "*" not in value:
                    raise ValueError("express details must be masked on a receipt")

    def __repr__(self) -> str:
        return f"ReceiptDelivery(method={self.method!r})"

    def method_text(self, lang: Language) -> str:
        key = self.method
        if self.after_review and self.method in ("window", "express"):
            key += "_after_review"
        return tr(f"receipt.delivery.{key}", lang)

    def lines(self, lang: Language) -> list[str]:
        out = [tr("receipt.pickup", lang, v=self.method_text(lang))]
        if self.method == "express":
            out += [
                tr("receipt.recipient", lang, v=self.recipient_masked),
                tr("receipt.mobile", lang, v=self.mobile_masked),
                tr("receipt.address", lang, v=self.address_masked),
                tr("receipt.postal_code", lang, v=self.postal_code),
            ]
        return out


@dataclass(frozen=True)
class ReceiptData:
    """Everything a receipt shows.  Names and ID numbers arrive masked (see :func:`mask_name`)."""

    hall_name: str
    item_name: str
    case_id: str
    decision: Decision
    reasons: tuple[str, ...]
    applicant_name_masked: str
    id_number_masked: str
    submitted_at: dt.datetime
    pickup_text: str
    progress_url: str
    contact_line: str
    language: Language = "zh"
    #: the citizen's delivery choice; when given it replaces ``pickup_text``
    delivery: ReceiptDelivery | None = None
    queue_number: str = ""  # the queue ticket printed with this receipt, if any
    certificate_number: str = ""
    #: an application by an agent (代办) or a legal person's representative: who applied here
    #: (the applicant above is the principal or the legal person, ``id_number_masked`` its USCC)
    agent_name_masked: str = ""
    agent_id_number_masked: str = ""
    applicant_is_legal_person: bool = False
    #: in what capacity (kiosk.review.applicants): ``agent`` (代办人), for a legal person its
    #: ``legal_representative`` (法定代表人) or an ``authorised_agent`` (代办人, with the letter)
    agent_role: str = "agent"
    #: a life event's (一件事) items delivered otherwise than chosen: (item name, its own delivery)
    item_pickups: tuple[tuple[str, ReceiptDelivery], ...] = ()

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"unknown decision {self.decision!r}")
        if "*" not in self.applicant_name_masked:
            raise ValueError("applicant name must be masked on a receipt")
        if "*" not in self.id_number_masked or FULL_ID.search(self.id_number_masked):
            raise ValueError("ID number must be masked on a receipt")
        if self.agent_name_masked and "*" not in self.agent_name_masked:
            raise ValueError("agent name must be masked on a receipt")
        if FULL_ID.search(self.agent_id_number_masked):
            raise ValueError("agent ID number must be masked on a receipt")
        if self.agent_role not in AGENT_ROLES:
            raise ValueError(f"unknown agent role {self.agent_role!r}")
        if isinstance(self.reasons, str) or not all(isinstance(r, str) for r in self.reasons):
            raise TypeError("reasons must be a sequence of strings")
        object.__setattr__(self, "reasons", tuple(self.reasons))

    def __repr__(self) -> str:
        return f"ReceiptData(case_id={self.case_id!r}, decision={self.decision!r})"


def _text(text: str, *, bold: bool = False, align: str = "left", double: bool = False) -> ReceiptLine:
    return ReceiptLine(kind="text", text=text, bold=bold, align=align, double=double)


def _agent_lines(data: ReceiptData) -> list[ReceiptLine]:
    """Who applied here, named by their role: 代办人 (an agent, or a legal person's authorised agent)
    or 法定代表人 (a legal person's legal representative)."""
    lang = data.language
    if data.agent_role == "legal_representative":
        name = tr("receipt.legal_representative", lang, v=data.agent_name_masked)
        number = tr("receipt.legal_representative_id_number", lang, v=data.agent_id_number_masked)
    elif data.agent_role == "authorised_agent":
        name = tr("receipt.authorised_agent", lang, v=data.agent_name_masked)
        number = tr("receipt.authorised_agent_id_number", lang, v=data.agent_id_number_masked)
    else:
        name = tr("receipt.agent", lang, v=data.agent_name_masked)
        number = tr("receipt.agent_id_number", lang, v=data.agent_id_number_masked)
    return [_text(name), _text(number)]


def build_receipt(data: ReceiptData) -> ReceiptDoc:
    """The receipt for one case: title by decision, case facts, reasons, the delivery choice, a QR
    code to track progress.  Labels in ``data.language`` (the session's); data texts (item name,
    reasons) arrive already in that language."""
    lang = data.language
    lines: list[ReceiptLine] = [
        _text(data.hall_name, bold=True, align="center"),
        _text(tr(f"receipt.title.{data.decision}", lang), bold=True, align="center", double=True),
        ReceiptLine(kind="feed"),
        _text(tr("receipt.item", lang, v=data.item_name)),
        _text(tr("receipt.case", lang, v=data.case_id), bold=True),
        _text(tr("receipt.applicant", lang, v=data.applicant_name_masked)),
        _text(
            tr(
                "receipt.uscc" if data.applicant_is_legal_person else "receipt.id_number",
                lang,
                v=data.id_number_masked,
            )
        ),
        *(_agent_lines(data) if data.agent_name_masked else []),
        _text(tr("receipt.submitted", lang, v=data.submitted_at.strftime("%Y-%m-%d %H:%M"))),
        _text(tr("receipt.result", lang, v=tr(f"receipt.result.{data.decision}", lang)), bold=True),
    ]
    if data.reasons:
        lines.append(_text(tr("receipt.reasons", lang, v=tr(f"receipt.reasons.{data.decision}", lang))))
        lines.extend(_text(f"{i}. {reason}") for i, reason in enumerate(data.reasons, start=1))
    if data.certificate_number:
        lines.append(_text(tr("receipt.certificate_no", lang, v=data.certificate_number)))
    if data.delivery is not None:
        lines.extend(_text(t) for t in data.delivery.lines(lang))
    elif data.pickup_text:
        lines.append(_text(tr("receipt.pickup", lang, v=data.pickup_text)))
    for name, own in data.item_pickups:
        lines.append(_text(tr("receipt.item_pickup", lang, item=name, v=own.method_text(lang))))
    if data.queue_number:
        lines.append(_text(tr("receipt.queue", lang, v=data.queue_number), bold=True))
    lines += [
        ReceiptLine(kind="feed"),
        _text(tr("receipt.scan", lang), align="center"),
        ReceiptLine(kind="qr", text=data.progress_url, align="center"),
        ReceiptLine(kind="feed"),
        _text(data.contact_line, align="center"),
        _text(tr("receipt.keep", lang), align="center"),
        ReceiptLine(kind="cut"),
    ]
    return ReceiptDoc(tuple(lines))


# ------------------------------------------------------------------ slips (receipt printer)
@dataclass(frozen=True)
class PickupSlipData:
    """The pick-up slip for a result collected at the hall's window."""

    hall_name: str
    item_name: str
    case_id: str
    applicant_name_masked: str
    certificate_number: str  # "" while the case waits for manual review
    queue_number: str
    progress_url: str
    language: Language = "zh"

    def __post_init__(self) -> None:
        if "*" not in self.applicant_name_masked:
            raise ValueError("applicant name must be masked on a slip")

    def __repr__(self) -> str:
        return f"PickupSlipData(case_id={self.case_id!r})"


def build_pickup_slip(data: PickupSlipData) -> ReceiptDoc:
    """取件单: what the citizen shows at the window to collect the result."""
    lang = data.language
    ready = "slip.pickup.ready" if data.certificate_number else "slip.pickup.after_review"
    lines: list[ReceiptLine] = [
        _text(data.hall_name, bold=True, align="center"),
        _text(tr("slip.pickup.title", lang), bold=True, align="center", double=True),
        ReceiptLine(kind="feed"),
        _text(tr("receipt.item", lang, v=data.item_name)),
        _text(tr("receipt.case", lang, v=data.case_id), bold=True),
        _text(tr("receipt.applicant", lang, v=data.applicant_name_masked)),
    ]
    if data.certificate_number:
        lines.append(_text(tr("receipt.certificate_no", lang, v=data.certificate_number)))
    if data.queue_number:
        lines.append(_text(tr("receipt.queue", lang, v=data.queue_number), bold=True))
    lines += [
        _text(tr(ready, lang)),
        ReceiptLine(kind="feed"),
        ReceiptLine(kind="qr", text=data.progress_url, align="center"),
        ReceiptLine(kind="cut"),
    ]
    return ReceiptDoc(tuple(lines))


@dataclass(frozen=True)
class QueueTicketData:
    """排队号: a numbered ticket for a window (manual review or pick-up)."""

    hall_name: str
    number: str
    kind: Literal["pickup", "review"]
    item_name: str
    case_id: str
    terminal_id: str
    issued_at: dt.datetime
    language: Language = "zh"


def build_queue_ticket(data: QueueTicketData) -> ReceiptDoc:
    lang = data.language
    return ReceiptDoc(
        (
            _text(data.hall_name, bold=True, align="center"),
            _text(tr("slip.queue.title", lang), bold=True, align="center"),
            _text(data.number, bold=True, align="center", double=True),
            ReceiptLine(kind="feed"),
            _text(tr(f"slip.queue.kind.{data.kind}", lang)),
            _text(tr("receipt.item", lang, v=data.item_name)),
            _text(tr("receipt.case", lang, v=data.case_id)),
            _text(tr("slip.queue.issued", lang, v=data.issued_at.strftime("%Y-%m-%d %H:%M"))),
            _text(tr("slip.queue.terminal", lang, v=data.terminal_id)),
            _text(tr("slip.queue.wait", lang), align="center"),
            ReceiptLine(kind="cut"),
        )
    )


def queue_number(prefix: str, seq: int) -> str:
    """The printed number: ``<prefix><seq:03d>``.  The sequence is per terminal and day (the day
    and terminal are on the ticket)."""
    if seq < 1:
        raise ValueError("queue sequence starts at 1")
    return f"{prefix}{seq:03d}"
