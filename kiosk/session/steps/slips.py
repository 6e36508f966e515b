"""The receipt's delivery block and the window slips (pick-up slip, queue ticket) of a session."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from kiosk import i18n
from kiosk.config import TerminalConfig
from kiosk.outputs import render as outputs
from kiosk.outputs.delivery import DeliveryChoice, mask_address, mask_mobile
from kiosk.review.engine import Decision, Outcome
from kiosk.session.machine import SessionData


def receipt_delivery(choice: DeliveryChoice | None, decision: Decision) -> outputs.ReceiptDelivery | None:
    if choice is None:
        return None
    after_review = decision.outcome is not Outcome.APPROVE
    if choice.address is None:
        return outputs.ReceiptDelivery(choice.method.value, after_review=after_review)
    a = choice.address
    return outputs.ReceiptDelivery(
        choice.method.value,
        after_review=after_review,
        recipient_masked=outputs.mask_name(a.recipient),
        mobile_masked=mask_mobile(a.mobile),
        address_masked=mask_address(a.address),
        postal_code=a.postal_code,
    )


def window_slips(
    config: TerminalConfig,
    data: SessionData,
    name: tuple[str, str],
    decision: Decision,
    cert_no: str | None,
    lang: i18n.Language,
    now: dt.datetime,
    progress_url: str,
    *,
    pickup: bool,
) -> list[tuple[str, Any]]:
    """("pickup", doc) when something is picked up at the window (``pickup``; ``cert_no``: the
    certificates collected there) and ("queue", doc) when a queue number was issued; ``name``: what
    was applied for (the item, or the life event); ``progress_url``: the case's receipt QR
    (:func:`kiosk.hall.reference.progress_url`)."""
    hall = config.ui.hall_name if lang == "zh" else config.ui.hall_name_en
    item_name = i18n.bilingual(*name, lang)
    slips: list[tuple[str, Any]] = []
    if pickup:
        slips.append(
            (
                "pickup",
                outputs.build_pickup_slip(
                    outputs.PickupSlipData(
                        hall_name=hall,
                        item_name=item_name,
                        case_id=data.case.case_number or data.case.case_id or "",
                        applicant_name_masked=outputs.mask_name(data.identity.require_card().text.name),
                        certificate_number=cert_no or "",
                        queue_number=data.case.queue_number or "",
                        progress_url=progress_url,
                        language=lang,
                    )
                ),
            )
        )
    if data.case.queue_number:
        kind: Literal["pickup", "review"] = "review" if decision.outcome is Outcome.MANUAL else "pickup"
        slips.append(
            (
                "queue",
                outputs.build_queue_ticket(
                    outputs.QueueTicketData(
                        hall_name=hall,
                        number=data.case.queue_number,
                        kind=kind,
                        item_name=item_name,
                        case_id=data.case.case_number or data.case.case_id or "",
                        terminal_id=config.terminal_id,
                        issued_at=now,
                        language=lang,
                    )
                ),
            )
        )
    return slips
