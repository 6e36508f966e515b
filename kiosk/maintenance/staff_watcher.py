"""The staff card watcher: a background thread on the staff card reader.

It waits for card events on the configured PC/SC reader (pcscd through pyscard in
production and tests; the demo's in-process reader speaks the same APDUs), checks an
inserted card with :class:`~kiosk.maintenance.staff_card.StaffCardAuthenticator` and hands a
verified card to :meth:`~kiosk.maintenance.service.MaintenanceService.card_verified`, which
asks for the PIN (the second factor).  Removing the card leaves maintenance mode (or drops a
PIN request); so does the idle timeout (checked on every turn of the loop).  A refused card
(not a staff card, unknown staff, wrong key) is audited and counted towards the lockout.
The staff registry is read for every card, so a revoked card is refused at once.
Reader or daemon failures are logged and retried; they never reach the GUI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from devices.base import DeviceError, DeviceStatus
from devices.smartcard.pcsc import CardEvent, CardEventKind, PcscCardConnection
from kiosk.maintenance.service import LeaveReason, MaintenanceService
from kiosk.maintenance.staff_card import StaffCardAuthenticator

log = logging.getLogger(__name__)

#: Seconds between attempts to reach pcscd / the reader after a failure.
RECONNECT_S = 2.0


class CardReaders(Protocol):
    """What the watcher needs of :class:`devices.smartcard.pcsc.PcscReaders`."""

    def status(self) -> DeviceStatus: ...

    def wait_for_event(self, timeout: float, reader: str | None = None) -> CardEvent | None: ...

    def connect(self, reader: str) -> PcscCardConnection: ...

    def close(self) -> None: ...


class StaffCardWatcher:
    def __init__(
        self,
        maintenance: MaintenanceService,
        readers: Callable[[], CardReaders],
        authenticator: Callable[[], StaffCardAuthenticator],
        *,
        reader: str | None,
        idle_timeout_s: float,
        poll_s: float = 0.5,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.maintenance = maintenance
        self._open_readers = readers
        self._authenticator = authenticator  # made per card: the registry is read each time
        self.reader = reader or None
        self.idle_timeout_s = idle_timeout_s
        self.poll_s = poll_s
        self._on_stop = on_stop  # what stops with the watcher (the staff registry's refresh)
        self._readers: CardReaders | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = DeviceStatus.OFFLINE
        maintenance.staff_reader_status = self.status

    def status(self) -> DeviceStatus:
        """The staff card reader as last seen by the watcher: READY with a card in it, NO_MEDIA
        without, OFFLINE when pcscd or the reader is gone."""
        return self._status

    def start(self) -> StaffCardWatcher:
        self._thread = threading.Thread(target=self._run, name="staff-card", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._on_stop is not None:
            self._on_stop()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        self._close_readers()

    def _close_readers(self) -> None:
        if self._readers is not None:
            try:
                self._readers.close()
            except Exception:
                log.exception("closing the staff card reader failed")
            self._readers = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.maintenance.check_idle(self.idle_timeout_s)
            except Exception:
                log.exception("maintenance idle check failed")
            try:
                if self._readers is None:
                    self._readers = self._open_readers()
                event = self._readers.wait_for_event(self.poll_s, self.reader)
                if event is not None:
                    present = event.kind is CardEventKind.INSERTED
                    self._status = DeviceStatus.READY if present else DeviceStatus.NO_MEDIA
                elif self._status is DeviceStatus.OFFLINE:
                    self._status = DeviceStatus.NO_MEDIA  # reachable, no card seen yet
            except DeviceError as err:
                if self._status is not DeviceStatus.OFFLINE:
                    log.warning("staff card reader unavailable: %s", err)
                self._status = DeviceStatus.OFFLINE
                self._close_readers()
                self._stop.wait(RECONNECT_S)
                continue
            if event is None:
                continue
            try:
                self._on_event(event)
            except Exception:  # one bad card must not stop the watcher
                log.exception("handling a staff card event failed")

    def _on_event(self, event: CardEvent) -> None:
        if event.kind is CardEventKind.REMOVED:
            if self.maintenance.active and self.maintenance.entered_by_card:
                self.maintenance.leave(LeaveReason.CARD_REMOVED)
            else:
                self.maintenance.cancel_pin()
            return
        if self.maintenance.active:
            return
        assert self._readers is not None
        try:
            with self._readers.connect(event.reader) as card:
                result = self._authenticator().authenticate(card)
        except DeviceError as err:
            log.warning("staff card could not be read: %s", err)
            return
        if result.ok and result.staff_id is not None:
            self.maintenance.card_verified(result, event.reader)
        else:
            self.maintenance.refused(result, event.reader)
