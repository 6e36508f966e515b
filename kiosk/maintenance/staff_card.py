"""Staff card check for maintenance mode: SELECT, READ STAFF ID, challenge-response.

The terminal sends a fresh random 16-byte challenge; the card answers
HMAC-SHA256(card key, challenge); the terminal recomputes it with the key its
staff registry holds for the staff id the card claims and compares in constant time.
A copied staff id without the key therefore does not unlock anything, and a
recorded answer does not replay (new challenge each time).

Key handling: the registry is a JSON file on the terminal, owned by the kiosk user with mode
0600 (loading refuses a file readable by group/others)::

    {"version": 2, "staff": {"<staff id>": {"key": "<64 hex digits>",
                                            "pin": "scrypt$16384$8$1$<salt hex>$<hash hex>",
                                            "role": "operator" | "technician" | "auditor"}}}

It is provisioned with the cards (``python -m terminal.staff_provision``), never comes from the
platform and never enters the repository; keys and PINs are never logged.  Revoking a card =
removing its entry.  The card is one factor; the PIN (scrypt-hashed, per staff id) is the second
(seed 001 §9.3.3): :mod:`kiosk.maintenance.access` asks for it, counts refusals and locks out.
A version 1 file (card keys only) still loads, but its entries have no PIN and therefore unlock
nothing outside the demo profile.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devices.base import DeviceError, MediaError, RequiredAction
from devices.smartcard.apdu import CardStatusError, check
from devices.smartcard.pcsc import PcscCardConnection
from devices.smartcard.staff_applet import (
    MAC_LENGTH,
    card_mac,
    internal_authenticate_apdu,
    read_staff_id_apdu,
    select_apdu,
)
from kiosk.i18n import tr

logger = logging.getLogger(__name__)

CHALLENGE_BYTES = 16
KEY_MIN_BYTES = 16
#: PINs: 6 to 12 digits, hashed with scrypt (~16 MiB, tens of ms: slow for a stolen registry).
PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 1 << 14, 8, 1
#: Status words meaning "this is not a staff card".
_NOT_STAFF_SW = frozenset({0x6A82, 0x6D00, 0x6E00, 0x6A81})


class StaffRegistryError(Exception):
    """The staff registry file is missing, malformed or too widely readable."""


class Role(enum.Enum):
    """What a staff member may do in maintenance mode (kiosk.maintenance.access.ROLE_FUNCTIONS)."""

    OPERATOR = "operator"  # hall staff: consumables, test print, sync, outbox and requeue
    TECHNICIAN = "technician"  # everything, logs included
    AUDITOR = "auditor"  # read only: diagnostics, outbox, logs


def pin_ok(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$<salt hex>$<hash hex>`` of a PIN of 6 to 12 digits."""
    if not pin_ok(pin):
        raise StaffRegistryError(f"a PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(pin.encode("ascii"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def _parse_pin_hash(value: str) -> tuple[int, int, int, bytes, bytes]:
    parts = value.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        raise StaffRegistryError("PIN hash is not scrypt$N$r$p$salt$hash")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = bytes.fromhex(parts[4]), bytes.fromhex(parts[5])
    except ValueError as err:
        raise StaffRegistryError("PIN hash has a malformed field") from err
    # Bounded cost: a registry cannot make one check take gigabytes or minutes.
    if not (1 << 10 <= n <= 1 << 17 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4):
        raise StaffRegistryError("PIN hash parameters out of range")
    if len(salt) < 8 or len(digest) != 32:
        raise StaffRegistryError("PIN hash salt or digest has the wrong length")
    return n, r, p, salt, digest


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Constant-time check of ``pin`` against a hash from :func:`hash_pin`."""
    n, r, p, salt, digest = _parse_pin_hash(pin_hash)
    if not pin_ok(pin):
        return False
    candidate = hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * r * n * p
    )
    return hmac.compare_digest(candidate, digest)


@dataclass(frozen=True)
class StaffEntry:
    key: bytes = field(repr=False)
    pin_hash: str | None = field(default=None, repr=False)  # None: not provisioned, unlocks nothing
    role: Role = Role.TECHNICIAN


class StaffRegistry:
    """Staff id → :class:`StaffEntry` (a bare key is an entry without PIN, the version 1 form)."""

    def __init__(self, entries: Mapping[str, StaffEntry | bytes]) -> None:
        self.entries: dict[str, StaffEntry] = {
            str(k): v if isinstance(v, StaffEntry) else StaffEntry(bytes(v)) for k, v in entries.items()
        }

    def __repr__(self) -> str:
        return f"StaffRegistry({len(self.entries)} staff)"

    def key_for(self, staff_id: str) -> bytes | None:
        entry = self.entries.get(staff_id)
        return None if entry is None else entry.key

    def entry(self, staff_id: str) -> StaffEntry | None:
        return self.entries.get(staff_id)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> StaffRegistry:
        version = data.get("version")
        if version not in (1, 2) or not isinstance(data.get("staff"), dict):
            raise StaffRegistryError('staff registry must be {"version": 2, "staff": {...}}')
        staff = data["staff"]
        assert isinstance(staff, dict)
        entries: dict[str, StaffEntry] = {}
        for staff_id, entry in staff.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                raise StaffRegistryError(f"staff {staff_id!r}: entry needs a hex 'key'")
            try:
                key = bytes.fromhex(entry["key"])
            except ValueError as err:
                raise StaffRegistryError(f"staff {staff_id!r}: key is not hex") from err
            if len(key) < KEY_MIN_BYTES:
                raise StaffRegistryError(f"staff {staff_id!r}: key shorter than {KEY_MIN_BYTES} bytes")
            pin_hash = entry.get("pin")
            if version == 2 or pin_hash is not None:
                if not isinstance(pin_hash, str):
                    raise StaffRegistryError(f"staff {staff_id!r}: entry needs a PIN hash")
                _parse_pin_hash(pin_hash)
            try:
                role = Role(entry.get("role", Role.TECHNICIAN.value if version == 1 else None))
            except ValueError as err:
                raise StaffRegistryError(
                    f"staff {staff_id!r}: role must be one of {[r.value for r in Role]}"
                ) from err
            entries[str(staff_id)] = StaffEntry(key, pin_hash, role)
        return cls(entries)

    @classmethod
    def load(cls, path: Path) -> StaffRegistry:
        try:
            mode = os.stat(path).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise StaffRegistryError(f"{path} is readable by group/others (chmod 600 it)")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:
            raise StaffRegistryError(f"cannot load staff registry {path}: {err}") from err
        if not isinstance(data, dict):
            raise StaffRegistryError("staff registry must be a JSON object")
        return cls.from_mapping(data)


class StaffCardRefusal(enum.Enum):
    """Why a card did not unlock maintenance mode.  Values are stable identifiers."""

    NOT_STAFF_CARD = "not_staff_card"  # another applet/card (e.g. a bank card)
    UNKNOWN_STAFF = "unknown_staff"  # staff id not (or no longer) in the registry
    AUTH_FAILED = "auth_failed"  # challenge-response does not verify: wrong key / cloned id
    CARD_REMOVED = "card_removed"
    CARD_ERROR = "card_error"  # the card answered an unexpected error
    PIN_NOT_PROVISIONED = "pin_not_provisioned"  # the registry has no PIN for this staff id
    WRONG_PIN = "wrong_pin"
    LOCKED_OUT = "locked_out"  # too many refusals: unlocking is suspended for a while
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


def _refused(refusal: StaffCardRefusal, action: RequiredAction = RequiredAction.RETRY) -> StaffCardResult:
    logger.info("staff card refused: %s", refusal.value)
    return StaffCardResult(None, refusal, action)


class StaffCardAuthenticator:
    def __init__(self, registry: StaffRegistry) -> None:
        self._registry = registry

    def authenticate(self, card: PcscCardConnection) -> StaffCardResult:
        """Verify the card in ``card``.  Reader/daemon failures propagate as DeviceError."""
        try:
            check(card.transmit(select_apdu()), "SELECT staff applet")
            raw_id = check(card.transmit(read_staff_id_apdu()), "READ STAFF ID")
            try:
                staff_id = raw_id.decode("ascii")
            except UnicodeDecodeError:
                return _refused(StaffCardRefusal.NOT_STAFF_CARD, RequiredAction.NONE)
            key = self._registry.key_for(staff_id)
            if key is None:
                return _refused(StaffCardRefusal.UNKNOWN_STAFF, RequiredAction.NONE)
            challenge = secrets.token_bytes(CHALLENGE_BYTES)
            answer = check(card.transmit(internal_authenticate_apdu(challenge)), "INTERNAL AUTHENTICATE")
        except CardStatusError as err:
            if err.sw in _NOT_STAFF_SW:
                return _refused(StaffCardRefusal.NOT_STAFF_CARD, RequiredAction.NONE)
            logger.warning("staff card error: %s", err)
            return _refused(StaffCardRefusal.CARD_ERROR, err.action)
        except MediaError:
            return _refused(StaffCardRefusal.CARD_REMOVED)
        except DeviceError as err:
            if err.action is RequiredAction.RETRY:
                logger.warning("staff card read failed: %s", err)
                return _refused(StaffCardRefusal.CARD_ERROR)
            raise
        if len(answer) != MAC_LENGTH or not hmac.compare_digest(answer, card_mac(key, challenge)):
            return _refused(StaffCardRefusal.AUTH_FAILED, RequiredAction.NONE)
        logger.info("staff card verified: %s", staff_id)
        return StaffCardResult(staff_id, entry=self._registry.entry(staff_id))
