"""Staff card check for maintenance mode: a PIV card (NIST SP 800-73-4) issued by the hall.

On insertion the terminal SELECTs the PIV application, reads the CHUID and the certificate for PIV
Authentication (``5FC105``) and checks the certificate:

* issued (signature) by the hall's staff issuer CA, the one pinned on the terminal
  (kiosk/maintenance/staff_registry.py), and valid today;
* an ECC P-256 key (what the card signs with, key reference ``9A``);
* the staff id in it: the user principal name in the subject alternative name
  (``otherName`` 1.3.6.1.4.1.311.20.2.3, ``S0042@<hall>``: the part before ``@``), the field
  smart-card logon uses, so a card issued by an ordinary PIV card management system carries it;
* not revoked (its serial is not in the hall's registry's revoked list) and the staff id is in the
  hall's registry, which gives the role.

That identifies the card, but a certificate is public: a copy on another card proves nothing.  The
proof is the second step, after the staff member typed the PIN (:mod:`kiosk.maintenance.access`):
VERIFY sends the PIN to the card (the card counts the wrong ones and blocks itself), then GENERAL
AUTHENTICATE has the card sign a fresh 32-byte challenge with its 9A key, and the terminal checks
the ECDSA signature with the certificate's public key.  A cloned certificate without the key fails
there; a recorded answer does not replay (new challenge each time).  PINs and keys never reach the
terminal's disk or logs.
"""

from __future__ import annotations

import enum
import logging
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ObjectIdentifier

from devices.base import DeviceError, MediaError, RequiredAction
from devices.smartcard import piv
from devices.smartcard.apdu import CardStatusError, check
from devices.smartcard.pcsc import PcscCardConnection
from kiosk.i18n import tr

if TYPE_CHECKING:
    from kiosk.maintenance.staff_registry import HallStaffRegistry

logger = logging.getLogger(__name__)

UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
#: Status words meaning "this is not a staff card".
_NOT_STAFF_SW = frozenset({0x6A82, 0x6D00, 0x6E00, 0x6A81})


class StaffRegistryError(Exception):
    """The hall's staff registry is missing, malformed, unsigned or for another hall."""


class Role(enum.Enum):
    """What a staff member may do in maintenance mode (kiosk.maintenance.access.ROLE_FUNCTIONS)."""

    OPERATOR = "operator"  # hall staff: consumables, test print, sync, outbox and requeue
    TECHNICIAN = "technician"  # everything, logs included
    AUDITOR = "auditor"  # read only: diagnostics, outbox, logs


class PinCheck(enum.Enum):
    """What the card said to the PIN and the challenge."""

    OK = "ok"
    WRONG_PIN = "wrong_pin"
    BLOCKED = "blocked"  # the card's PIN retry counter is at zero
    PIN_REQUIRED = "pin_required"  # the card's key wants the PIN (asked for without one)
    AUTH_FAILED = "auth_failed"  # the signature does not verify: not the certificate's key
    CARD_REMOVED = "card_removed"
    CARD_ERROR = "card_error"


@dataclass(frozen=True)
class PinResult:
    check: PinCheck
    tries_left: int | None = None  # the card's PIN counter, when it said


@dataclass(frozen=True)
class StaffEntry:
    """A card that passed the certificate checks: the staff member's role and the card's second step
    (``pin_check(pin)``: VERIFY + GENERAL AUTHENTICATE on the card; ``None`` PIN: the challenge alone)."""

    role: Role = Role.TECHNICIAN
    pin_check: Callable[[str | None], PinResult] | None = field(default=None, repr=False, compare=False)
    serial: int = 0


