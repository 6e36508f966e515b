"""Client of the platform's hall services (contract: docs/platform-api/openapi.json, tag ``hall``).

The hall's calling system (queue tickets), appointments (lookup and check-in) and case progress.
The models mirror the contract's schemas of the same names (checked by
tests/kiosk/test_platform_models.py through :data:`HALL_MODELS`); every answer is validated through
them before a field is read.  Citizens are looked up by holder token (the ID number never leaves
the terminal in clear).  Tickets and check-ins carry an ``Idempotency-Key``: a retry after a lost
answer gets the same ticket, not a second number.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.cases.platform_transport import API

if TYPE_CHECKING:
    from kiosk.cases.platform_client import PlatformClient

LINE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
CODE_PATTERN = r"^[A-Z0-9]{6,16}$"
HOLDER_PATTERN = r"^[0-9a-f]{64}$"

ProgressStatus = Literal["received", "in_review", "approved", "rejected", "ready", "collected"]


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


class TicketRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    business_line: str = Field(pattern=LINE_PATTERN)


class Ticket(_Reply):
    ticket_id: str = Field(min_length=1, max_length=64)
    number: str = Field(min_length=1, max_length=16)
    business_line: str = Field(pattern=LINE_PATTERN)
    business_line_name: str = Field(max_length=64)
    windows: str = Field(max_length=64)
    people_waiting: int = Field(ge=0)
    estimated_wait_min: int = Field(ge=0)
    issued_at: float


class Appointment(_Reply):
    appointment_id: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=CODE_PATTERN)
    business_line: str = Field(pattern=LINE_PATTERN)
    item_name: str = Field(max_length=128)
    slot: str = Field(max_length=64)
    status: Literal["booked", "checked_in", "cancelled"]


class AppointmentList(_Reply):
    appointments: list[Appointment] = Field(max_length=100)


class CheckInRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)


class CheckIn(_Reply):
    appointment: Appointment
    ticket: Ticket


class CaseProgress(_Reply):
    case_ref: str = Field(min_length=1, max_length=64)
    item_name: str = Field(max_length=128)
    status: ProgressStatus
    next_step: str = Field(max_length=256)
    collect_at: str = Field(max_length=256)
    updated_at: float


class ProgressList(_Reply):
    cases: list[CaseProgress] = Field(max_length=100)


HALL_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        TicketRequest,
        Ticket,
        Appointment,
        AppointmentList,
        CheckInRequest,
        CheckIn,
        CaseProgress,
        ProgressList,
    )
}


class HallPlatform:
    """The hall-service operations over one :class:`PlatformClient`'s signed transport."""

    def __init__(self, client: PlatformClient) -> None:
        self.client = client

    def issue_ticket(self, business_line: str, idempotency_key: str) -> Ticket:
        """A ticket for ``business_line``; ``idempotency_key`` (a UUID) makes a retry safe."""
        body = TicketRequest(terminal_id=self.client.terminal_id, business_line=business_line)
        reply = self.client.transport.request(
            "POST",
            f"{API}/queue/tickets",
            json_body=body.model_dump(),
            headers={"Idempotency-Key": idempotency_key},
        )
        ticket = self.client.transport.parse(reply, Ticket, "queue ticket")
        if ticket.business_line != business_line:
            raise ValueError("the platform answered a ticket for another business line")
        return ticket

    def appointments_by_code(self, code: str) -> list[Appointment]:
        reply = self.client.transport.request(
            "GET", f"{API}/appointments?{urllib.parse.urlencode({'code': code})}"
        )
        found = self.client.transport.parse(reply, AppointmentList, "appointments").appointments
        return [a for a in found if a.code == code]

    def appointments_for(self, id_number: str) -> list[Appointment]:
        holder = self.client.holder_token(id_number)
        reply = self.client.transport.request(
            "GET", f"{API}/appointments?{urllib.parse.urlencode({'holder': holder})}"
        )
        return list(self.client.transport.parse(reply, AppointmentList, "appointments").appointments)

    def check_in(self, appointment_id: str, idempotency_key: str) -> CheckIn:
        body = CheckInRequest(terminal_id=self.client.terminal_id)
        reply = self.client.transport.request(
            "POST",
            f"{API}/appointments/{urllib.parse.quote(appointment_id, safe='')}/check-in",
            json_body=body.model_dump(),
            headers={"Idempotency-Key": idempotency_key},
        )
        answer = self.client.transport.parse(reply, CheckIn, "appointment check-in")
        if answer.appointment.appointment_id != appointment_id:
            raise ValueError("the platform checked in another appointment")
        return answer

    def progress_for(self, id_number: str) -> list[CaseProgress]:
        holder = self.client.holder_token(id_number)
        reply = self.client.transport.request(
            "GET", f"{API}/progress?{urllib.parse.urlencode({'holder': holder})}"
        )
        return list(self.client.transport.parse(reply, ProgressList, "case progress").cases)

    def progress_by_ref(self, case_ref: str, tag: str) -> list[CaseProgress]:
        """The case a receipt's QR names; ``tag`` is the QR's tag (kiosk/hall/reference.py)."""
        query = urllib.parse.urlencode({"case_ref": case_ref, "tag": tag})
        reply = self.client.transport.request("GET", f"{API}/progress?{query}")
        found = self.client.transport.parse(reply, ProgressList, "case progress").cases
        return [c for c in found if c.case_ref == case_ref]
