"""Staff card check for maintenance mode: SELECT, READ STAFF ID, challenge-response.

The terminal sends a fresh random 16-byte challenge; the card answers
HMAC-SHA256(card key, challenge); the terminal recomputes it with the key its
staff registry holds for the staff id the card claims and compares in constant time.
A copied staff id without the key therefore does not unlock anything, and a
recorded answer does not replay (new challenge each time).

Key handling: the registry is a JSON file on the terminal,
``{"version": 1, "staff": {"<staff id>": {"key": "<64 hex digits>"}}}``, owned by
the kiosk user with mode 0600 (loading refuses a file readable by group/others).
It is provisioned with the cards, never comes from the platform and never enters
the repository; keys are never logged.  Revoking a card = removing its entry.
"""

from __future__ import annotations

import enum
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
#: Status words meaning "this is not a staff card".
_NOT_STAFF_SW = frozenset({0x6A82, 0x6D00, 0x6E00, 0x6A81})


class StaffRegistryError(Exception):
    """The staff registry file is missing, malformed or too widely readable."""


@dataclass(frozen=True)
class StaffRegistry:
    keys: Mapping[str, bytes] = field(repr=False)

    def key_for(self, staff_id: str) -> bytes | None:
        return self.keys.get(staff_id)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> StaffRegistry:
        if data.get("version") != 1 or not isinstance(data.get("staff"), dict):
            raise StaffRegistryError('staff registry must be {"version": 1, "staff": {...}}')
        staff = data["staff"]
        assert isinstance(staff, dict)
        keys: dict[str, bytes] = {}
        for staff_id, entry in staff.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                raise StaffRegistryError(f"staff {staff_id!r}: entry needs a hex 'key'")
            try:
                key = bytes.fromhex(entry["key"])
            except ValueError as err:
                raise StaffRegistryError(f"staff {staff_id!r}: key is not hex") from err
            if len(key) < KEY_MIN_BYTES:
                raise StaffRegistryError(f"staff {staff_id!r}: key shorter than {KEY_MIN_BYTES} bytes")
            keys[str(staff_id)] = key
        return cls(keys)

    @classmethod
    def load(cls, path: Path) -> StaffRegistry:
        try:
            mode = os.stat(path).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise StaffRegistryError(f"{path} is readable by group/others (chmod 600 it)")
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
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


@dataclass(frozen=True)
class StaffCardResult:
    staff_id: str | None
    refusal: StaffCardRefusal | None = None
    action: RequiredAction = RequiredAction.NONE

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
        return StaffCardResult(staff_id)
