"""An in-process PC/SC reader for the demo profile (no pcscd there).

:class:`InProcessReaders` offers what :class:`~devices.smartcard.pcsc.PcscReaders`
offers (readers, status, card events, connect) for one simulated reader, and
:class:`InProcessCardConnection` is a :class:`~devices.smartcard.pcsc.PcscCardConnection`
whose raw exchange hands the APDU bytes to an applet in this process instead of
``SCardTransmit``.  Everything above the raw exchange is the pyscard driver's own
code (61xx GET RESPONSE chains, 6Cxx re-sends, status-word checks), so the staff
card is checked on the same code path as on a real reader; the applet is the same
one the vpcd virtual card runs (:class:`~devices.smartcard.piv_applet.PivApplet`).
"""

from __future__ import annotations

import logging
import threading
import time

from devices.base import DeviceError, DeviceStatus, MediaError, ProtocolError, RequiredAction
from devices.smartcard.apdu import KIND, CommandApdu, ResponseApdu
from devices.smartcard.pcsc import CardEvent, CardEventKind, PcscCardConnection
from devices.smartcard.vcard import DEFAULT_ATR, Applet

logger = logging.getLogger(__name__)
wire = logging.getLogger("devices.smartcard.wire")

DEFAULT_READER = "Simulated Staff Card Reader 00 00"


class InProcessReaders:
    """One simulated reader; a card is present between :meth:`insert` and :meth:`remove`."""

    kind = KIND

    def __init__(self, name: str = DEFAULT_READER) -> None:
        self.name = name
        self._cond = threading.Condition()
        self._applet: Applet | None = None
        self._atr = b""
        self._insertion = 0  # counts insertions: a connection belongs to one
        self._reported = False  # what wait_for_event last reported

    # ------------------------------------------------------------------ the card side (demo bench)
    def insert(self, applet: Applet, atr: bytes = DEFAULT_ATR) -> None:
        with self._cond:
            applet.reset()
            self._applet = applet
            self._atr = atr
            self._insertion += 1
            self._cond.notify_all()

    def remove(self) -> None:
        with self._cond:
            self._applet = None
            self._atr = b""
            self._cond.notify_all()

    def present(self) -> bool:
        with self._cond:
            return self._applet is not None

    # ------------------------------------------------------------------ the PcscReaders side
    def readers(self) -> list[str]:
        return [self.name]

    def status(self) -> DeviceStatus:
        return DeviceStatus.READY if self.present() else DeviceStatus.NO_MEDIA

    def wait_for_event(self, timeout: float, reader: str | None = None) -> CardEvent | None:
        """Like :meth:`PcscReaders.wait_for_event`: the first call reports a card already present."""
        if reader is not None and reader != self.name:
            raise DeviceError(f"unknown reader {reader!r}", device=KIND, status=DeviceStatus.OFFLINE)
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            while True:
                present = self._applet is not None
                if present != self._reported:
                    self._reported = present
                    kind = CardEventKind.INSERTED if present else CardEventKind.REMOVED
                    logger.info("card %s on %s", kind.value, self.name)
                    return CardEvent(kind, self.name, self._atr if present else b"")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def connect(self, reader: str) -> InProcessCardConnection:
        if reader != self.name:
            raise DeviceError(f"unknown reader {reader!r}", device=KIND, status=DeviceStatus.OFFLINE)
        with self._cond:
            if self._applet is None:
                raise MediaError(
                    f"no card in {reader!r}",
                    device=KIND,
                    action=RequiredAction.RETRY,
                    status=DeviceStatus.NO_MEDIA,
                )
            return InProcessCardConnection(self, self._insertion)

    def _exchange(self, insertion: int, raw: bytes) -> bytes:
        with self._cond:
            applet = self._applet
            if applet is None or insertion != self._insertion:
                raise MediaError(
                    "the card was removed",
                    device=KIND,
                    action=RequiredAction.RETRY,
                    status=DeviceStatus.NO_MEDIA,
                )
            return applet.process(raw)

    def _atr_of(self, insertion: int) -> bytes:
        with self._cond:
            if self._applet is None or insertion != self._insertion:
                raise MediaError("the card was removed", device=KIND, action=RequiredAction.RETRY)
            return self._atr

    def close(self) -> None:
        """Nothing to release (the PcscReaders interface)."""

    def __enter__(self) -> InProcessReaders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcessCardConnection(PcscCardConnection):
    """The pyscard connection with the raw exchange replaced by an in-process applet call."""

    def __init__(self, readers: InProcessReaders, insertion: int) -> None:  # no PC/SC context
        self.reader = readers.name
        self._readers = readers
        self._insertion = insertion
        self._open = True

    @property
    def atr(self) -> bytes:
        return self._readers._atr_of(self._insertion)

    def _raw(self, apdu: CommandApdu) -> ResponseApdu:
        if not self._open:
            raise DeviceError("card connection is closed", device=KIND, action=RequiredAction.RESET)
        raw = apdu.to_bytes()
        wire.debug("tx %s", raw[:5].hex())  # header only, as on the real reader
        try:
            resp = ResponseApdu.parse(self._readers._exchange(self._insertion, raw))
        except ValueError as err:
            raise ProtocolError(f"APDU {apdu.ins:02X}: {err}", device=KIND) from err
        wire.debug("rx %d bytes SW %04X", len(resp.data), resp.sw)
        return resp

    def close(self) -> None:
        self._open = False
