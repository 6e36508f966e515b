"""The printed hall ticket (取号单) as a device-neutral ``ReceiptDoc`` (pure: no device, no clock)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from devices.interfaces import ReceiptDoc, ReceiptLine
from kiosk.i18n import tr

if TYPE_CHECKING:
    from kiosk.hall.services import HallTicket


def _text(text: str, *, bold: bool = False, align: str = "left", double: bool = False) -> ReceiptLine:
    return ReceiptLine(kind="text", text=text, bold=bold, align=align, double=double)


def build_hall_ticket(
    ticket: HallTicket, *, hall_name: str, terminal_id: str, lang: str = "zh"
) -> ReceiptDoc:
    lines = [
        _text(hall_name, bold=True, align="center"),
        _text(tr("hall.ticket.title", lang), bold=True, align="center"),
        _text(ticket.number, bold=True, align="center", double=True),
    ]
    if ticket.local:
        lines.append(_text(tr("hall.ticket.local", lang), bold=True, align="center"))
    lines += [ReceiptLine(kind="feed"), _text(tr("hall.ticket.line", lang, v=ticket.line_name))]
    if ticket.windows:
        lines.append(_text(tr("hall.ticket.windows", lang, v=ticket.windows)))
    if ticket.people_waiting is not None:
        lines.append(_text(tr("hall.ticket.waiting", lang, v=ticket.people_waiting)))
    if ticket.estimated_wait_min is not None:
        lines.append(_text(tr("hall.ticket.wait", lang, v=ticket.estimated_wait_min)))
    if ticket.appointment:
        lines.append(_text(tr("hall.ticket.appointment", lang, v=ticket.appointment)))
    lines += [
        _text(tr("hall.ticket.issued", lang, v=ticket.issued_at.strftime("%Y-%m-%d %H:%M"))),
        _text(tr("hall.ticket.terminal", lang, v=terminal_id)),
    ]
    if ticket.local:
        lines.append(_text(tr("hall.ticket.local_note", lang)))
    lines += [_text(tr("hall.ticket.call", lang), align="center"), ReceiptLine(kind="cut")]
    return ReceiptDoc(tuple(lines))