class StaffCardRefusal(enum.Enum):
    """Why a card did not unlock maintenance mode.  Values are stable identifiers."""

    NOT_STAFF_CARD = "not_staff_card"  # another applet/card (e.g. a bank card)
    UNKNOWN_STAFF = "unknown_staff"  # staff id not (or no longer) in the hall's registry
    WRONG_ISSUER = "wrong_issuer"  # the certificate is not from the hall's pinned issuer CA
    REVOKED = "revoked"  # the certificate is revoked in the hall's registry, or expired
    NO_REGISTRY = "no_registry"  # the terminal has no verified staff registry yet (platform unreachable)
    AUTH_FAILED = "auth_failed"  # the card's signature does not verify: a cloned certificate
    CARD_REMOVED = "card_removed"
    CARD_ERROR = "card_error"  # the card answered an unexpected error
    PIN_NOT_PROVISIONED = "pin_not_provisioned"  # the card cannot take a PIN (no second step)
    WRONG_PIN = "wrong_pin"
    LOCKED_OUT = "locked_out"  # too many refusals, or the card blocked its PIN
    SESSION_IN_PROGRESS = "session_in_progress"  # a citizen is being served


@dataclass(frozen=True)
class StaffCardResult:
    staff_id: str | None
    refusal: StaffCardRefusal | None = None
    action: RequiredAction = RequiredAction.NONE
    entry: StaffEntry | None = field(default=None, repr=False)  # the registry entry of a verified card

    @property
    def ok(self) -> bool:
        return self.staff_id is not None and self.refusal is None

    @property
    def message_key(self) -> str:
        """The catalogue key of the message for the screen (kiosk/i18n.py)."""
        return "maint.staff_confirmed" if self.refusal is None else f"maint.refused.{self.refusal.value}"

    def message(self) -> tuple[str, str]:
        """(Chinese, English) text of :attr:`message_key`."""
        return (tr(self.message_key, "zh"), tr(self.message_key, "en"))


def _refused(
    refusal: StaffCardRefusal, action: RequiredAction = RequiredAction.RETRY, staff_id: str | None = None
) -> StaffCardResult:
    logger.info("staff card refused: %s", refusal.value)
    return StaffCardResult(staff_id, refusal, action)


def staff_id_from_certificate(cert: x509.Certificate) -> str | None:
    """The local part of the UPN in the subject alternative name (``S0042@hall`` → ``S0042``)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for name in san.get_values_for_type(x509.OtherName):
        if name.type_id != UPN_OID:
            continue
        raw = name.value  # DER: UTF8String (0C), short or 81/82 length
        try:
            fields = piv.parse_tlv(raw)
        except ValueError:
            return None
        if len(fields) != 1 or fields[0][0] != 0x0C:
            return None
        staff_id = fields[0][1].decode("utf-8", "replace").split("@", 1)[0]
        return (
            staff_id if staff_id.isascii() and 1 <= len(staff_id) <= 32 and staff_id.isprintable() else None
        )
    return None


def check_certificate(
    cert: x509.Certificate, ca: x509.Certificate, now: datetime
) -> tuple[str | None, StaffCardRefusal | None]:
    """(staff id, None) for a certificate the hall's CA issued and that is valid at ``now``."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return None, StaffCardRefusal.WRONG_ISSUER
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        return None, StaffCardRefusal.REVOKED
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        return None, StaffCardRefusal.NOT_STAFF_CARD
    staff_id = staff_id_from_certificate(cert)
    if staff_id is None:
        return None, StaffCardRefusal.NOT_STAFF_CARD
    return staff_id, None


Connect = Callable[[str], AbstractContextManager[PcscCardConnection]]


