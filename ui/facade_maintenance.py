"""Maintenance mode's part of the one facade (:attr:`ui.facade.KioskFacade.maintenance`).

Every call into :class:`~kiosk.maintenance.service.MaintenanceService` blocks (devices, network,
disk, SQLite) and runs on the facade's background pool; results come back on the GUI thread as
signals carrying the service's frozen report values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from kiosk.maintenance.service import Diagnostics, LeaveReason, MaintenanceService
from kiosk.update.report import store_from, update_view

if TYPE_CHECKING:
    from ui.facade import KioskFacade

log = logging.getLogger(__name__)


class MaintenanceFacade(QObject):
    """Maintenance calls on the background pool; results as signals on the GUI thread."""

    diagnostics = Signal(object)  # Diagnostics
    consumables = Signal(object)  # Consumables
    printed = Signal(object)  # TestPrintResult
    synced = Signal(object)  # dict[str, str]
    outbox = Signal(object)  # OutboxView
    logs = Signal(object)  # LogTail
    failed = Signal(str)  # error text for the screen
    refused = Signal(str)  # StaffCardRefusal value: a card on the staff reader did not unlock
    pin_required = Signal(object)  # StaffPinRequired: a verified staff card waits for its PIN
    pin_result = Signal(object)  # PinOutcome of a submitted PIN

    def __init__(self, facade: KioskFacade, service: MaintenanceService) -> None:
        super().__init__(facade)
        self.facade = facade
        self.service = service

    def _run(self, fn: Callable[[], Any], done: Any) -> None:
        self.facade.bg.run(fn, on_success=done.emit, on_failure=self._failed)

    def _failed(self, err: BaseException) -> None:
        log.error("maintenance action failed", exc_info=err)
        self.failed.emit(f"{type(err).__name__}: {err}")

    def refresh_diagnostics(self) -> None:
        self._run(self._diagnostics, self.diagnostics)

    def _diagnostics(self) -> Diagnostics:
        """The service's diagnostics plus the app's updates (kiosk/update/: what runs, what is
        available, how the last update ended)."""
        try:
            update = update_view(store_from())
        except Exception:  # an unreadable update state never hides the diagnostics
            log.exception("reading the update state failed")
            update = None
        return replace(self.service.diagnostics(), update=update)

    def refresh_consumables(self) -> None:
        self._run(self.service.consumables, self.consumables)

    def test_print(self) -> None:
        self._run(self.service.test_print, self.printed)

    def sync_now(self) -> None:
        self._run(self.service.sync_now, self.synced)

    def refresh_outbox(self) -> None:
        self._run(self.service.outbox, self.outbox)

    def requeue(self, case_id: str) -> None:
        self._run(lambda: (self.service.requeue(case_id), self.service.outbox())[1], self.outbox)

    def requeue_all(self) -> None:
        self._run(lambda: (self.service.requeue_all(), self.service.outbox())[1], self.outbox)

    def refresh_logs(self) -> None:
        self._run(self.service.logs, self.logs)

    def submit_pin(self, pin: str) -> None:
        """The second factor, checked on the pool (scrypt); the outcome comes back as ``pin_result``."""
        self._run(lambda: self.service.submit_pin(pin), self.pin_result)

    def cancel_pin(self) -> None:
        self.facade.bg.run(self.service.cancel_pin, on_failure=self._failed)

    def leave(self) -> None:
        self.facade.bg.run(lambda: self.service.leave(LeaveReason.STAFF), on_failure=self._failed)

    @property
    def staff_id(self) -> str | None:
        return self.service.staff_id
