"""Hall services of the platform API: the calling system's queue, appointments, case progress.

* ``POST /api/v1/queue/tickets``: a ticket for a business line from the hall's calling system
  (number, people waiting ahead, estimated wait).  ``Idempotency-Key`` (a UUID) is required: a
  retry with the same key and body answers the same ticket (200, ``Idempotent-Replayed``); the same
  key with another body is 422.
* ``GET /api/v1/appointments?code=…`` or ``?holder=…``: the appointments booked under an
  appointment code (the QR code on the citizen's phone) or for a citizen (holder token, as for the
  citizen lookups: ``HMAC-SHA256(lookup_key, ID number)``; the ID number never travels).
* ``POST /api/v1/appointments/{appointment_id}/check-in``: checks the appointment in and answers
  it with a ticket of its business line (idempotent like a ticket).
* ``GET /api/v1/progress?holder=…`` or ``?case_ref=…&tag=…``: the citizen's cases with their status,
  the next step and where to collect the result.  A lookup by case reference (the receipt's QR) must
  carry the QR's tag (:func:`receipt_tag`): a reference alone does not open a case's progress.

Per-terminal authorisation: a request's ``terminal_id`` must be the calling terminal's; an
idempotency key belongs to the terminal that used it first.  The sandbox seeds appointments and
cases for the demo citizens; ``/_sandbox/appointments`` and ``/_sandbox/progress`` add more.
"""

import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from sandbox_platform import auth
from sandbox_platform.citizens import HOLDER_PATTERN, CitizenRegistry
from sandbox_platform.db import canonical_json, open_sqlite

API = "/api/v1"
LINE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
CODE_PATTERN = r"^[A-Z0-9]{6,16}$"
TAG_PATTERN = r"^[0-9a-f]{20}$"
_ID_NUMBER = r"^[0-9]{17}[0-9Xx]$"

