"""The network ESC/POS receipt printer: codec + TCP transport, composed."""

from __future__ import annotations

import logging
import threading
import time

from devices.base import (
    DeviceError,
    DeviceNotFound,
    DeviceStatus,
    DeviceTimeout,
    MediaError,
    ProtocolError,
    RequiredAction,
    Transport,
)
from devices.interfaces import ReceiptDoc, ReceiptLine
from devices.printer.codec import (
    PRESENTER_PAPER,
    EscPosCodec,
    PrinterState,
    StatusKind,
    interpret_status,
    status_byte_valid,
    status_query,
)
from devices.printer.profiles import get_profile
from devices.printer.transport import TcpTransport

logger = logging.getLogger(__name__)

KIND = "receipt_printer"


class EscPosReceiptPrinter:
    """Implements :class:`devices.interfaces.ReceiptPrinter` for a raw-TCP ESC/POS printer.

    One connection per operation (status or job), so a printer that was power
    cycled between two citizens is picked up again without a reconnect dance.
    Before each job the real-time status is queried (``DLE EOT 1/2/4``); paper
    out refuses the job, paper near end prints and reports ``MEDIA_LOW``.
    After the job the status is queried again to catch paper running out
    mid-job.
    """

    kind = KIND

    def __init__(
        self,
        host: str,
        port: int,
        profile: str = "generic-80mm",
        timeout: float = 5.0,
        *,
        transport: Transport | None = None,
    ) -> None:
        self.profile = get_profile(profile)
        self.codec = EscPosCodec(self.profile)
        self.timeout = timeout
        self._transport: Transport = (
            transport if transport is not None else TcpTransport(host, port, timeout, device=KIND)
        )
        self._last_status = DeviceStatus.READY
        self._lock = threading.Lock()  # one operation (one connection) at a time
        self._pending: ReceiptDoc | None = None  # a job cut short (paper out, link lost), kept for reprint

    # ------------------------------------------------------------ status
    def _query(self, kind: StatusKind) -> int:
        self._transport.write(status_query(kind))
        answer = self._transport.read(1, self.timeout)
        if not answer:
            raise DeviceTimeout(f"no answer to status query {int(kind)}", device=KIND)
        value = answer[0]
        if not status_byte_valid(value):
            raise ProtocolError(f"bad status byte 0x{value:02x} for query {int(kind)}", device=KIND)
        return value

    def _read_state(self) -> PrinterState:
        """Query the printer on the open transport."""
        if not self.profile.supports_status:
            return PrinterState(DeviceStatus.READY, RequiredAction.NONE, "ok")
        printer = self._query(StatusKind.PRINTER)
        offline = self._query(StatusKind.OFFLINE_CAUSE)
        paper = self._query(StatusKind.PAPER_SENSOR)
        state = interpret_status(printer, offline, paper)
        self._last_status = state.status
        logger.debug("printer state %s (%s)", state.status.value, state.reason)
        return state

    def status(self) -> DeviceStatus:
        """The printer's status now; ``OFFLINE`` when it cannot be reached."""
        with self._lock:
            return self._status_locked()

    def _status_locked(self) -> DeviceStatus:
        try:
            self._transport.open()
            try:
                return self._read_state().status
            finally:
                self._transport.close()
        except DeviceNotFound:
            self._last_status = DeviceStatus.OFFLINE
            return DeviceStatus.OFFLINE
        except DeviceTimeout:
            self._last_status = DeviceStatus.OFFLINE
            return DeviceStatus.OFFLINE
        except ProtocolError:
            self._last_status = DeviceStatus.HARDWARE_ERROR
            return DeviceStatus.HARDWARE_ERROR

    @property
    def last_status(self) -> DeviceStatus:
        """The status seen at the end of the last operation (``MEDIA_LOW`` after a job on low paper)."""
        return self._last_status

    # ------------------------------------------------------------- print
    def print_receipt(self, doc: ReceiptDoc) -> None:
        """Print one receipt.  If it fails the job is kept: :meth:`reprint_last` after staff clear the fault."""
        data = self.codec.encode(doc)
        with self._lock:
            self._pending = doc
            try:
                self._print_locked(data)
            except (DeviceNotFound, DeviceTimeout):
                self._last_status = DeviceStatus.OFFLINE
                raise
            self._pending = None

    @property
    def pending_job(self) -> ReceiptDoc | None:
        """The receipt that did not print to the end (paper out mid-job, printer offline), if any."""
        return self._pending

    def reprint_last(self) -> bool:
        """Print the kept job again, marked 重打 / REPRINT at the top.  False when nothing is pending.

        The printer cannot say which lines made it onto the paper before it ran out, so
        the whole receipt is printed again; the marker tells the citizen and staff why."""
        doc = self._pending
        if doc is None:
            return False
        marked = ReceiptDoc(
            (ReceiptLine(kind="text", text="【重打 REPRINT】", bold=True, align="center"), *doc.lines)
        )
        data = self.codec.encode(marked)
        with self._lock:
            try:
                self._print_locked(data)
            except (DeviceNotFound, DeviceTimeout):
                self._last_status = DeviceStatus.OFFLINE
                raise
            self._pending = None
        logger.info("pending receipt reprinted")
        return True

    def receipt_in_exit(self) -> bool:
        """True while a printed receipt sits in the presenter (profile with ``presenter_sensor``)."""
        if not self.profile.presenter_sensor:
            raise NotImplementedError(f"profile {self.profile.name} has no presenter sensor")
        with self._lock:
            self._transport.open()
            try:
                return bool(self._query(StatusKind.PRESENTER) & PRESENTER_PAPER)
            finally:
                self._transport.close()

    def wait_taken(self, timeout: float, poll: float = 0.2) -> bool:
        """Wait until the citizen takes the receipt; False (and a warning) when not taken in ``timeout`` s.

        XFS calls the follow-up *retract*; this printer model has no retract motor, so the
        kiosk only records the event (the caller audits it) and staff collect the slip."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.receipt_in_exit():
                return True
            if time.monotonic() >= deadline:
                logger.warning("receipt not taken after %.0f s", timeout)
                return False
            time.sleep(poll)

    def _print_locked(self, data: bytes) -> None:
        self._transport.open()
        try:
            before = self._read_state()
            self._refuse_unless_usable(before, when="before the job")
            if before.status is DeviceStatus.MEDIA_LOW:
                logger.warning("receipt printer paper near end; printing anyway")
            self._transport.write(data)
            after = self._read_state()
            self._refuse_unless_usable(after, when="during the job")
            logger.info("receipt printed (%d bytes, status %s)", len(data), after.status.value)
        finally:
            self._transport.close()

    @staticmethod
    def _refuse_unless_usable(state: PrinterState, *, when: str) -> None:
        if state.status is DeviceStatus.NO_MEDIA:
            raise MediaError(
                f"receipt paper out {when}", device=KIND, action=state.action, status=DeviceStatus.NO_MEDIA
            )
        if state.status in (DeviceStatus.HARDWARE_ERROR, DeviceStatus.OFFLINE):
            raise DeviceError(
                f"printer not ready {when}: {state.reason}",
                device=KIND,
                action=state.action,
                status=state.status,
            )

    def close(self) -> None:
        with self._lock:
            self._transport.close()
