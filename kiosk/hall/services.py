"""Hall services at the terminal: a queue ticket, appointment check-in, case progress.

:class:`HallServices` talks to the platform through :class:`kiosk.cases.platform_hall.HallPlatform`
(the signed terminal transport) and prints tickets on the receipt printer (ESC/POS) through
:func:`kiosk.hall.tickets.build_hall_ticket`.  When the platform cannot be reached a queue ticket
is still issued: a terminal-local number (``L`` + the line's letter + a per-day sequence kept in a
small file), printed and shown as 本机临时号.  Appointments and progress need the platform: they
raise :class:`HallUnavailable` when it is unreachable.

No ID number is logged or kept; the platform is asked by holder token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devices.base import DeviceError
from devices.interfaces import IdCardReader, ReceiptDoc, ReceiptPrinter
from kiosk.cases.platform_hall import Appointment, CaseProgress, HallPlatform, Ticket
from kiosk.cases.platform_transport import PlatformError, PlatformRejected
from kiosk.hall.identity import HallIdentity
from kiosk.hall.reference import parse_receipt_qr
from kiosk.hall.tickets import build_hall_ticket

if TYPE_CHECKING:
    from kiosk.hall.reprint import ReprintService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BusinessLine:
    line_id: str
    letter: str
    name_zh: str
    name_en: str


#: The hall's business lines as the terminal offers them (the calling system's line ids).
BUSINESS_LINES: tuple[BusinessLine, ...] = (
    BusinessLine("civil_affairs", "A", "民政", "Civil affairs"),
    BusinessLine("social_security", "B", "社保", "Social security"),
    BusinessLine("market_registration", "C", "市场登记", "Market registration"),
    BusinessLine("housing_fund", "D", "公积金", "Housing fund"),
    BusinessLine("general", "Z", "综合受理", "General"),
)

_APPOINTMENT_CODE = re.compile(r"(?:^|[^A-Z0-9])([A-Z0-9]{6,16})$")


class HallUnavailable(Exception):
    """The platform cannot answer a hall service that needs it."""


class ReferenceUnverified(Exception):
    """A receipt QR without its tag, or one whose tag the platform does not accept."""


@dataclass(frozen=True)
class HallTicket:
    """A ticket as printed and shown: from the calling system, or terminal-local (``local``)."""

    number: str
    line_id: str
    line_name: str
    windows: str
    people_waiting: int | None
    estimated_wait_min: int | None
    issued_at: dt.datetime
    local: bool
    appointment: str | None = None
    #: False when the receipt printer failed: the ticket stands, the screen shows its number.
    printed: bool = True

    @classmethod
    def from_platform(cls, ticket: Ticket, appointment: str | None = None) -> HallTicket:
        return cls(
            number=ticket.number,
            line_id=ticket.business_line,
            line_name=ticket.business_line_name,
            windows=ticket.windows,
            people_waiting=ticket.people_waiting,
            estimated_wait_min=ticket.estimated_wait_min,
            issued_at=dt.datetime.fromtimestamp(ticket.issued_at),
            local=False,
            appointment=appointment,
        )


def appointment_code(payload: str) -> str | None:
    """The appointment code in a scanned QR payload: the code itself, or a URL / ``APPT:`` text
    ending in it; None when the payload carries none."""
    text = payload.strip().rstrip("/").split("?")[-1].split("=")[-1].upper()
    found = _APPOINTMENT_CODE.search(text)
    return found.group(1) if found else None


def case_reference(payload: str) -> str | None:
    """The case reference in a receipt's QR payload (the progress URL ends in it)."""
    found = parse_receipt_qr(payload)
    return None if found is None else found.case_ref


