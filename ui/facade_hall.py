"""The hall services' commands and view-models (:attr:`ui.facade.KioskFacade.hall`).

The welcome screen's hall panel (:mod:`ui.screens.hall`) calls these; the work runs off the GUI
thread and comes back as a signal carrying a view-model.  Hall services are outside a citizen's
session: a failure here is shown on the panel (``failed`` with an i18n key) and never resets the
session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from kiosk.cases.platform_hall import CaseProgress
from kiosk.hall import HallServices, HallTicket, HallUnavailable, ReferenceUnverified
from kiosk.hall.identity import HallHolder, IdentityRefused
from kiosk.hall.reprint import ReprintDoc, ReprintOutcome, ReprintUnavailable
from ui.worker import Background

log = logging.getLogger(__name__)

#: How long the panel waits for an ID card on the reader (s).
CARD_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class LineView:
    line_id: str
    name: tuple[str, str]  # zh, en


@dataclass(frozen=True)
class TicketView:
    number: str
    line_name: str
    windows: str
    people_waiting: int | None
    estimated_wait_min: int | None
    local: bool
    printed: bool
    appointment: str | None


@dataclass(frozen=True)
class ProgressView:
    case_ref: str
    item_name: str
    status: str  # received | in_review | approved | rejected | ready | collected
    next_step: str
    collect_at: str


@dataclass(frozen=True)
class DocumentView:
    index: int
    kind: str  # certificate | receipt
    title: str
    number: str


@dataclass(frozen=True)
class ReprintView:
    kind: str
    number: str
    printed: bool
    count: int | None  # the platform's count of reprints of this document; None: not recorded
    problem: str | None  # i18n key
    action: str | None  # the printer's required action
    queued: bool = False  # printed, the record queued for the platform (it was not reachable)


def reprint_view(outcome: ReprintOutcome) -> ReprintView:
    record = outcome.record
    return ReprintView(
        outcome.doc.kind,
        outcome.doc.number,
        outcome.printed,
        None if record is None else record.count,
        outcome.problem,
        outcome.action,
        outcome.queued,
    )


def ticket_view(ticket: HallTicket) -> TicketView:
    return TicketView(
        number=ticket.number,
        line_name=ticket.line_name,
        windows=ticket.windows,
        people_waiting=ticket.people_waiting,
        estimated_wait_min=ticket.estimated_wait_min,
        local=ticket.local,
        printed=ticket.printed,
        appointment=ticket.appointment,
    )


def progress_views(cases: list[CaseProgress]) -> tuple[ProgressView, ...]:
    return tuple(ProgressView(c.case_ref, c.item_name, c.status, c.next_step, c.collect_at) for c in cases)


class HallFacade(QObject):
    ticket = Signal(object)  # TicketView (a queue ticket, or the ticket of a check-in)
    noAppointment = Signal()  # nothing to check in under the QR code or the ID card
    progress = Signal(object)  # tuple[ProgressView, ...]
    documents = Signal(object)  # tuple[DocumentView, ...]: what the identified citizen can reprint
    reprinted = Signal(object)  # ReprintView
    failed = Signal(str)  # i18n key of why the service could not answer
    busy = Signal(bool)

    def __init__(self, services: HallServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.bg = Background(max_threads=1)
        # The identified citizen of the reprint page and their documents, until the page closes.
        self._holder: HallHolder | None = None
        self._docs: list[ReprintDoc] = []

    def lines(self) -> tuple[LineView, ...]:
        return tuple(LineView(line.line_id, (line.name_zh, line.name_en)) for line in self.services.lines)

    def _run(self, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.busy.emit(True)

        def ok(result: Any) -> None:
            self.busy.emit(False)
            done(result)

        def failed(err: BaseException) -> None:
            self.busy.emit(False)
            if isinstance(err, IdentityRefused):
                self.failed.emit(err.key)
                return
            if isinstance(err, ReferenceUnverified):
                self.failed.emit("hall.reference_unverified")
                return
            if not isinstance(err, HallUnavailable | ReprintUnavailable):
                log.error("hall service failed", exc_info=err)
            self.failed.emit("hall.unavailable")

        self.bg.run(fn, on_success=ok, on_failure=failed)

    def take_ticket(self, line_id: str, lang: str) -> None:
        self._run(lambda: ticket_view(self.services.take_ticket(line_id, lang)), self.ticket.emit)

    def _checked_in(self, ticket: HallTicket | None) -> None:
        if ticket is None:
            self.noAppointment.emit()
        else:
            self.ticket.emit(ticket_view(ticket))

    def check_in_by_qr(self, payload: str, lang: str) -> None:
        self._run(lambda: self.services.check_in_by_qr(payload, lang), self._checked_in)

    def check_in_by_card(self, lang: str) -> None:
        def work() -> HallTicket | None:
            id_number = self.services.read_id_number(CARD_TIMEOUT_S)
            if id_number is None:
                return None
            booked = [a for a in self.services.appointments_by_card(id_number) if a.status == "booked"]
            return self.services.check_in(booked[0], lang) if booked else None

        self._run(work, self._checked_in)

    def progress_by_qr(self, payload: str) -> None:
        self._run(lambda: progress_views(self.services.progress_by_qr(payload)), self.progress.emit)

    def _identify(self, service: str) -> HallHolder:
        identity = self.services.identity
        if identity is None:
            raise IdentityRefused("hall.identity.unavailable")
        holder = identity.identify(CARD_TIMEOUT_S, service)
        if holder is None:
            raise IdentityRefused("hall.identity.no_card")
        return holder

    def progress_by_card(self) -> None:
        """ID card + face check, then the holder's cases."""

        def work() -> tuple[ProgressView, ...]:
            holder = self._identify("progress")
            return progress_views(self.services.progress_by_card(holder.id_number))

        self._run(work, self.progress.emit)

    # ------------------------------------------------------------------ 证照打印/补打

    def start_reprint(self) -> None:
        """ID card + face check, then the documents the citizen can reprint (``documents``)."""
        self.forget()

        def work() -> tuple[HallHolder, list[ReprintDoc]]:
            reprints = self.services.reprints
            if reprints is None:
                raise ReprintUnavailable("no reprint service")
            holder = self._identify("reprint")
            return holder, reprints.documents(holder)

        def done(found: tuple[HallHolder, list[ReprintDoc]]) -> None:
            self._holder, self._docs = found
            self.documents.emit(
                tuple(DocumentView(i, d.kind, d.title, d.number) for i, d in enumerate(self._docs))
            )

        self._run(work, done)

    def reprint(self, index: int, lang: str) -> None:
        holder, reprints = self._holder, self.services.reprints
        if holder is None or reprints is None or not 0 <= index < len(self._docs):
            self.failed.emit("hall.identity.no_card")
            return
        doc = self._docs[index]
        self._run(lambda: reprint_view(reprints.reprint(holder, doc, lang)), self.reprinted.emit)

    def forget(self) -> None:
        """The reprint page closed: the identified citizen is forgotten."""
        self._holder, self._docs = None, []
