"""TCP transport for network receipt printers (raw port 9100)."""

from __future__ import annotations

import logging
import socket

from devices.base import DeviceNotFound, DeviceStatus, DeviceTimeout

logger = logging.getLogger(__name__)
#: Raw traffic, lengths only: receipts carry personal data.
wire = logging.getLogger("devices.printer.wire")


class TcpTransport:
    """A byte pipe over one TCP connection.  Explicit ``open``/``close``; no lazy connect."""

    def __init__(
        self, host: str, port: int, timeout: float = 5.0, *, device: str = "receipt_printer"
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.device = device
        self._sock: socket.socket | None = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def open(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except TimeoutError as err:
            raise DeviceTimeout(
                f"no connection to {self.host}:{self.port} within {self.timeout} s", device=self.device
            ) from err
        except OSError as err:  # refused, unreachable, name not resolved
            raise DeviceNotFound(
                f"cannot connect to {self.host}:{self.port}: {err.strerror or err}",
                device=self.device,
                status=DeviceStatus.OFFLINE,
            ) from err
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        wire.debug("open %s:%d", self.host, self.port)

    def close(self) -> None:
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already reset by the peer; closing is all that is left
        sock.close()
        wire.debug("close %s:%d", self.host, self.port)

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise DeviceNotFound("transport is not open", device=self.device, status=DeviceStatus.OFFLINE)
        return self._sock

    def write(self, data: bytes) -> None:
        sock = self._require()
        sock.settimeout(self.timeout)
        try:
            sock.sendall(data)
        except TimeoutError as err:
            self.close()
            raise DeviceTimeout(f"printer did not take {len(data)} bytes", device=self.device) from err
        except OSError as err:  # reset, broken pipe
            self.close()
            raise DeviceNotFound(
                f"connection lost while sending: {err.strerror or err}",
                device=self.device,
                status=DeviceStatus.OFFLINE,
            ) from err
        wire.debug("tx %d bytes", len(data))

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes; ``b""`` when nothing came in ``timeout`` s.

        A connection closed or reset by the printer raises :class:`DeviceNotFound`."""
        sock = self._require()
        sock.settimeout(timeout)
        try:
            data = sock.recv(size)
        except TimeoutError:
            return b""
        except OSError as err:
            self.close()
            raise DeviceNotFound(
                f"connection lost while reading: {err.strerror or err}",
                device=self.device,
                status=DeviceStatus.OFFLINE,
            ) from err
        if not data:
            self.close()
            raise DeviceNotFound(
                "printer closed the connection", device=self.device, status=DeviceStatus.OFFLINE
            )
        wire.debug("rx %d bytes", len(data))
        return data
