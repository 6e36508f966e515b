"""How the citizen gets the result (§8.3.2, §8.3.3): print here, pick up at the window, or express.

Pure values and checks, no devices and no I/O.  The item package declares which methods it
allows and which is the default (``outputs.delivery``, docs/rule-package.md); the outcome of
the review narrows them (:func:`options_for`): nothing to deliver after a reject, nothing to
print on the spot while the case waits for manual review.  Express delivery needs a valid
address within what the hall serves (:func:`validate_express`); on paper the address is only
partly shown (:func:`mask_address`, :func:`mask_mobile`).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.review import checks

__all__ = [
    "EXPRESS_ERRORS",
    "EXPRESS_FIELDS",
    "DeliveryChoice",
    "DeliveryMethod",
    "ExpressAddress",
    "mask_address",
    "mask_mobile",
    "options_for",
    "validate_express",
]


class DeliveryMethod(enum.Enum):
    """Stable identifiers (item packages and case records use the values)."""

    PRINT_HERE = "print_here"  # the certificate is printed by this terminal now
    WINDOW = "window"  # picked up at the hall's window (pick-up slip + queue ticket)
    EXPRESS = "express"  # sent by express to the address given


#: The express form's fields, in screen order.
EXPRESS_FIELDS = ("recipient", "mobile", "address", "postal_code")
#: The i18n keys :func:`validate_express` returns.
EXPRESS_ERRORS = (
    "delivery.error.recipient",
    "delivery.error.mobile",
    "delivery.error.address_required",
    "delivery.error.address_outside",
    "delivery.error.address_incomplete",
    "delivery.error.postal_code",
)
_MAX_RECIPIENT = 30
_MAX_ADDRESS = 100
# One administrative level (province, prefecture, county/district) at the start of an address.
_ADMIN_UNIT = re.compile(r"^.{1,8}?(?:自治区|特别行政区|省|市|自治州|州|盟|地区|区|县|旗)")


@dataclass(frozen=True)
class ExpressAddress:
    recipient: str
    mobile: str
    address: str
    postal_code: str

    def __repr__(self) -> str:  # personal data: never in a log line or a traceback
        return "ExpressAddress(<redacted>)"

    def to_record(self) -> dict[str, str]:
        return {
            "recipient": self.recipient,
            "mobile": self.mobile,
            "address": self.address,
            "postal_code": self.postal_code,
        }


@dataclass(frozen=True)
class DeliveryChoice:
    method: DeliveryMethod
    address: ExpressAddress | None = None

    def __post_init__(self) -> None:
        if (self.method is DeliveryMethod.EXPRESS) != (self.address is not None):
            raise ValueError("an express delivery needs an address, and only an express delivery has one")

    def to_record(self) -> dict[str, Any]:
        """For the case file (the platform ships it, so the address is in full there)."""
        return {
            "method": self.method.value,
            "address": self.address.to_record() if self.address is not None else None,
        }


def options_for(
    allowed: Sequence[DeliveryMethod], default: DeliveryMethod | None, outcome: str
) -> tuple[tuple[DeliveryMethod, ...], DeliveryMethod | None]:
    """The methods to offer for a decision ``outcome`` ("approve" | "manual" | "reject") and the
    one preselected.

    A reject delivers nothing; a manual review issues nothing now, so "print here" is not offered
    (the result is picked up or sent once staff decide).  The package's default stays preselected
    when it is offered, else the first offered method."""
    if outcome == "reject":
        return (), None
    offered = tuple(m for m in allowed if not (outcome == "manual" and m is DeliveryMethod.PRINT_HERE))
    if not offered:
        return (), None
    return offered, default if default in offered else offered[0]


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def validate_express(values: Mapping[str, str], jurisdiction: Sequence[str]) -> dict[str, str]:
    """Field → i18n error key for every unacceptable express field (empty: the address is fine).

    ``recipient`` required (≤ 30 characters); ``mobile`` a mainland mobile number; ``address``
    required, within one of the hall's ``jurisdiction`` areas
    (:func:`kiosk.review.checks.address_in_jurisdiction`) and more than an area name (a street and
    number after it); ``postal_code`` six digits."""
    errors: dict[str, str] = {}
    recipient = values.get("recipient", "").strip()
    if not recipient or len(recipient) > _MAX_RECIPIENT:
        errors["recipient"] = "delivery.error.recipient"
    if not checks.is_cn_mobile(values.get("mobile", "")):
        errors["mobile"] = "delivery.error.mobile"
    address = values.get("address", "").strip()
    if not address or len(address) > _MAX_ADDRESS:
        errors["address"] = "delivery.error.address_required"
    elif not checks.address_in_jurisdiction(address, jurisdiction):
        errors["address"] = "delivery.error.address_outside"
    elif not _has_street(address, jurisdiction):
        errors["address"] = "delivery.error.address_incomplete"
    if not checks.is_postal_code(values.get("postal_code", "")):
        errors["postal_code"] = "delivery.error.postal_code"
    return errors


def _has_street(address: str, jurisdiction: Sequence[str]) -> bool:
    """More than a bare area name: a courier needs a street and number."""
    compact = _compact(address)
    return all(compact != _compact(area) for area in jurisdiction) and len(compact) > len(
        _admin_prefix(compact)
    )


def _admin_prefix(address: str) -> str:
    """Up to three administrative levels (``山东省`` ``德州市`` ``德城区``) from the start."""
    prefix = ""
    for _ in range(3):
        match = _ADMIN_UNIT.match(address[len(prefix) :])
        if match is None:
            break
        prefix += match.group(0)
    return prefix


def mask_address(address: str) -> str:
    """The administrative part kept, the street and number hidden (for paper).

    ``山东省德州市德城区新湖大街1号`` → ``山东省德州市德城区******``."""
    compact = _compact(address)
    prefix = _admin_prefix(compact)
    if not prefix or prefix == compact:
        prefix = compact[: max(1, len(compact) // 3)]
    return prefix + "*" * 6


def mask_mobile(mobile: str) -> str:
    """``13905340000`` → ``139****0000``."""
    digits = re.sub(r"\D", "", mobile)[-11:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