class StaffCardAuthenticator:
    """Reads and checks a card against the hall's registry (``None``: no registry yet, every card is
    refused).  ``connect(reader)`` opens the card again for the PIN step (the watcher's connection is
    closed by then)."""

    def __init__(
        self,
        registry: HallStaffRegistry | None,
        connect: Connect,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._connect = connect
        self._clock = clock

    def authenticate(self, card: PcscCardConnection) -> StaffCardResult:
        """Check the card in ``card``.  Reader/daemon failures propagate as DeviceError."""
        try:
            check(card.transmit(piv.select_apdu()), "SELECT PIV")
            chuid = card.transmit(piv.get_data_apdu(piv.TAG_CHUID))
            der = piv.cert_from_object(
                check(card.transmit(piv.get_data_apdu(piv.TAG_AUTH_CERT)), "GET DATA PIV Authentication")
            )
            cert = x509.load_der_x509_certificate(der)
        except CardStatusError as err:
            if err.sw in _NOT_STAFF_SW:
                return _refused(StaffCardRefusal.NOT_STAFF_CARD, RequiredAction.NONE)
            logger.warning("staff card error: %s", err)
            return _refused(StaffCardRefusal.CARD_ERROR, err.action)
        except ValueError:  # no or no readable certificate: a PIV card that is not a staff card
            return _refused(StaffCardRefusal.NOT_STAFF_CARD, RequiredAction.NONE)
        except MediaError:
            return _refused(StaffCardRefusal.CARD_REMOVED)
        except DeviceError as err:
            if err.action is RequiredAction.RETRY:
                logger.warning("staff card read failed: %s", err)
                return _refused(StaffCardRefusal.CARD_ERROR)
            raise
        registry = self._registry
        if registry is None:
            logger.error("staff card refused: no verified staff registry on this terminal")
            return _refused(StaffCardRefusal.NO_REGISTRY, RequiredAction.MAINTENANCE)
        staff_id, refusal = check_certificate(cert, registry.issuer_ca, self._clock())
        if refusal is not None or staff_id is None:
            return _refused(refusal or StaffCardRefusal.NOT_STAFF_CARD, RequiredAction.NONE)
        if registry.is_revoked(cert.serial_number):
            return _refused(StaffCardRefusal.REVOKED, RequiredAction.NONE, staff_id)
        role = registry.role_of(staff_id)
        if role is None:
            return _refused(StaffCardRefusal.UNKNOWN_STAFF, RequiredAction.NONE, staff_id)
        guid = piv.chuid_guid(chuid.data) if chuid.ok else None
        logger.info(
            "staff card read: %s (certificate %x, card %s)",
            staff_id,
            cert.serial_number,
            guid.hex() if guid else "-",
        )
        public_key = cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        pin_check = _CardProof(self._connect, card.reader, public_key)
        return StaffCardResult(staff_id, entry=StaffEntry(role, pin_check, cert.serial_number))


class _CardProof:
    """The second step on the card: VERIFY the PIN, then sign a fresh challenge with key 9A."""

    def __init__(self, connect: Connect, reader: str, public_key: ec.EllipticCurvePublicKey) -> None:
        self._connect = connect
        self._reader = reader
        self._public_key = public_key

    def __call__(self, pin: str | None) -> PinResult:
        if pin is not None and not piv.pin_ok(pin):
            return PinResult(PinCheck.WRONG_PIN)  # a PIV PIN is 6 to 8 digits: never sent to the card
        challenge = secrets.token_bytes(piv.CHALLENGE_BYTES)
        try:
            with self._connect(self._reader) as card:
                check(card.transmit(piv.select_apdu()), "SELECT PIV")
                if pin is not None:
                    resp = card.transmit(piv.verify_apdu(pin))
                    if resp.sw == piv.SW_PIN_BLOCKED:
                        return PinResult(PinCheck.BLOCKED, 0)
                    if resp.sw1 == 0x63 and resp.sw2 & 0xF0 == 0xC0:
                        left = resp.sw2 & 0x0F
                        return PinResult(PinCheck.BLOCKED if left == 0 else PinCheck.WRONG_PIN, left)
                    check(resp, "VERIFY")
                resp = card.transmit(piv.sign_apdu(challenge))
                if resp.sw == piv.SW_SECURITY_NOT_SATISFIED:
                    return PinResult(PinCheck.PIN_REQUIRED)
                signature = piv.signature_from(check(resp, "GENERAL AUTHENTICATE"))
                card.transmit(piv.logout_apdu())  # the card does not stay unlocked on the reader
        except MediaError:
            return PinResult(PinCheck.CARD_REMOVED)
        except ValueError:  # a malformed answer: not a card that holds the key
            return PinResult(PinCheck.AUTH_FAILED)
        except DeviceError as err:
            logger.warning("staff card PIN step failed: %s", err)
            return PinResult(PinCheck.CARD_ERROR)
        try:
            self._public_key.verify(signature, challenge, ec.ECDSA(Prehashed(hashes.SHA256())))
        except InvalidSignature:
            return PinResult(PinCheck.AUTH_FAILED)
        return PinResult(PinCheck.OK)
