"""Serial barcode/QR scanner driver.

Scanners in serial (or USB-CDC) mode send each code as one line terminated by
CR or CR LF (some models: LF), UTF-8.  The driver is a line splitter composed
with a serial :class:`~devices.base.Transport` (the ID card reader's
:class:`devices.idcard.serial_transport.SerialTransport`).
"""

from __future__ import annotations

import logging
import time

from devices.base import DeviceNotFound, DeviceStatus, ProtocolError, Transport
from devices.idcard.serial_transport import SerialTransport

logger = logging.getLogger(__name__)
wire = logging.getLogger("devices.barcode.wire")

KIND = "barcode"
#: A code longer than this without a terminator is garbage (or a scanner in the wrong mode).
MAX_CODE_BYTES = 4096


class SerialBarcodeReader:
    """Implements :class:`devices.interfaces.BarcodeReader`.  Opens the port in the constructor."""

    kind = KIND

    def __init__(self, port: str, baudrate: int = 9600, *, transport: Transport | None = None) -> None:
        self.port = port
        self._transport: Transport = (
            transport if transport is not None else SerialTransport(port, baudrate, device=KIND)
        )
        self._buf = bytearray()
        self._online = False
        self._transport.open()
        self._online = True

    def status(self) -> DeviceStatus:
        """``READY`` while the port is there; ``OFFLINE`` once it went away."""
        if not self._online:
            return DeviceStatus.OFFLINE
        try:
            self._fill(0)
        except DeviceNotFound:
            return DeviceStatus.OFFLINE
        return DeviceStatus.READY

    def _fill(self, timeout: float) -> bool:
        try:
            chunk = self._transport.read(256, timeout)
        except DeviceNotFound:
            self._online = False
            raise
        if chunk:
            wire.debug("rx %d bytes", len(chunk))
            self._buf += chunk
        return bool(chunk)

    def _take_line(self) -> str | None:
        while True:
            ends = [i for i in (self._buf.find(b"\r"), self._buf.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buf) > MAX_CODE_BYTES:
                    self._buf.clear()
                    raise ProtocolError("scanner sent an over-long line without terminator", device=KIND)
                return None
            end = min(ends)
            raw = bytes(self._buf[:end])
            del self._buf[: end + 1]
            if not raw:
                continue  # the LF of a CR LF, or an empty scan
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise ProtocolError(f"scanned code is not UTF-8 ({len(raw)} bytes)", device=KIND) from err

    def read_code(self, timeout: float) -> str | None:
        """The next scanned code, ``None`` after ``timeout`` s.  Raises DeviceNotFound when unplugged."""
        if not self._online:
            raise DeviceNotFound(f"scanner on {self.port} is offline", device=KIND)
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            code = self._take_line()
            if code is not None:
                return code
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self._fill(remaining)

    def close(self) -> None:
        self._online = False
        self._transport.close()
