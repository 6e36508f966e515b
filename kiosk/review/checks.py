"""Shared, side-effect-free check functions used by forms, materials and the review.

ID-number validation (GB 11643) lives in :mod:`kiosk.identity.cards`; it is not repeated here.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from kiosk.identity.cards import age_on

__all__ = [
    "USCC_ALPHABET",
    "age_from_birth_date",
    "date_in_range",
    "is_cn_mobile",
    "is_postal_code",
    "is_uscc",
    "parse_iso_date",
    "uscc_check_char",
]

# GB 32100-2015: the 31 code characters (no I, O, Z, S, V) and the weights of positions 1..17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
# Position 1: registration authority, position 2: organisation type (GB 32100 table 1/2).
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# Mainland mobile numbers: 11 digits starting with 13-19 (MIIT numbering plan).
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_POSTAL_CODE = re.compile(r"^\d{6}$")


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code.

    Raises ``ValueError`` if ``first17`` is not 17 characters from the code alphabet."""
    body = first17.upper()
    if len(body) != 17 or any(c not in _USCC_VALUE for c in body):
        raise ValueError("USCC body must be 17 characters from the GB 32100 alphabet")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_uscc(code: str) -> bool:
    """True for an 18-character unified social credit code with a correct check character."""
    code = code.strip().upper()
    if not _USCC_SHAPE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def is_cn_mobile(phone: str) -> bool:
    """True for a mainland China mobile number (optionally with +86/86 prefix, spaces or dashes)."""
    digits = re.sub(r"[\s-]", "", phone.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return bool(_CN_MOBILE.match(digits))


def is_postal_code(code: str) -> bool:
    """True for a six-digit mainland postal code."""
    return bool(_POSTAL_CODE.match(code.strip()))


def parse_iso_date(text: str) -> dt.date | None:
    """``YYYY-MM-DD`` (or ``YYYYMMDD``) to a date; ``None`` when it is not a real date."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def date_in_range(value: dt.date, earliest: dt.date | None = None, latest: dt.date | None = None) -> bool:
    """True when ``earliest <= value <= latest`` (open ends when a bound is ``None``)."""
    if earliest is not None and value < earliest:
        return False
    return not (latest is not None and value > latest)


def age_from_birth_date(birth: dt.date, on: dt.date) -> int:
    """Completed years of age on ``on`` (a 29 February birthday counts on 1 March in common years)."""
    return age_on(birth, on)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


_PROVINCE = re.compile(r"^.{2,8}?(省|自治区)")


def address_in_jurisdiction(address: str, jurisdiction: Sequence[str]) -> bool:
    """Whether ``address`` lies within one of the hall's ``jurisdiction`` areas.

    Areas are administrative prefixes such as ``山东省德州市德城区``; an address may leave the
    province out (``德州市德城区新湖大街1号``).  Full-width characters and spaces are ignored."""
    addr = _compact(address)
    for area in jurisdiction:
        area_c = _compact(area)
        if not area_c:
            continue
        if addr.startswith(area_c):
            return True
        without_province = _PROVINCE.sub("", area_c, count=1)
        if without_province != area_c and without_province and addr.startswith(without_province):
            return True
    return False
