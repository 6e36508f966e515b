"""``SerialIdCardReader``: the GA/T 467 codec composed with a transport.

``read_card`` polls find -> select -> read.  Failures come out as the
``DeviceError`` family with the required action:

* no card within ``timeout``  -> ``None`` (status ``NO_MEDIA``)
* card pulled / badly placed -> :class:`~devices.idcard.codec.CardError` (``RETRY``)
* garbled or truncated frame -> ``ProtocolError`` (``RETRY``)
* reader silent              -> ``DeviceTimeout`` (``RETRY``, status ``OFFLINE``)
* port gone                  -> ``DeviceNotFound`` (``MAINTENANCE``, status ``OFFLINE``)

One worker thread calls ``read_card``; ``status()`` and ``cancel()`` may be called
from any thread.  Raw frames go to the ``devices.idcard.wire`` logger at DEBUG with
card contents redacted.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from devices.base import (
    DeviceError,
    DeviceNotFound,
    DeviceStatus,
    DeviceTimeout,
    ProtocolError,
    RequiredAction,
    Transport,
)
from devices.idcard import codec
from devices.idcard.codec import Command, Outcome, ResponseFrame
from devices.idcard.discovery import find_reader
from devices.idcard.serial_transport import SerialTransport
from devices.idcard.textblock import parse_any_text_block
from devices.interfaces import IdCardRead

logger = logging.getLogger(__name__)
wire_log = logging.getLogger("devices.idcard.wire")

_CHUNK = 2048
_T = TypeVar("_T")


_PERSONAL = frozenset(
    {Command.READ_TEXT_PHOTO, Command.READ_TEXT_PHOTO_FINGERPRINT, Command.READ_APPENDED_ADDRESS}
)
#: SW3 codes after which a whole find/select/read sequence is tried once more (card authentication).
_AUTH_CODES = frozenset(
    {codec.SamCode.CARD_AUTH_SAM_FAILED, codec.SamCode.SAM_AUTH_CARD_FAILED, codec.SamCode.VERIFY_FAILED}
)
#: How often one command is re-sent after the SAM reported a garbled frame (SW3 10/11/21).
LINK_RETRIES = 2


def _describe(frame: ResponseFrame, command: Command) -> str:
    """A log line for a response: status and lengths only for anything that can hold card data."""
    head = f"SW={frame.sw1:02X} {frame.sw2:02X} {frame.sw3:02X}"
    if command in _PERSONAL and frame.data:
        return f"{head} data=<{len(frame.data)} bytes redacted: card contents>"
    return f"{head} data={frame.data.hex(' ')}" if frame.data else head


@dataclass(frozen=True)
class CardDetails:
    """A read with everything the card holds: text+photo, fingerprint data, appended address."""

    read: IdCardRead
    fingerprint: bytes = field(repr=False)  # empty when the card holds none
    appended_address: str | None = field(repr=False)  # None when the card has none

    def __repr__(self) -> str:
        return f"CardDetails({self.read!r}, fingerprint={len(self.fingerprint)} bytes)"


class SerialIdCardReader:
    """:class:`devices.interfaces.IdCardReader` for GA/T 467 readers on a serial port."""

    kind = "idcard"

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        transport: Transport | None = None,
        poll_interval: float = 0.2,
        *,
        response_timeout: float = 2.0,
        candidates: Callable[[], Iterable[str]] | None = None,
    ) -> None:
        """``candidates``: when given (and no ``transport``), a port that cannot be opened is
        looked for again among these paths with :func:`devices.idcard.discovery.find_reader`
        (e.g. ``discovery.default_candidates``): a reader re-enumerated under another /dev
        name is picked up by the next open/read."""
        self.port = port
        self.baudrate = baudrate
        self._candidates = candidates if transport is None else None
        self.poll_interval = poll_interval
        self.response_timeout = response_timeout
        self._transport: Transport = (
            transport if transport is not None else SerialTransport(port, baudrate, device=self.kind)
        )
        self._parser = codec.FrameParser(kind="response")
        self._is_open = False
        self._io_lock = threading.Lock()  # one command sequence at a time
        self._state_lock = threading.Lock()
        self._status = DeviceStatus.OFFLINE
        self._last_error: DeviceError | None = None
        self._cancel = threading.Event()

    # ------------------------------------------------------------------ state
    def status(self) -> DeviceStatus:
        with self._state_lock:
            return self._status

    @property
    def last_error(self) -> DeviceError | None:
        """The error of the last failed operation, cleared by the next success."""
        with self._state_lock:
            return self._last_error

    def _set(self, status: DeviceStatus, error: DeviceError | None = None) -> None:
        with self._state_lock:
            self._status, self._last_error = status, error

    # ------------------------------------------------------------------ lifecycle
    def open(self) -> None:
        """Open the port and ask the SAM for its status.  Raises ``DeviceError``."""
        with self._io_lock:
            self._guarded(self._open_locked)

    def _open_locked(self) -> None:
        try:
            self._open_and_check()
        except (DeviceNotFound, DeviceTimeout) as err:
            # gone, or its name now belongs to something silent: look for the reader elsewhere
            if self._candidates is None or not self._relocate():
                raise
            logger.info("retrying open after relocation (%s)", type(err).__name__)
            self._open_and_check()

    def _open_and_check(self) -> None:
        if not self._is_open:
            self._transport.open()
            self._is_open = True
            self._parser.reset()
        self._expect_ok(self._exchange(Command.SAM_STATUS), Command.SAM_STATUS)
        self._set(DeviceStatus.READY)

    def _relocate(self) -> bool:
        """Probe the candidate ports; switch to the first where a SAM answers."""
        assert self._candidates is not None
        self._close_locked()
        others = [p for p in self._candidates() if p != self.port]
        port = find_reader(others, self.baudrate, timeout=0.3)
        if port is None:
            return False
        logger.info("ID card reader moved from %s to %s", self.port, port)
        self.port = port
        self._transport = SerialTransport(port, self.baudrate, device=self.kind)
        return True

    def close(self) -> None:
        self._cancel.set()
        with self._io_lock:
            self._close_locked()
            self._set(DeviceStatus.OFFLINE)
        self._cancel.clear()

    def _close_locked(self) -> None:
        if self._is_open:
            self._is_open = False
            self._transport.close()

    def cancel(self) -> None:
        """Make a ``read_card`` waiting for a card return ``None`` at the next poll."""
        self._cancel.set()

    # ------------------------------------------------------------------ reading
    def read_card(self, timeout: float) -> IdCardRead | None:
        """Poll for a card for up to ``timeout`` s and read it (see the module doc for errors).

        ``timeout`` bounds the wait for a card; a read that has started runs to its end
        (each command is bounded by ``response_timeout``).  Opens the port if needed,
        so a reader that was unplugged is picked up again once it is back.  Resident and
        foreigner's permanent residence cards both come back (``read.text.kind`` tells which).
        """
        self._cancel.clear()
        with self._io_lock:
            return self._guarded(lambda: self._read_locked(timeout, Command.READ_TEXT_PHOTO)[0])

    def read_details(self, timeout: float) -> CardDetails | None:
        """Read text, photo and fingerprint data (30 10) and the appended address (30 03)."""
        self._cancel.clear()
        with self._io_lock:
            return self._guarded(lambda: self._details_locked(timeout))

    def _details_locked(self, timeout: float) -> CardDetails | None:
        read, fingerprint = self._read_locked(timeout, Command.READ_TEXT_PHOTO_FINGERPRINT)
        if read is None:
            return None
        response = self._exchange(Command.READ_APPENDED_ADDRESS)
        self._expect_ok(response, Command.READ_APPENDED_ADDRESS)
        address: str | None = None
        if response.sw3 != codec.SamCode.NO_CONTENT:
            address = codec.decode_appended_address(response.data) or None
        self._set(DeviceStatus.READY)
        return CardDetails(read=read, fingerprint=fingerprint, appended_address=address)

    def card_present(self) -> bool:
        """One find-card (20 01): whether a card lies on the reader.  Raises ``DeviceError``."""
        with self._io_lock:
            return self._guarded(self._present_locked)

    def _present_locked(self) -> bool:
        if not self._is_open:
            self._open_locked()
        found = self._exchange(Command.FIND_CARD)
        if found.status.ok:
            return True
        if found.status.outcome is Outcome.NO_CARD:
            self._set(DeviceStatus.NO_MEDIA)
            return False
        raise codec.error_for(found.status, Command.FIND_CARD)

    # ------------------------------------------------------------------ SAM management
    def reset_sam(self) -> None:
        """Reset the SAM (10 FF) and check its status afterwards.  Raises ``DeviceError``."""
        with self._io_lock:
            self._guarded(self._reset_locked)

    def _reset_locked(self) -> None:
        if not self._is_open:
            self._transport.open()
            self._is_open = True
        self._expect_ok(self._exchange(Command.RESET_SAM), Command.RESET_SAM)
        self._expect_ok(self._exchange(Command.SAM_STATUS), Command.SAM_STATUS)
        self._set(DeviceStatus.READY)

    def sam_id(self) -> str:
        """The SAM's id string (12 FF), e.g. ``05.01-20101117-0000123456-0000654321``."""
        with self._io_lock:
            return self._guarded(self._sam_id_locked)

    def _sam_id_locked(self) -> str:
        if not self._is_open:
            self._open_locked()
        response = self._exchange(Command.SAM_ID)
        self._expect_ok(response, Command.SAM_ID)
        return codec.format_sam_id(response.data)

    def set_baudrate(self, baudrate: int) -> None:
        """Switch the SAM (60 0x) and then the port to ``baudrate``.  Raises ``ValueError`` for
        a rate the SAM does not support, ``DeviceError`` when the SAM refuses."""
        frame = codec.encode_set_baud(baudrate)
        with self._io_lock:
            self._guarded(lambda: self._set_baud_locked(frame, baudrate))

    def _set_baud_locked(self, frame: bytes, baudrate: int) -> None:
        if not self._is_open:
            self._open_locked()
        self._expect_ok(self._exchange(Command.SET_BAUD, frame), Command.SET_BAUD)
        setter = getattr(self._transport, "set_baudrate", None)
        if setter is not None:
            setter(baudrate)
        self.baudrate = baudrate
        self._expect_ok(self._exchange(Command.SAM_STATUS), Command.SAM_STATUS)

    # ------------------------------------------------------------------ read sequence
    def _guarded(self, operation: Callable[[], _T]) -> _T:
        try:
            return operation()
        except DeviceNotFound as err:
            self._close_locked()
            self._set(DeviceStatus.OFFLINE, err)
            raise
        except DeviceError as err:
            self._set(err.status, err)
            raise

    def _read_locked(self, timeout: float, read_command: Command) -> tuple[IdCardRead | None, bytes]:
        deadline = time.monotonic() + timeout
        if not self._is_open:
            self._open_locked()
        for attempt in (1, 2):
            if not self._wait_for_card(deadline):
                return None, b""
            self._set(DeviceStatus.BUSY)
            try:
                return self._select_and_read(read_command)
            except codec.CardError as err:
                status = err.sam_status
                if status is None or status.code not in _AUTH_CODES:
                    raise
                if attempt == 2:
                    raise codec.SamFault(
                        f"{err.args[0]} (again after a retry)",
                        sam_status=status,
                        device=self.kind,
                        action=RequiredAction.RESET,
                        status=DeviceStatus.HARDWARE_ERROR,
                    ) from err
                logger.info("card authentication failed (SW3 0x%02x); retrying once", status.code)
        raise AssertionError("unreachable")

    def _wait_for_card(self, deadline: float) -> bool:
        while True:
            found = self._exchange(Command.FIND_CARD)
            if found.status.ok:
                return True
            if found.status.outcome is not Outcome.NO_CARD:
                raise codec.error_for(found.status, Command.FIND_CARD)
            self._set(DeviceStatus.NO_MEDIA)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._cancel.wait(min(self.poll_interval, remaining)):
                return False

    def _select_and_read(self, read_command: Command) -> tuple[IdCardRead, bytes]:
        self._expect_ok(self._exchange(Command.SELECT_CARD), Command.SELECT_CARD)
        response = self._exchange(read_command)
        self._expect_ok(response, read_command)
        if read_command is Command.READ_TEXT_PHOTO_FINGERPRINT:
            fp_payload = codec.decode_read_fp_payload(response.data)
            text_raw, photo, fingerprint = fp_payload.text, fp_payload.photo, fp_payload.fingerprint
        else:
            payload = codec.decode_read_payload(response.data)
            text_raw, photo, fingerprint = payload.text, payload.photo, b""
        text = parse_any_text_block(text_raw)
        now = dt.datetime.now().astimezone()
        self._set(DeviceStatus.READY)
        return IdCardRead(text=text, photo_raw=photo, read_at=now), fingerprint

    @staticmethod
    def _expect_ok(response: ResponseFrame, command: Command) -> None:
        status = response.status
        if not status.ok:
            raise codec.error_for(status, command)

    # ------------------------------------------------------------------ wire
    def _exchange(self, command: Command, frame: bytes | None = None) -> ResponseFrame:
        """:meth:`_command`, re-synchronised and re-sent when the SAM says it got a garbled
        frame (SW3 10/11/21), up to :data:`LINK_RETRIES` times; the last answer is returned."""
        for _ in range(LINK_RETRIES):
            response = self._command(command, frame)
            if response.status.outcome is not Outcome.LINK:
                return response
            wire_log.debug("%s: SAM reported SW3 0x%02x; resync and resend", command.value, response.sw3)
            self._resync()
        return self._command(command, frame)

    def _resync(self) -> None:
        """Let the line go quiet for a moment, then drop whatever arrived."""
        time.sleep(0.02)
        self._drain()

    def _command(self, command: Command, frame: bytes | None = None) -> ResponseFrame:
        """Send ``command`` and return its response frame (any SW3).  Raises on wire failures."""
        self._drain()
        frame = frame if frame is not None else codec.encode(command)
        wire_log.debug("tx %s: %s", command.value, frame.hex(" "))
        self._transport.write(frame)
        deadline = time.monotonic() + self.response_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                try:
                    self._parser.check_complete()
                except ProtocolError as err:
                    wire_log.debug("rx %s: %s", command.value, err)
                    raise ProtocolError(f"{command.value}: {err.args[0]}", device=self.kind) from err
                wire_log.debug("rx %s: no answer in %.2f s", command.value, self.response_timeout)
                raise DeviceTimeout(
                    f"{command.value}: no answer in {self.response_timeout:.1f} s",
                    device=self.kind,
                    action=RequiredAction.RETRY,
                )
            chunk = self._transport.read(_CHUNK, remaining)
            if not chunk:
                continue
            try:
                payloads = self._parser.feed(chunk)
            except ProtocolError as err:
                wire_log.debug("rx %s: %s", command.value, err)
                self._parser.reset()
                raise ProtocolError(f"{command.value}: {err.args[0]}", device=self.kind) from err
            if payloads:
                if len(payloads) > 1:
                    wire_log.debug("rx %s: %d extra frames dropped", command.value, len(payloads) - 1)
                response = codec.decode_response(payloads[0])
                wire_log.debug("rx %s: %s", command.value, _describe(response, command))
                self._parser.reset()
                return response

    def _drain(self) -> None:
        """Forget stale bytes (the tail of a truncated frame, late answers) before a command."""
        self._parser.reset()
        dropped = 0
        while True:
            stale = self._transport.read(_CHUNK, 0.0)
            if not stale:
                break
            dropped += len(stale)
        if dropped:
            wire_log.debug("dropped %d stale bytes", dropped)