#: The hall's business lines: id -> (letter, name, windows, minutes per citizen).
BUSINESS_LINES: dict[str, tuple[str, str, str, int]] = {
    "civil_affairs": ("A", "民政 Civil affairs", "1-3号窗口", 6),
    "social_security": ("B", "社保 Social security", "4-7号窗口", 5),
    "market_registration": ("C", "市场登记 Market registration", "8-10号窗口", 12),
    "housing_fund": ("D", "公积金 Housing fund", "11-12号窗口", 8),
    "general": ("Z", "综合受理 General", "13-16号窗口", 7),
}

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS queue (
        line TEXT PRIMARY KEY, issued INTEGER NOT NULL, called INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS idempotent (
        key TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, request_sha256 TEXT NOT NULL,
        response TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS appointments (
        appointment_id TEXT PRIMARY KEY, code TEXT NOT NULL UNIQUE, holder TEXT NOT NULL,
        business_line TEXT NOT NULL, item_name TEXT NOT NULL, slot TEXT NOT NULL,
        status TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS progress (
        case_ref TEXT PRIMARY KEY, holder TEXT NOT NULL, body TEXT NOT NULL)""",
)


# --------------------------------------------------------------------------- models


class TicketRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    business_line: str = Field(pattern=LINE_PATTERN, description="The hall's business line id")


class Ticket(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=64)
    number: str = Field(min_length=1, max_length=16, description="The number the calling system calls")
    business_line: str = Field(pattern=LINE_PATTERN)
    business_line_name: str = Field(max_length=64)
    windows: str = Field(max_length=64, description="Where the line is served")
    people_waiting: int = Field(ge=0, description="Tickets ahead of this one")
    estimated_wait_min: int = Field(ge=0)
    issued_at: float


class Appointment(BaseModel):
    appointment_id: str = Field(min_length=1, max_length=64)
    code: str = Field(pattern=CODE_PATTERN)
    business_line: str = Field(pattern=LINE_PATTERN)
    item_name: str = Field(max_length=128)
    slot: str = Field(max_length=64, description="Booked time slot, local time, e.g. 2026-12-03 09:30-10:00")
    status: Literal["booked", "checked_in", "cancelled"]


class AppointmentList(BaseModel):
    appointments: list[Appointment] = Field(max_length=100)


class CheckInRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)


class CheckIn(BaseModel):
    appointment: Appointment
    ticket: Ticket


class CaseProgress(BaseModel):
    case_ref: str = Field(min_length=1, max_length=64, description="The receipt's case reference")
    item_name: str = Field(max_length=128)
    status: Literal["received", "in_review", "approved", "rejected", "ready", "collected"]
    next_step: str = Field(max_length=256)
    collect_at: str = Field(
        max_length=256, description="Where to collect the result; empty if nothing to collect"
    )
    updated_at: float


class ProgressList(BaseModel):
    cases: list[CaseProgress] = Field(max_length=100)


class AppointmentSeed(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER)
    code: str = Field(pattern=CODE_PATTERN)
    business_line: str = Field(pattern=LINE_PATTERN)
    item_name: str
    slot: str


class ProgressSeed(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER)
    case_ref: str = Field(min_length=1, max_length=64)
    item_name: str
    status: Literal["received", "in_review", "approved", "rejected", "ready", "collected"]
    next_step: str
    collect_at: str = ""


DEMO_APPOINTMENTS = (
    AppointmentSeed(
        id_number="37140219880721003X",
        code="YY7K3Q2M",
        business_line="market_registration",
        item_name="个体工商户变更登记 Change of sole-proprietor registration",
        slot="09:30-10:00",
    ),
    AppointmentSeed(
        id_number="371402195203140022",
        code="YY4H8T6P",
        business_line="civil_affairs",
        item_name="高龄津贴申领 Old-age allowance",
        slot="10:00-10:30",
    ),
)

DEMO_PROGRESS = (
    ProgressSeed(
        id_number="371402195203140022",
        case_ref="SBXD0000101",
        item_name="高龄津贴申领 Old-age allowance",
        status="in_review",
        next_step="民政部门审核中，约3个工作日 Under review by civil affairs, about 3 working days",
    ),
    ProgressSeed(
        id_number="371402195203140022",
        case_ref="SBXD0000102",
        item_name="老年人优待证补领 Senior card replacement",
        status="ready",
        next_step="证件已制作完成，请携带身份证领取 Ready: bring your ID card",
        collect_at="2号窗口（出件窗口） Window 2 (collection)",
    ),
    ProgressSeed(
        id_number="37140219880721003X",
        case_ref="SBXD0000103",
        item_name="居住证签注 Residence permit endorsement",
        status="approved",
        next_step="已办结，结果将邮寄 Done: the result is posted",
    ),
)


# --------------------------------------------------------------------------- store


class HallDesk:
    """The calling system, appointments and progress (the sandbox's own SQLite file)."""

    def __init__(
        self,
        path: Path,
        citizens: CitizenRegistry,
        cases: Callable[[str], dict[str, Any] | None] | None = None,
        *,
        seed: bool = True,
    ) -> None:
        self._conn = open_sqlite(path, _SCHEMA)
        self.citizens = citizens
        #: The platform's received cases by case id (a receipt's QR names its case).
        self.cases = cases
        self.lock = threading.RLock()
        if seed:
            for appointment in DEMO_APPOINTMENTS:
                self.add_appointment(appointment, replace=False)
            for case in DEMO_PROGRESS:
                self.add_progress(case, replace=False)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def issue(self, line: str, now: float) -> Ticket:
        letter, name, windows, minutes = BUSINESS_LINES[line]
        with self.lock:
            self._conn.execute("INSERT OR IGNORE INTO queue (line, issued, called) VALUES (?, 0, 0)", (line,))
            self._conn.execute("UPDATE queue SET issued = issued + 1 WHERE line = ?", (line,))
            issued, called = self._conn.execute(
                "SELECT issued, called FROM queue WHERE line = ?", (line,)
            ).fetchone()
        ahead = max(0, issued - called - 1)
        return Ticket(
            ticket_id=f"T-{uuid.uuid4().hex[:16]}",
            number=f"{letter}{issued:03d}",
            business_line=line,
            business_line_name=name,
            windows=windows,
            people_waiting=ahead,
            estimated_wait_min=ahead * minutes,
            issued_at=now,
        )

    def remembered(self, key: str, terminal: str, request_sha: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT terminal_id, request_sha256, response FROM idempotent WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        if row[0] != terminal or row[1] != request_sha:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "Idempotency-Key was already used with a different request",
            )
        answer: dict[str, Any] = json.loads(row[2])
        return answer

    def remember(self, key: str, terminal: str, request_sha: str, response: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO idempotent (key, terminal_id, request_sha256, response) VALUES (?, ?, ?, ?)",
            (key, terminal, request_sha, canonical_json(response)),
        )

    def add_appointment(self, seed: AppointmentSeed, *, replace: bool = True) -> Appointment:
        appointment = Appointment(
            appointment_id="AP-" + hashlib.sha256(seed.code.encode()).hexdigest()[:12],
            code=seed.code,
            business_line=seed.business_line,
            item_name=seed.item_name,
            slot=seed.slot,
            status="booked",
        )
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.lock:
            self._conn.execute(
                f"{verb} INTO appointments VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    appointment.appointment_id,
                    appointment.code,
                    self.citizens.holder(seed.id_number),
                    appointment.business_line,
                    appointment.item_name,
                    appointment.slot,
                    appointment.status,
                ),
            )
        return appointment

    def appointments(
        self, column: Literal["code", "holder", "appointment_id"], value: str
    ) -> list[Appointment]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT appointment_id, code, business_line, item_name, slot, status FROM appointments "
                f"WHERE {column} = ? ORDER BY slot",
                (value,),
            ).fetchall()
        return [
            Appointment(appointment_id=a, code=c, business_line=b, item_name=i, slot=s, status=st)
            for a, c, b, i, s, st in rows
        ]

    def mark_checked_in(self, appointment_id: str) -> None:
        self._conn.execute(
            "UPDATE appointments SET status = 'checked_in' WHERE appointment_id = ?", (appointment_id,)
        )

    def add_progress(self, seed: ProgressSeed, *, replace: bool = True) -> CaseProgress:
        case = CaseProgress(
            case_ref=seed.case_ref,
            item_name=seed.item_name,
            status=seed.status,
            next_step=seed.next_step,
            collect_at=seed.collect_at,
            updated_at=time.time(),
        )
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.lock:
            self._conn.execute(
                f"{verb} INTO progress (case_ref, holder, body) VALUES (?, ?, ?)",
                (case.case_ref, self.citizens.holder(seed.id_number), case.model_dump_json()),
            )
        return case

    def progress(self, column: Literal["holder", "case_ref"], value: str) -> list[CaseProgress]:
        with self.lock:
            rows = self._conn.execute(
                f"SELECT body FROM progress WHERE {column} = ? ORDER BY case_ref", (value,)
            ).fetchall()
        found = [CaseProgress.model_validate_json(r[0]) for r in rows]
        if not found and column == "case_ref" and self.cases is not None:
            received = self.cases(value)
            if received is not None:
                found = [_received_case(value, received)]
        return found


def _received_case(case_ref: str, case: dict[str, Any]) -> CaseProgress:
    """A case the terminal uploaded, as progress: received, then in review until decided."""
    state = str(case.get("status", "received"))
    status_: Any = (
        state if state in ("received", "approved", "rejected", "ready", "collected") else "in_review"
    )
    return CaseProgress(
        case_ref=case_ref,
        item_name=str(case.get("item_id", "")),
        status=status_,
        next_step="已受理，等待审核 Received: awaiting review" if status_ == "received" else "",
        collect_at="",
        updated_at=float(case.get("received_at", 0.0)),
    )


# --------------------------------------------------------------------------- routes

_IDEMPOTENT: dict[int | str, dict[str, Any]] = {
    200: {"description": "Replay: this key was seen before with the same body"},
    400: {"description": "Missing or invalid Idempotency-Key"},
    422: {"description": "Key reused with a different body, or an invalid body"},
}


def receipt_tag(key: bytes, case_ref: str) -> str:
    """The tag a receipt's QR carries beside its case reference: the first 80 bits (hex) of
    ``HMAC-SHA256(lookup_key, "receipt-ref/v1\n" + case_ref)``; the terminal makes it with the
    lookup key it got at enrolment, the platform checks it before answering a lookup by QR."""
    mac = hmac.new(key, b"receipt-ref/v1\n" + case_ref.encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:20]


def _sha(kind: str, body: BaseModel) -> str:
    return hashlib.sha256(canonical_json({kind: body.model_dump(mode="json")}).encode()).hexdigest()


def hall_router(desk: HallDesk, terminal: Any) -> APIRouter:
    """The hall services, authenticated by ``terminal`` (the app's signed-terminal dependency)."""
    router = APIRouter()
    Caller = Annotated[str, Depends(terminal)]
    IdemKey = Annotated[str | None, Header()]

    @router.post(
        f"{API}/queue/tickets",
        response_model=Ticket,
        status_code=status.HTTP_201_CREATED,
        responses={**_IDEMPOTENT, 404: {"description": "Unknown business line"}},
        tags=["hall"],
    )
    def issue_ticket(
        req: TicketRequest, caller: Caller, response: Response, idempotency_key: IdemKey = None
    ) -> Ticket:
        key = auth.idempotency_key(idempotency_key)
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal_id is not the caller's")
        if req.business_line not in BUSINESS_LINES:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no business line {req.business_line!r}")
        sha = _sha("ticket", req)
        with desk.lock:
            earlier = desk.remembered(key, caller, sha)
            if earlier is not None:
                auth.answer_replayed(response)
                return Ticket(**earlier)
            ticket = desk.issue(req.business_line, time.time())
            desk.remember(key, caller, sha, ticket.model_dump(mode="json"))
        return ticket

    @router.get(
        f"{API}/appointments",
        response_model=AppointmentList,
        responses={400: {"description": "Not exactly one of code and holder"}},
        tags=["hall"],
    )
    def find_appointments(
        caller: Caller,
        code: Annotated[str | None, Query(pattern=CODE_PATTERN, description="Appointment code")] = None,
        holder: Annotated[str | None, Query(pattern=HOLDER_PATTERN, description="Holder token")] = None,
    ) -> AppointmentList:
        if (code is None) == (holder is None):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "give exactly one of code and holder")
        found = desk.appointments("code", code) if code else desk.appointments("holder", str(holder))
        return AppointmentList(appointments=found)

    @router.post(
        f"{API}/appointments/{{appointment_id}}/check-in",
        response_model=CheckIn,
        status_code=status.HTTP_201_CREATED,
        responses={
            **_IDEMPOTENT,
            404: {"description": "No such appointment"},
            409: {"description": "The appointment was cancelled or checked in under another key"},
        },
        tags=["hall"],
    )
    def check_in(
        appointment_id: Annotated[str, PathParam(min_length=1, max_length=64)],
        req: CheckInRequest,
        caller: Caller,
        response: Response,
        idempotency_key: IdemKey = None,
    ) -> CheckIn:
        key = auth.idempotency_key(idempotency_key)
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal_id is not the caller's")
        sha = _sha(f"check-in {appointment_id}", req)
        with desk.lock:
            earlier = desk.remembered(key, caller, sha)
            if earlier is not None:
                auth.answer_replayed(response)
                return CheckIn(**earlier)
            found = desk.appointments("appointment_id", appointment_id)
            if not found:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such appointment")
            if found[0].status != "booked":
                raise HTTPException(status.HTTP_409_CONFLICT, f"the appointment is {found[0].status}")
            desk.mark_checked_in(appointment_id)
            ticket = desk.issue(found[0].business_line, time.time())
            answer = CheckIn(appointment=found[0].model_copy(update={"status": "checked_in"}), ticket=ticket)
            desk.remember(key, caller, sha, answer.model_dump(mode="json"))
        return answer

    @router.get(
        f"{API}/progress",
        response_model=ProgressList,
        responses={
            400: {"description": "Not exactly one of holder and case_ref, or a case_ref without its tag"},
            403: {"description": "The case reference's tag does not verify"},
        },
        tags=["hall"],
    )
    def progress(
        caller: Caller,
        holder: Annotated[str | None, Query(pattern=HOLDER_PATTERN, description="Holder token")] = None,
        case_ref: Annotated[
            str | None, Query(min_length=1, max_length=64, description="The receipt's case reference")
        ] = None,
        tag: Annotated[
            str | None,
            Query(pattern=TAG_PATTERN, description="The receipt QR's tag of case_ref (receipt_tag)"),
        ] = None,
    ) -> ProgressList:
        if (holder is None) == (case_ref is None):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "give exactly one of holder and case_ref")
        if case_ref is not None:
            if tag is None:
                raise HTTPException(status.HTTP_400_BAD_REQUEST, "a case reference needs its receipt tag")
            if not hmac.compare_digest(tag, receipt_tag(desk.citizens.lookup_key, case_ref)):
                raise HTTPException(status.HTTP_403_FORBIDDEN, "the receipt reference does not verify")
        found = desk.progress("holder", holder) if holder else desk.progress("case_ref", str(case_ref))
        return ProgressList(cases=found)

    # ---------------------------------------------------------------- test hooks

    @router.post("/_sandbox/appointments", response_model=Appointment, tags=["sandbox"])
    def add_appointment(seed: AppointmentSeed) -> Appointment:
        return desk.add_appointment(seed)

    @router.post("/_sandbox/progress", response_model=CaseProgress, tags=["sandbox"])
    def add_progress(seed: ProgressSeed) -> CaseProgress:
        return desk.add_progress(seed)

    return router
