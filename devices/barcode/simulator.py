"""A serial barcode scanner on a pty: the driver opens :attr:`port` as it would /dev/ttyACM0."""

from __future__ import annotations

import logging
import os
import tty

logger = logging.getLogger(__name__)


class BarcodeScannerSimulator:
    """``scan(text)`` writes one code as the scanner would; ``unplug()`` closes the pty."""

    def __init__(self, terminator: bytes = b"\r\n") -> None:
        self.terminator = terminator
        master, slave = os.openpty()
        tty.setraw(slave)
        self._master: int | None = master
        self._slave: int | None = slave
        self.port = os.ttyname(slave)

    def scan(self, text: str, *, terminator: bytes | None = None) -> None:
        if self._master is None:
            raise RuntimeError("scanner simulator is unplugged")
        data = text.encode("utf-8") + (self.terminator if terminator is None else terminator)
        os.write(self._master, data)

    def write_raw(self, data: bytes) -> None:
        """Bytes as they are (garbage, split codes) for fault tests."""
        if self._master is None:
            raise RuntimeError("scanner simulator is unplugged")
        os.write(self._master, data)

    def unplug(self) -> None:
        """Close both ends we hold: the driver's next read sees EIO / hang-up."""
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None
        logger.info("barcode scanner simulator unplugged")

    close = unplug

    def __enter__(self) -> BarcodeScannerSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._master is not None:
            self.unplug()
