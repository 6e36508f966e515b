"""pyscard driver: readers, card inserted/removed events, ATR, APDU exchange.

Talks to pcscd through pyscard's low-level ``smartcard.scard`` API (one PC/SC
context per :class:`PcscReaders`).  Events come from polling
``SCardGetStatusChange`` with a timeout, so the caller's loop owns the thread
(no background observer threads).  pcsc-lite clients find the daemon's socket in
``/run/pcscd/pcscd.comm`` or at ``$PCSCLITE_CSOCK_NAME`` (read once per process).

Status-word handling in :meth:`PcscCardConnection.transmit`: ``61xx`` → GET RESPONSE
until the card has given everything; ``6Cxx`` → the command once more with Le = xx;
any other non-9000 status → :class:`~devices.smartcard.apdu.CardStatusError`.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from typing import Any

from smartcard import scard

from devices.base import (
    DeviceError,
    DeviceNotFound,
    DeviceStatus,
    MediaError,
    ProtocolError,
    RequiredAction,
)
from devices.smartcard.apdu import KIND, CommandApdu, ResponseApdu

logger = logging.getLogger(__name__)
wire = logging.getLogger("devices.smartcard.wire")

#: Bounds the GET RESPONSE chain (a card that keeps saying 61xx is broken).
MAX_GET_RESPONSE = 64

_NO_SERVICE = {scard.SCARD_E_NO_SERVICE, scard.SCARD_E_SERVICE_STOPPED, scard.SCARD_E_INVALID_HANDLE}
_NO_CARD = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_UNPOWERED_CARD,
}
_READER_GONE = {scard.SCARD_E_READER_UNAVAILABLE, scard.SCARD_E_UNKNOWN_READER}


def _error(hresult: int, what: str) -> DeviceError:
    """Map a PC/SC error code to a typed device error with its required action."""
    message = f"{what}: {scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"
    if hresult in _NO_SERVICE:
        return DeviceNotFound(message, device=KIND)
    if hresult in _NO_CARD:
        return MediaError(message, device=KIND, action=RequiredAction.RETRY, status=DeviceStatus.NO_MEDIA)
    if hresult in _READER_GONE or hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        return DeviceNotFound(message, device=KIND)
    if hresult == scard.SCARD_W_UNRESPONSIVE_CARD:
        return MediaError(message, device=KIND, action=RequiredAction.RETRY, status=DeviceStatus.USER_ERROR)
    if hresult in (scard.SCARD_W_RESET_CARD, scard.SCARD_E_SHARING_VIOLATION, scard.SCARD_E_TIMEOUT):
        return ProtocolError(message, device=KIND, action=RequiredAction.RETRY)
    return ProtocolError(message, device=KIND, action=RequiredAction.RESET)


class CardEventKind(enum.Enum):
    INSERTED = "inserted"
    REMOVED = "removed"


@dataclass(frozen=True)
class CardEvent:
    kind: CardEventKind
    reader: str
    atr: bytes  # empty for REMOVED


class PcscReaders:
    """A PC/SC context: list readers, wait for card events, connect to a card."""

    kind = KIND

    def __init__(self) -> None:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "cannot reach pcscd")
        self._context: Any = context
        self._present: dict[str, bool] = {}
        self._closed = False

    def readers(self) -> list[str]:
        """Reader names; empty when pcscd has none.  DeviceNotFound when pcscd is gone."""
        hresult, names = scard.SCardListReaders(self._context, [])
        if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "cannot list readers")
        return [str(n) for n in names]

    def status(self) -> DeviceStatus:
        """READY with a card in some reader, NO_MEDIA without, OFFLINE without readers/pcscd."""
        try:
            names = self.readers()
            if not names:
                return DeviceStatus.OFFLINE
            hresult, states = scard.SCardGetStatusChange(
                self._context, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names]
            )
        except DeviceError:
            return DeviceStatus.OFFLINE
        if hresult != scard.SCARD_S_SUCCESS:
            return DeviceStatus.OFFLINE
        if any(state & scard.SCARD_STATE_PRESENT for _, state, _atr in states):
            return DeviceStatus.READY
        return DeviceStatus.NO_MEDIA

    def wait_for_event(self, timeout: float, reader: str | None = None) -> CardEvent | None:
        """The next card inserted/removed event, or None after ``timeout`` s.

        The first call reports cards already present as INSERTED (what the kiosk needs
        after a restart).  ``reader`` restricts the watch to one reader.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            names = [reader] if reader is not None else self.readers()
            if not names:
                raise DeviceNotFound("no PC/SC reader", device=KIND)
            # Report a change we already know about (first call, or several readers at once).
            hresult, states = scard.SCardGetStatusChange(
                self._context, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names]
            )
            if hresult != scard.SCARD_S_SUCCESS:
                raise _error(hresult, "cannot read reader states")
            for name, state, atr in states:
                present = bool(state & scard.SCARD_STATE_PRESENT)
                if self._present.get(name, False) != present:
                    self._present[name] = present
                    kind = CardEventKind.INSERTED if present else CardEventKind.REMOVED
                    logger.info("card %s on %s", kind.value, name)
                    return CardEvent(kind, name, bytes(atr) if present else b"")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            current = [
                (n, scard.SCARD_STATE_PRESENT if self._present.get(n) else scard.SCARD_STATE_EMPTY)
                for n in names
            ]
            hresult, _ = scard.SCardGetStatusChange(self._context, max(1, int(remaining * 1000)), current)
            if hresult == scard.SCARD_E_TIMEOUT:
                return None
            if hresult != scard.SCARD_S_SUCCESS:
                raise _error(hresult, "waiting for a card")

    def connect(self, reader: str) -> PcscCardConnection:
        return PcscCardConnection(self._context, reader)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            scard.SCardReleaseContext(self._context)

    def __enter__(self) -> PcscReaders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PcscCardConnection:
    """A connection to the card in one reader (shared mode, T=0 or T=1)."""

    def __init__(self, context: Any, reader: str) -> None:
        self.reader = reader
        hresult, card, protocol = scard.SCardConnect(
            context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, f"cannot connect to the card in {reader!r}")
        self._card: Any = card
        self._protocol: int = protocol
        self._open = True

    @property
    def atr(self) -> bytes:
        hresult, _reader, _state, _protocol, atr = scard.SCardStatus(self._card)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "cannot read the ATR")
        return bytes(atr)

    def _raw(self, apdu: CommandApdu) -> ResponseApdu:
        if not self._open:
            raise DeviceError("card connection is closed", device=KIND, action=RequiredAction.RESET)
        raw = apdu.to_bytes()
        wire.debug("tx %s", raw[:5].hex())  # header only: data may be personal
        hresult, response = scard.SCardTransmit(self._card, self._protocol, list(raw))
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, f"APDU {apdu.ins:02X} failed")
        try:
            resp = ResponseApdu.parse(bytes(response))
        except ValueError as err:
            raise ProtocolError(f"APDU {apdu.ins:02X}: {err}", device=KIND) from err
        wire.debug("rx %d bytes SW %04X", len(resp.data), resp.sw)
        return resp

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        """Send one command; resolves 61xx (GET RESPONSE) and 6Cxx (re-send with Le).

        Returns the final response whatever its status word; use
        :func:`devices.smartcard.apdu.check` to turn errors into exceptions.
        """
        resp = self._raw(apdu)
        if resp.sw1 == 0x6C:
            resp = self._raw(apdu.with_le(resp.sw2 or 256))
        data = bytearray(resp.data)
        rounds = 0
        while resp.sw1 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE:
                raise ProtocolError("card keeps answering 61xx", device=KIND)
            resp = self._raw(CommandApdu(0x00, 0xC0, 0x00, 0x00, b"", resp.sw2 or 256))
            data += resp.data
        return ResponseApdu(bytes(data), resp.sw1, resp.sw2)

    def close(self) -> None:
        if self._open:
            self._open = False
            hresult = scard.SCardDisconnect(self._card, scard.SCARD_LEAVE_CARD)
            if hresult not in (scard.SCARD_S_SUCCESS, *_NO_CARD, *_READER_GONE, *_NO_SERVICE):
                logger.warning("disconnect: %s", scard.SCardGetErrorMessage(hresult))

    def __enter__(self) -> PcscCardConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
