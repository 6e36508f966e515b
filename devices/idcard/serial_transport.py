"""A :class:`devices.base.Transport` over a serial port (pyserial): hardware or a pty.

Any failure of the port itself (missing at open, EIO because the other end of a pty
went away, a USB adapter unplugged) is reported as :class:`DeviceNotFound`.
"""

from __future__ import annotations

import logging
import termios
import threading
import time

import serial

from devices.base import DeviceNotFound

logger = logging.getLogger(__name__)

#: pyserial reconfigures the port whenever its timeout changes, so reads wait in fixed
#: slices of this length until the caller's timeout is used up.
_READ_SLICE = 0.05
_PORT_ERRORS = (serial.SerialException, OSError, termios.error)


class SerialTransport:
    """Byte pipe over ``port`` at ``baudrate`` 8N1.  Not shared between threads without a lock."""

    def __init__(self, port: str, baudrate: int = 115200, *, device: str = "serial") -> None:
        self.port = port
        self.baudrate = baudrate
        self._device = device
        self._serial: serial.Serial | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        with self._lock:
            if self._serial is not None:
                return
            try:
                self._serial = serial.Serial(
                    self.port, self.baudrate, timeout=_READ_SLICE, write_timeout=2.0, exclusive=True
                )
            except (*_PORT_ERRORS, ValueError) as err:
                raise DeviceNotFound(f"cannot open {self.port}: {err}", device=self._device) from err
            logger.debug("opened %s at %d baud", self.port, self.baudrate)

    def set_baudrate(self, baudrate: int) -> None:
        """Change the line speed of the open port (and of later opens)."""
        self.baudrate = baudrate
        ser = self._serial
        if ser is None:
            return
        try:
            ser.baudrate = baudrate
        except (*_PORT_ERRORS, ValueError) as err:
            raise self._lost(err) from err

    def close(self) -> None:
        with self._lock:
            ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except _PORT_ERRORS as err:
                logger.debug("closing %s failed: %s", self.port, err)

    def _port(self) -> serial.Serial:
        ser = self._serial
        if ser is None:
            raise DeviceNotFound(f"{self.port} is not open", device=self._device)
        return ser

    def _lost(self, err: Exception) -> DeviceNotFound:
        self.close()
        return DeviceNotFound(f"{self.port} is gone: {err}", device=self._device)

    def write(self, data: bytes) -> None:
        ser = self._port()
        try:
            ser.write(data)
            ser.flush()
        except _PORT_ERRORS as err:
            raise self._lost(err) from err

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes: waits at most ``timeout`` s for the first, then takes what is there."""
        ser = self._port()
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            if timeout <= 0:
                waiting = int(ser.in_waiting)
                return bytes(ser.read(min(waiting, size))) if waiting else b""
            while True:
                first = ser.read(1)
                if first or time.monotonic() >= deadline:
                    break
            if not first or size <= 1:
                return bytes(first)
            waiting = int(ser.in_waiting)
            rest = ser.read(min(waiting, size - 1)) if waiting else b""
        except _PORT_ERRORS as err:
            raise self._lost(err) from err
        return bytes(first) + bytes(rest)