class LocalCounter:
    """Per-day ticket sequences of this terminal (a small JSON file; in memory without a path)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._memory: dict[str, int] = {}

    def next(self, letter: str, day: dt.date) -> int:
        with self._lock:
            state = self._load()
            if state.get("day") != day.isoformat():
                state = {"day": day.isoformat()}
            seq = int(state.get(letter, 0)) + 1
            state[letter] = seq
            self._save(state)
            return seq

    def _load(self) -> dict[str, int | str]:
        if self.path is None:
            return dict(self._memory)
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _save(self, state: dict[str, int | str]) -> None:
        if self.path is None:
            self._memory = state  # type: ignore[assignment]
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.path)


class HallServices:
    """The hall services one terminal offers on its welcome screen."""

    def __init__(
        self,
        platform: HallPlatform | None,
        printer: ReceiptPrinter | None,
        *,
        hall_name: str,
        terminal_id: str,
        counter_path: Path | None = None,
        lines: tuple[BusinessLine, ...] = BUSINESS_LINES,
        card_reader: IdCardReader | None = None,
        identity: HallIdentity | None = None,
        reprints: ReprintService | None = None,
    ) -> None:
        #: ID card + face check (进度查询 by card, 证照打印); None: those services are not offered.
        self.identity = identity
        self.reprints = reprints
        self.platform = platform
        self.printer = printer
        self.card_reader = card_reader
        self.hall_name = hall_name
        self.terminal_id = terminal_id
        self.lines = lines
        self.counter = LocalCounter(counter_path)

    def line(self, line_id: str) -> BusinessLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)

    # ------------------------------------------------------------------ queue

    def take_ticket(self, line_id: str, lang: str = "zh") -> HallTicket:
        """A ticket from the calling system, or a terminal-local one when it is unreachable; printed."""
        line = self.line(line_id)
        ticket: HallTicket | None = None
        if self.platform is not None:
            try:
                ticket = HallTicket.from_platform(self.platform.issue_ticket(line_id, str(uuid.uuid4())))
            except (PlatformError, ValueError) as err:
                log.warning("hall: queue ticket from the platform failed (%s); issuing a local number", err)
        if ticket is None:
            now = dt.datetime.now()
            seq = self.counter.next(line.letter, now.date())
            ticket = HallTicket(
                number=f"L{line.letter}{seq:03d}",
                line_id=line_id,
                line_name=f"{line.name_zh} {line.name_en}",
                windows="",
                people_waiting=None,
                estimated_wait_min=None,
                issued_at=now,
                local=True,
            )
        return self._printed(ticket, lang)

    def _printed(self, ticket: HallTicket, lang: str) -> HallTicket:
        try:
            self.print_ticket(ticket, lang)
        except DeviceError as err:
            log.warning("hall: ticket %s not printed: %s", ticket.number, err)
            return dataclasses.replace(ticket, printed=False)
        return ticket

    def read_id_number(self, timeout: float) -> str | None:
        """The ID number of a card placed on the reader within ``timeout`` s (None: no card, no reader)."""
        if self.card_reader is None:
            return None
        read = self.card_reader.read_card(timeout)
        return None if read is None else read.text.id_number

    def print_ticket(self, ticket: HallTicket, lang: str = "zh") -> ReceiptDoc:
        doc = build_hall_ticket(ticket, hall_name=self.hall_name, terminal_id=self.terminal_id, lang=lang)
        if self.printer is not None:
            self.printer.print_receipt(doc)
        return doc

    # ------------------------------------------------------------------ appointments

    def _platform(self) -> HallPlatform:
        if self.platform is None:
            raise HallUnavailable("no platform configured")
        return self.platform

    def appointments_by_qr(self, payload: str) -> list[Appointment]:
        code = appointment_code(payload)
        if code is None:
            return []
        try:
            return self._platform().appointments_by_code(code)
        except PlatformError as err:
            raise HallUnavailable(str(err)) from err

    def appointments_by_card(self, id_number: str) -> list[Appointment]:
        try:
            return self._platform().appointments_for(id_number)
        except PlatformError as err:
            raise HallUnavailable(str(err)) from err

    def check_in(self, appointment: Appointment, lang: str = "zh") -> HallTicket:
        """Check ``appointment`` in; the ticket the calling system gives it is printed."""
        try:
            answer = self._platform().check_in(appointment.appointment_id, str(uuid.uuid4()))
        except (PlatformError, ValueError) as err:
            raise HallUnavailable(str(err)) from err
        ticket = HallTicket.from_platform(answer.ticket, appointment=answer.appointment.slot)
        return self._printed(ticket, lang)

    def check_in_by_qr(self, payload: str, lang: str = "zh") -> HallTicket | None:
        """The booked appointment under the QR's code checked in (None when there is none)."""
        booked = [a for a in self.appointments_by_qr(payload) if a.status == "booked"]
        return self.check_in(booked[0], lang) if booked else None

    # ------------------------------------------------------------------ progress

    def progress_by_card(self, id_number: str) -> list[CaseProgress]:
        try:
            return self._platform().progress_for(id_number)
        except PlatformError as err:
            raise HallUnavailable(str(err)) from err

    def progress_by_qr(self, payload: str) -> list[CaseProgress]:
        """The case a receipt's QR names; its tag must verify on the platform
        (:class:`ReferenceUnverified` when it is missing or refused)."""
        ref = parse_receipt_qr(payload)
        if ref is None:
            return []
        if ref.tag is None:
            raise ReferenceUnverified(ref.case_ref)
        try:
            return self._platform().progress_by_ref(ref.case_ref, ref.tag)
        except PlatformRejected as err:
            if err.status == 403:
                raise ReferenceUnverified(ref.case_ref) from err
            raise HallUnavailable(str(err)) from err
        except PlatformError as err:
            raise HallUnavailable(str(err)) from err
