"""The social security card (社会保障卡) as an identity carrier: a citizen-facing PC/SC reader.

:class:`SscCardReader` waits for a card on its reader and reads its basic info
(:func:`devices.smartcard.ssc.read_basic_info`).  It polls by connecting (no card: the driver's
``NO_MEDIA`` error, i.e. nothing yet) instead of taking card events, so it never competes with
another watcher of the same PC/SC context; a card that is not a social security card (a bank card,
a staff card) is reported as :class:`NotSocialSecurityCardError` once per placement.  The reader is
its own device kind (``[devices.ssc_card]``, :mod:`devices.ssccard.kind`), apart from the staff card reader: a citizen's card on
the staff reader would count as a refused staff card.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from devices.base import DeviceError, DeviceStatus, MediaError
from devices.interfaces import SmartCardReaders
from devices.smartcard.ssc import SocialSecurityCardInfo, read_basic_info

log = logging.getLogger(__name__)

POLL_S = 0.2


class SscCardReader:
    """One citizen-facing PC/SC reader (``reader``: its name; ``None``: the first one listed)."""

    kind = "ssc_card"

    def __init__(self, open_readers: Callable[[], SmartCardReaders], reader: str | None) -> None:
        self._open = open_readers
        self.reader = reader
        self._readers: SmartCardReaders | None = None
        self._lock = threading.Lock()

    def _context(self) -> SmartCardReaders:
        with self._lock:
            if self._readers is None:
                self._readers = self._open()
            return self._readers

    def _name(self, readers: SmartCardReaders) -> str | None:
        if self.reader is not None:
            return self.reader
        listed: list[str] = getattr(readers, "readers", lambda: [])()
        return listed[0] if listed else None

    def status(self) -> DeviceStatus:
        try:
            return self._context().status()
        except DeviceError as err:
            return err.status

    def read_card(self, timeout: float) -> SocialSecurityCardInfo | None:
        """The basic info of the card placed within ``timeout`` s; ``None`` when none was.

        Raises :class:`~devices.smartcard.ssc.NotSocialSecurityCardError` for another card,
        :class:`~devices.smartcard.ssc.SscAccessDeniedError` for one this reader may not read,
        and the other ``DeviceError`` s of the driver."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            readers = self._context()
            name = self._name(readers)
            if name is not None:
                try:
                    conn = readers.connect(name)
                except MediaError:
                    conn = None  # no card yet
                if conn is not None:
                    try:
                        return read_basic_info(conn)
                    finally:
                        conn.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_S)

    def card_present(self) -> bool:
        readers = self._context()
        name = self._name(readers)
        if name is None:
            return False
        try:
            readers.connect(name).close()
        except MediaError:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            readers, self._readers = self._readers, None
        if readers is not None:
            readers.close()
