"""QR identity (e-ID / government app code): the platform verifies the token.

The scanned text (from :class:`devices.barcode.qr.CameraQrReader` or the serial
scanner) is an opaque token.  The terminal never trusts it locally: it only
checks the form (length, no control characters) and then asks the platform.
No answer (platform down) means no identity: refused, not guessed.

Platform contract ("QR identity token check"):

``POST /api/v1/identity/qr/verify`` (Bearer terminal token)
request ``{"terminal_id": "<id>", "token": "<scanned text>"}``; answers 200 with either
``{"valid": true, "token_id": "...", "source": "e-id" | "app", "id_number": "<18>",
"name": "...", "expires_at": "<ISO 8601>"}`` or ``{"valid": false, "reason":
"expired" | "revoked" | "used" | "unknown" | "malformed"}``.  Errors follow the
client's usual mapping (5xx/408/429 → PlatformUnavailable, 401/403 →
PlatformUnauthorized, other 4xx → PlatformRejected).

:class:`QrIdentityVerifier` takes any client with ``verify_qr_token(token) ->
Mapping`` returning that JSON body: :meth:`kiosk.cases.platform_client.PlatformClient.verify_qr_token`
(signed terminal requests; the sandbox implements the check in sandbox_platform/citizens.py).
The token, the ID number and the name never go to the logs; only a short hash of the
token does.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.cases.platform_client import (
    API,
    PlatformError,
    PlatformRejected,
    PlatformUnauthorized,
    PlatformUnavailable,
)
from kiosk.i18n import tr
from kiosk.identity.cards import validate_id_number

logger = logging.getLogger(__name__)

QR_VERIFY_PATH = f"{API}/identity/qr/verify"
MAX_TOKEN_CHARS = 2048


class QrTokenClient(Protocol):
    def verify_qr_token(self, token: str) -> Mapping[str, Any]: ...


class QrRefusal(enum.Enum):
    """Why a QR code did not give an identity.  Values are stable identifiers."""

    MALFORMED = "malformed"  # not a token at all (checked locally, or said by the platform)
    EXPIRED = "expired"  # the code on the phone timed out: refresh it
    REVOKED = "revoked"
    ALREADY_USED = "used"
    UNKNOWN = "unknown"  # the platform does not know the token (forged, other system)
    PLATFORM_UNAVAILABLE = "platform_unavailable"  # cannot verify now: use the ID card
    INVALID_ANSWER = "invalid_answer"  # the platform's answer does not make sense


_REASONS = {
    "expired": QrRefusal.EXPIRED,
    "revoked": QrRefusal.REVOKED,
    "used": QrRefusal.ALREADY_USED,
    "unknown": QrRefusal.UNKNOWN,
    "malformed": QrRefusal.MALFORMED,
}


@dataclass(frozen=True)
class QrIdentity:
    id_number: str
    name: str
    source: str  # "e-id" | "app"
    token_id: str
    expires_at: str

    def __repr__(self) -> str:  # keep personal data out of accidental logs
        return f"QrIdentity(source={self.source!r}, token_id={self.token_id!r})"


@dataclass(frozen=True)
class QrVerification:
    identity: QrIdentity | None
    refusal: QrRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None

    @property
    def message_key(self) -> str:
        """The catalogue key of what the screen says (kiosk/i18n.py)."""
        return "qr.verified" if self.refusal is None else f"qr.refused.{self.refusal.value}"

    def message(self) -> tuple[str, str]:
        """(Chinese, English) text of :attr:`message_key`."""
        return (tr(self.message_key, "zh"), tr(self.message_key, "en"))


def token_fingerprint(token: str) -> str:
    """A short hash for logs (the token itself is a credential)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


def _well_formed(token: str) -> bool:
    return 0 < len(token) <= MAX_TOKEN_CHARS and token.isprintable() and token == token.strip()


class QrIdentityVerifier:
    def __init__(self, client: QrTokenClient) -> None:
        self._client = client

    def _refuse(self, token: str, refusal: QrRefusal) -> QrVerification:
        logger.info("QR token %s refused: %s", token_fingerprint(token), refusal.value)
        return QrVerification(None, refusal)

    def verify(self, token: str) -> QrVerification:
        """Ask the platform about ``token``; a refusal never raises."""
        if not _well_formed(token):
            return self._refuse(token, QrRefusal.MALFORMED)
        try:
            answer = self._client.verify_qr_token(token)
        except PlatformUnavailable as err:
            logger.warning("QR token check: platform unavailable: %s", err)
            return self._refuse(token, QrRefusal.PLATFORM_UNAVAILABLE)
        except PlatformUnauthorized as err:
            logger.error("QR token check: terminal not authorised: %s", err)
            return self._refuse(token, QrRefusal.PLATFORM_UNAVAILABLE)
        except PlatformRejected as err:
            logger.warning("QR token check rejected: HTTP %s", err.status)
            return self._refuse(token, QrRefusal.MALFORMED if err.status in (400, 422) else QrRefusal.UNKNOWN)
        except PlatformError as err:
            logger.warning("QR token check failed: %s", err)
            return self._refuse(token, QrRefusal.PLATFORM_UNAVAILABLE)
        return self._parse(token, answer)

    def _parse(self, token: str, answer: Mapping[str, Any]) -> QrVerification:
        valid = answer.get("valid")
        if valid is False:
            return self._refuse(token, _REASONS.get(str(answer.get("reason")), QrRefusal.UNKNOWN))
        if valid is not True:
            return self._refuse(token, QrRefusal.INVALID_ANSWER)
        fields = {k: answer.get(k) for k in ("id_number", "name", "source", "token_id", "expires_at")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            return self._refuse(token, QrRefusal.INVALID_ANSWER)
        identity = QrIdentity(**{k: str(v) for k, v in fields.items()})
        if not validate_id_number(identity.id_number).ok:
            return self._refuse(token, QrRefusal.INVALID_ANSWER)
        logger.info("QR token %s verified (source %s)", token_fingerprint(token), identity.source)
        return QrVerification(identity)
