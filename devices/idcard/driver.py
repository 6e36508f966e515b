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
from collections.abc import Callable
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
from devices.idcard.serial_transport import SerialTransport
from devices.idcard.textblock import parse_text_block
from devices.interfaces import IdCardRead

logger = logging.getLogger(__name__)
wire_log = logging.getLogger("devices.idcard.wire")

_CHUNK = 2048
_T = TypeVar("_T")


def _describe(frame: ResponseFrame, command: Command) -> str:
    """A log line for a response: status and lengths only for anything that can hold card data."""
    head = f"SW={frame.sw1:02X} {frame.sw2:02X} {frame.sw3:02X}"
    if command is Command.READ_TEXT_PHOTO and frame.data:
        return f"{head} data=<{len(frame.data)} bytes redacted: text+photo>"
    return f"{head} data={frame.data.hex(' ')}" if frame.data else head


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
    ) -> None:
        self.port = port
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
        if not self._is_open:
            self._transport.open()
            self._is_open = True
            self._parser.reset()
        self._command(Command.SAM_STATUS)
        self._set(DeviceStatus.READY)

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
        so a reader that was unplugged is picked up again once it is back.
        """
        self._cancel.clear()
        with self._io_lock:
            return self._guarded(lambda: self._read_locked(timeout))

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

    def _read_locked(self, timeout: float) -> IdCardRead | None:
        deadline = time.monotonic() + timeout
        if not self._is_open:
            self._open_locked()
        while True:
            found = self._command(Command.FIND_CARD)
            if found.status.ok:
                break
            if found.status.outcome is not Outcome.NO_CARD:
                raise codec.error_for(found.status, Command.FIND_CARD)
            self._set(DeviceStatus.NO_MEDIA)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._cancel.wait(min(self.poll_interval, remaining)):
                return None
        self._set(DeviceStatus.BUSY)
        self._expect_ok(self._command(Command.SELECT_CARD), Command.SELECT_CARD)
        response = self._command(Command.READ_TEXT_PHOTO)
        self._expect_ok(response, Command.READ_TEXT_PHOTO)
        payload = codec.decode_read_payload(response.data)
        text = parse_text_block(payload.text)
        self._set(DeviceStatus.READY)
        return IdCardRead(text=text, photo_raw=payload.photo, read_at=dt.datetime.now().astimezone())

    @staticmethod
    def _expect_ok(response: ResponseFrame, command: Command) -> None:
        status = response.status
        if not status.ok:
            raise codec.error_for(status, command)

    # ------------------------------------------------------------------ wire
    def _command(self, command: Command) -> ResponseFrame:
        """Send ``command`` and return its response frame (any SW3).  Raises on wire failures."""
        self._drain()
        frame = codec.encode(command)
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
