"""Issuing staff PIV cards: the certificate from the hall's issuer CA, the card's personalisation.

:func:`personalise` talks PIV (devices/smartcard/piv.py) to a card on a PC/SC reader: authenticate
with the card's management key, have the card GENERATE its PIV Authentication key pair (9A, ECC
P-256: the private key never leaves the card), issue the certificate for the public key it returns,
PUT DATA the certificate and a CHUID, and set the PIN (CHANGE REFERENCE DATA from the factory PIN).

The certificate (what kiosk/maintenance/staff_card.py checks): subject ``CN=<staff id>,
O=<hall>``, the UPN ``<staff id>@<hall>`` in the subject alternative name (otherName
1.3.6.1.4.1.311.20.2.3), key usage digitalSignature, extended key usage clientAuth and smart-card
logon, valid ``days`` days.

:class:`StaffHall` is the demo's hall (issuer CA and registry in memory) for the simulated staff card.
"""

from __future__ import annotations

import datetime as dt
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from devices.smartcard import piv
from devices.smartcard.apdu import check
from devices.smartcard.pcsc import PcscCardConnection
from devices.smartcard.piv_applet import PivApplet, aes_block
from kiosk.maintenance.staff_card import UPN_OID, Role
from kiosk.maintenance.staff_registry import HallStaffRegistry

SMARTCARD_LOGON = ObjectIdentifier("1.3.6.1.4.1.311.20.2.2")
DEFAULT_DAYS = 3 * 365


def _utf8string(text: str) -> bytes:
    return piv.tlv(0x0C, text.encode("utf-8"))


def issue_certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    staff_id: str,
    hall: str,
    public_key: ec.EllipticCurvePublicKey,
    *,
    days: int = DEFAULT_DAYS,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, hall),
                    x509.NameAttribute(NameOID.COMMON_NAME, staff_id),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, SMARTCARD_LOGON]), critical=False
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.OtherName(UPN_OID, _utf8string(f"{staff_id}@{hall}"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def make_ca(hall: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed issuer CA (the demo's hall; a real hall's CA is the platform's)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{hall} staff card issuer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def personalise(
    card: PcscCardConnection,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    staff_id: str,
    hall: str,
    pin: str,
    *,
    management_key: bytes = piv.DEFAULT_MANAGEMENT_KEY,
    old_pin: str = piv.DEFAULT_PIN,
    days: int = DEFAULT_DAYS,
) -> x509.Certificate:
    """Write a staff credential to the PIV card in ``card``; returns the certificate issued.
    CardStatusError when the card refuses (wrong management key, wrong factory PIN, not PIV)."""
    if not piv.pin_ok(pin):
        raise ValueError(f"a PIV PIN is {piv.PIN_MIN_DIGITS} to {piv.PIN_MAX_DIGITS} digits")
    check(card.transmit(piv.select_apdu()), "SELECT PIV")
    answer = check(card.transmit(piv.management_challenge_apdu()), "management key challenge")
    challenge = piv.find_tlv(piv.find_tlv(answer, 0x7C) or b"", 0x81)
    if not challenge or len(challenge) != 16:
        raise ValueError("the card gave no management key challenge")
    check(card.transmit(piv.management_response_apdu(aes_block(management_key, challenge))), "management key")
    point = piv.ec_point_from_generate(check(card.transmit(piv.generate_apdu()), "GENERATE 9A"))
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    cert = issue_certificate(ca_key, ca_cert, staff_id, hall, public_key, days=days)
    for apdu in piv.put_data_apdus(piv.TAG_AUTH_CERT, piv.cert_object(cert.public_bytes(Encoding.DER))):
        check(card.transmit(apdu), "PUT DATA certificate")
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).strftime("%Y%m%d")
    for apdu in piv.put_data_apdus(piv.TAG_CHUID, piv.chuid_object(os.urandom(16), expiry)):
        check(card.transmit(apdu), "PUT DATA CHUID")
    if pin != old_pin:
        check(card.transmit(piv.change_pin_apdu(old_pin, pin)), "CHANGE REFERENCE DATA (PIN)")
    return cert


class StaffHall:
    """The demo hall: an issuer CA, staff id → role, revoked serials; makes simulated PIV cards."""

    def __init__(self, hall: str, staff: dict[str, Role]) -> None:
        self.hall = hall
        self.staff = dict(staff)
        self.revoked: set[int] = set()
        self.ca_key, self.ca_cert = make_ca(hall)
        self.sequence = 1

    def registry(self) -> HallStaffRegistry:
        return HallStaffRegistry(
            self.hall, self.sequence, "", self.ca_cert, dict(self.staff), frozenset(self.revoked)
        )

    def card(
        self, staff_id: str, *, pin: str | None = None, clone: bool = False, retries: int = 3
    ) -> PivApplet:
        """An issued card (``pin``: the card wants it; None: a demo card that signs without it;
        ``clone``: the certificate copied onto a card with another key)."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = issue_certificate(self.ca_key, self.ca_cert, staff_id, self.hall, key.public_key())
        holder = ec.generate_private_key(ec.SECP256R1()) if clone else key
        der = cert.public_bytes(Encoding.DER)
        if pin is None:
            return PivApplet.personalised(der, holder, pin_policy="never")
        return PivApplet.personalised(der, holder, pin=pin, retries=retries)
