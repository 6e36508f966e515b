"""The staff-card applet: AID, commands, and a reference implementation.

Commands (short APDUs):

* ``00 A4 04 00 Lc <AID>``: SELECT by AID → ``90 00`` (``6A 82`` for another AID).
* ``80 CA 01 00 Le``: READ STAFF ID → ASCII staff id.  The card wants the exact
  Le: with another Le it answers ``6C xx`` (xx = the id length).
* ``00 88 00 00 Lc <challenge> 00``: INTERNAL AUTHENTICATE, challenge of 8..16
  bytes → ``61 20``, then ``00 C0 00 00 20`` (GET RESPONSE) gives
  HMAC-SHA256(card key, challenge).
* Before SELECT, READ/AUTHENTICATE answer ``69 85``; a wrong challenge length ``67 00``;
  other INS ``6D 00``; other CLA ``6E 00``.

Key handling: every card holds its own 32-byte key, personalised when the card is
issued; the terminal keeps the same key per staff id in its staff registry (a
JSON file readable only by the kiosk user; see :mod:`kiosk.maintenance.staff_card`).  Keys are
never logged, never sent to the platform and never written to the repository: tests
make fresh random keys.
"""

from __future__ import annotations

import hashlib
import hmac

from devices.smartcard.apdu import CommandApdu, ResponseApdu

#: Proprietary AID (RID F0 = not registered, for local use) + "STAFF".
STAFF_AID = bytes.fromhex("F000000001") + b"STAFF"
INS_SELECT = 0xA4
INS_READ_STAFF_ID = 0xCA
INS_INTERNAL_AUTHENTICATE = 0x88
INS_GET_RESPONSE = 0xC0
CLA_PROPRIETARY = 0x80
MAC_LENGTH = 32
CHALLENGE_MIN = 8
CHALLENGE_MAX = 16


def select_apdu() -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, 0x04, 0x00, STAFF_AID)


def read_staff_id_apdu() -> CommandApdu:
    return CommandApdu(CLA_PROPRIETARY, INS_READ_STAFF_ID, 0x01, 0x00, b"", 256)


def internal_authenticate_apdu(challenge: bytes) -> CommandApdu:
    return CommandApdu(0x00, INS_INTERNAL_AUTHENTICATE, 0x00, 0x00, challenge, 256)


def card_mac(key: bytes, challenge: bytes) -> bytes:
    return hmac.new(key, challenge, hashlib.sha256).digest()


def _sw(sw: int, data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data, sw >> 8, sw & 0xFF)


class StaffApplet:
    """The applet's behaviour, independent of any transport (the virtual card runs it)."""

    def __init__(self, staff_id: str, key: bytes) -> None:
        if not staff_id.isascii() or not 1 <= len(staff_id) <= 32:
            raise ValueError("staff id must be 1..32 ASCII characters")
        if len(key) < 16:
            raise ValueError("card key must be at least 16 bytes")
        self._staff_id = staff_id.encode("ascii")
        self._key = key
        self._selected = False
        self._pending = b""

    def reset(self) -> None:
        self._selected = False
        self._pending = b""

    def process(self, raw: bytes) -> bytes:
        try:
            apdu = CommandApdu.parse(raw)
        except ValueError:
            return _sw(0x6700).to_bytes()
        return self._dispatch(apdu).to_bytes()

    def _dispatch(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.cla not in (0x00, CLA_PROPRIETARY):
            return _sw(0x6E00)
        if apdu.ins == INS_GET_RESPONSE:
            return self._get_response(apdu)
        self._pending = b""
        if apdu.ins == INS_SELECT:
            if apdu.p1 != 0x04:
                return _sw(0x6A86)
            self._selected = apdu.data == STAFF_AID
            return _sw(0x9000) if self._selected else _sw(0x6A82)
        if apdu.ins == INS_READ_STAFF_ID and apdu.cla == CLA_PROPRIETARY:
            if not self._selected:
                return _sw(0x6985)
            if apdu.le != len(self._staff_id):
                return _sw(0x6C00 | len(self._staff_id))
            return _sw(0x9000, self._staff_id)
        if apdu.ins == INS_INTERNAL_AUTHENTICATE:
            if not self._selected:
                return _sw(0x6985)
            if not CHALLENGE_MIN <= len(apdu.data) <= CHALLENGE_MAX:
                return _sw(0x6700)
            self._pending = card_mac(self._key, apdu.data)
            return _sw(0x6100 | len(self._pending))
        return _sw(0x6D00)

    def _get_response(self, apdu: CommandApdu) -> ResponseApdu:
        if not self._pending:
            return _sw(0x6985)
        le = apdu.le or 256
        chunk, self._pending = self._pending[:le], self._pending[le:]
        if self._pending:
            return _sw(0x6100 | min(len(self._pending), 0xFF), chunk)
        return _sw(0x9000, chunk)
