"""A PIV card application simulator (the subset in :mod:`devices.smartcard.piv`) for vpcd and the demo.

It answers the same APDUs as a real PIV card: SELECT, GET DATA (61xx pieces for long objects),
VERIFY with a retry counter (blocked at zero: ``69 83``), CHANGE REFERENCE DATA, GENERAL
AUTHENTICATE with the PIV Authentication key (9A, ECC P-256, PIN wanted first unless the card was
made with ``pin_policy="never"``) and with the management key (9B, AES-192), GENERATE ASYMMETRIC
KEY PAIR and PUT DATA with command chaining (both after the management key).  A blank card
(``PivApplet()``) is what the personalisation command writes to in the tests;
:meth:`PivApplet.personalised` makes an issued one directly.  Neither vsmartcard's ``vicc`` (its
PIV mode needs OpenSC's tooling and a Python 2 era code base) nor any PyPI package offers a PIV
card that can be personalised through these APDUs, hence this one.
"""

from __future__ import annotations

import os
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devices.smartcard import piv
from devices.smartcard.apdu import CommandApdu, ResponseApdu

DEFAULT_RETRIES = 3


def _sw(sw: int, data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data, sw >> 8, sw & 0xFF)


def aes_block(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


class PivApplet:
    """One PIV card.  Its state lives as long as the object (a card keeps its PIN counter)."""

    def __init__(
        self,
        *,
        pin: str = piv.DEFAULT_PIN,
        retries: int = DEFAULT_RETRIES,
        management_key: bytes = piv.DEFAULT_MANAGEMENT_KEY,
        pin_policy: Literal["once", "never"] = "once",
    ) -> None:
        self._pin = pin
        self.max_retries = retries
        self.retries_left = retries
        self._management_key = management_key
        self.pin_policy = pin_policy
        self.objects: dict[int, bytes] = {}
        self._key: ec.EllipticCurvePrivateKey | None = None
        self.reset()

    @classmethod
    def personalised(
        cls,
        cert_der: bytes,
        key: ec.EllipticCurvePrivateKey,
        *,
        pin: str = piv.DEFAULT_PIN,
        retries: int = DEFAULT_RETRIES,
        pin_policy: Literal["once", "never"] = "once",
    ) -> PivApplet:
        """An issued card: ``key`` in slot 9A, ``cert_der`` as its certificate, a CHUID."""
        card = cls(pin=pin, retries=retries, pin_policy=pin_policy)
        card._key = key
        card.objects[piv.TAG_AUTH_CERT] = piv.cert_object(cert_der)
        card.objects[piv.TAG_CHUID] = piv.chuid_object(os.urandom(16), "20991231")
        return card

    def reset(self) -> None:
        """Power-on or reset: security states cleared (the PIN counter is kept)."""
        self._selected = False
        self._pin_verified = False
        self._admin = False
        self._challenge = b""
        self._chain = b""
        self._out = b""

    def process(self, raw: bytes) -> bytes:
        try:
            apdu = CommandApdu.parse(raw)
        except ValueError:
            return _sw(0x6700).to_bytes()
        return self._dispatch(apdu).to_bytes()

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.cla & ~piv.CLA_CHAIN:
            return _sw(0x6E00)
        if apdu.ins == piv.INS_GET_RESPONSE:
            return self._answer(b"", apdu.le or 256)
        self._out = b""
        if apdu.cla & piv.CLA_CHAIN:
            if apdu.ins != piv.INS_PUT_DATA:
                return _sw(0x6884)  # chaining not supported for this command
            self._chain += apdu.data
            return _sw(0x9000)
        data, self._chain = self._chain + apdu.data, b""
        if apdu.ins == piv.INS_SELECT:
            return self._select(apdu)
        if not self._selected:
            return _sw(0x6D00)
        handler = {
            piv.INS_GET_DATA: self._get_data,
            piv.INS_VERIFY: self._verify,
            piv.INS_CHANGE_REFERENCE: self._change_pin,
            piv.INS_GENERAL_AUTHENTICATE: self._general_authenticate,
            piv.INS_GENERATE: self._generate,
            piv.INS_PUT_DATA: self._put_data,
        }.get(apdu.ins)
        if handler is None:
            return _sw(0x6D00)
        try:
            return handler(apdu, data)
        except ValueError:
            return _sw(0x6A80)

    def _answer(self, data: bytes, le: int) -> ResponseApdu:
        """Data in pieces of ``le`` bytes: 61xx says how much is left (GET RESPONSE fetches it)."""
        if data:
            self._out = data
        elif not self._out:
            return _sw(0x6985)
        chunk, self._out = self._out[:le], self._out[le:]
        if self._out:
            return _sw(0x6100 | min(len(self._out), 0xFF), chunk)
        return _sw(0x9000, chunk)

    # ------------------------------------------------------------------ commands
    def _select(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.p1 != 0x04:
            return _sw(0x6A86)
        # A partial AID (the PIX without version) selects too, as on real cards.
        if not apdu.data or not piv.PIV_AID.startswith(apdu.data):
            self._selected = False
            return _sw(0x6A82)
        self._selected = True
        template = piv.tlv(0x61, piv.tlv(0x4F, piv.PIV_AID[5:]) + piv.tlv(0x79, piv.tlv(0x4F, piv.PIV_AID)))
        return self._answer(template, apdu.le or 256)

    def _get_data(self, apdu: CommandApdu, data: bytes) -> ResponseApdu:
        tag = piv.find_tlv(data, 0x5C)
        if apdu.p1 != 0x3F or apdu.p2 != 0xFF or tag is None:
            return _sw(0x6A80)
        body = self.objects.get(int.from_bytes(tag, "big"))
        if body is None:
            return _sw(0x6A82)
        return self._answer(piv.tlv(0x53, body), apdu.le or 256)

    def _check_pin(self, pin: bytes) -> ResponseApdu:
        if self.retries_left == 0:
            return _sw(piv.SW_PIN_BLOCKED)
        if pin == piv.pad_pin(self._pin):
            self.retries_left = self.max_retries
            self._pin_verified = True
            return _sw(0x9000)
        self.retries_left -= 1
        self._pin_verified = False
        return _sw(0x63C0 | self.retries_left)

    def _verify(self, apdu: CommandApdu, data: bytes) -> ResponseApdu:
        if apdu.p2 != piv.PIN_REFERENCE:
            return _sw(0x6A88)
        if apdu.p1 == 0xFF:
            self._pin_verified = False
            return _sw(0x9000)
        if not data:
            if self.retries_left == 0:
                return _sw(piv.SW_PIN_BLOCKED)
            return _sw(0x9000) if self._pin_verified else _sw(0x63C0 | self.retries_left)
        if len(data) != 8:
            return _sw(0x6A80)
        return self._check_pin(data)

    def _change_pin(self, apdu: CommandApdu, data: bytes) -> ResponseApdu:
        if apdu.p2 != piv.PIN_REFERENCE:
            return _sw(0x6A88)
        if len(data) != 16:
            return _sw(0x6A80)
        answer = self._check_pin(data[:8])
        if not answer.ok:
            return answer
        new = data[8:].rstrip(b"\xff").decode("ascii", "replace")
        if not piv.pin_ok(new):
            return _sw(0x6A80)
        self._pin = new
        return answer

    def _general_authenticate(self, apdu: CommandApdu, data: bytes) -> ResponseApdu:
        template = piv.find_tlv(data, 0x7C)
        if template is None:
            return _sw(0x6A80)
        fields = dict(piv.parse_tlv(template))
        if apdu.p2 == piv.KEY_MANAGEMENT:
            if apdu.p1 != piv.ALG_AES192:
                return _sw(0x6A86)
            if 0x81 in fields and not fields[0x81]:
                self._challenge = os.urandom(16)
                return self._answer(piv.tlv(0x7C, piv.tlv(0x81, self._challenge)), apdu.le or 256)
            expected, self._challenge = self._challenge, b""
            if not expected or fields.get(0x82) != aes_block(self._management_key, expected):
                return _sw(piv.SW_SECURITY_NOT_SATISFIED)
            self._admin = True
            return _sw(0x9000)
        if apdu.p2 != piv.KEY_AUTH or apdu.p1 != piv.ALG_ECC_P256:
            return _sw(0x6A86)
        if self._key is None:
            return _sw(0x6A88)
        if self.pin_policy == "once" and not self._pin_verified:
            return _sw(piv.SW_SECURITY_NOT_SATISFIED)
        challenge = fields.get(0x81, b"")
        if len(challenge) != piv.CHALLENGE_BYTES:
            return _sw(0x6A80)
        signature = self._key.sign(challenge, ec.ECDSA(Prehashed(hashes.SHA256())))
        return self._answer(piv.tlv(0x7C, piv.tlv(0x82, signature)), apdu.le or 256)

    def _generate(self, apdu: CommandApdu, data: bytes) -> ResponseApdu:
        if not self._admin:
            return _sw(piv.SW_SECURITY_NOT_SATISFIED)
        control = piv.find_tlv(data, 0xAC)
        if (
            apdu.p2 != piv.KEY_AUTH
            or control is None
            or piv.find_tlv(control, 0x80) != bytes((piv.ALG_ECC_P256,))
        ):
            return _sw(0x6A80)
        self._key = ec.generate_private_key(ec.SECP256R1())
        point = self._key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return self._answer(piv.tlv(0x7F49, piv.tlv(0x86, point)), apdu.le or 256)

    def _put_data(self, apdu: CommandApdu, data: bytes) -> ResponseApdu:
        if not self._admin:
            return _sw(piv.SW_SECURITY_NOT_SATISFIED)
        tag = piv.find_tlv(data, 0x5C)
        body = piv.find_tlv(data, 0x53)
        if tag is None or body is None:
            return _sw(0x6A80)
        self.objects[int.from_bytes(tag, "big")] = body
        return _sw(0x9000)
