"""Reading the social security card's (社会保障卡) basic info over PC/SC.

``read_basic_info(conn)`` selects the SSSE application by name, reads EF05 (card number, issue
and expiry dates, spec version) by short file identifier and EF06 (ID number, name, sex, nation,
birth place and date) after selecting it, and returns a typed
:class:`SocialSecurityCardInfo`.  The file layout and how far it follows the public material is
documented in :mod:`devices.smartcard.ssc_applet`.

Errors (all :class:`~devices.base.DeviceError`, with the required action):

* :class:`NotSocialSecurityCardError`: the card has no SSSE application (``6A 82``, or it does not
  know SELECT at all: ``6D 00``/``6E 00``): another card was inserted.
* :class:`SscAccessDeniedError`: EF06 answers ``69 82``: this card wants PSAM external
  authentication or a PIN before it gives the holder's data, which a reader without a PSAM
  cannot do ("where the reader supports it").
* A required record missing (``6A 83``) or another error status: :class:`CardStatusError`;
  a record that is not the TLV it should be, or holds bad BCD/ASCII: ``ProtocolError``.
  The birth place record is optional (``None`` when absent).

Nothing personal is logged: the PC/SC wire log has APDU headers and lengths only.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from devices.base import DeviceStatus, ProtocolError, RequiredAction
from devices.smartcard.apdu import KIND, CardStatusError, CommandApdu, ResponseApdu, check, describe_sw
from devices.smartcard.ssc_applet import (
    EF05_SFI,
    EF06_FID,
    RECORD_SIZES,
    Record,
    read_record_apdu,
    select_ef_apdu,
    select_ssse_apdu,
)

logger = logging.getLogger(__name__)

#: SELECT answers that mean "this is not a social security card".
_NOT_SSC = frozenset({0x6A82, 0x6A86, 0x6D00, 0x6E00})


class ApduChannel(Protocol):
    """What the reader needs of a card connection (``PcscCardConnection`` has it)."""

    def transmit(self, apdu: CommandApdu) -> ResponseApdu: ...


class NotSocialSecurityCardError(CardStatusError):
    """The inserted card has no social security application."""


class SscAccessDeniedError(CardStatusError):
    """The card wants authentication (PSAM/PIN) this reader cannot give before it shows EF06."""


@dataclass(frozen=True)
class SocialSecurityCardInfo:
    """The basic info of a social security card (EF05 + EF06)."""

    card_number: str  # 社会保障卡卡号
    id_number: str  # 社会保障号码 (the citizen ID number)
    name: str
    sex: str  # GB/T 2261.1 code
    nation: str  # GB/T 3304 two-digit code
    birth_place: str | None  # GB/T 2260 6-digit region code; None when the card has none
    birth_date: dt.date
    issue_date: dt.date
    expiry_date: dt.date
    spec_version: str

    def __repr__(self) -> str:  # never print personal data by accident
        return "SocialSecurityCardInfo(<redacted>)"

    def expired(self, today: dt.date) -> bool:
        """Whether the card is past its expiry date (the expiry date is the last valid day)."""
        return today > self.expiry_date


def _fail(resp: ResponseApdu, what: str, cls: type[CardStatusError] = CardStatusError) -> CardStatusError:
    meaning, action, status = describe_sw(resp.sw)
    if cls is NotSocialSecurityCardError:
        action, status = RequiredAction.NONE, DeviceStatus.USER_ERROR  # the citizen takes the card back
    if cls is SscAccessDeniedError:
        action, status = RequiredAction.NONE, DeviceStatus.USER_ERROR  # not this reader's cards
    return cls(f"{what}: SW {resp.sw:04X} ({meaning})", sw=resp.sw, action=action, status=status)


def _record(
    conn: ApduChannel, record: Record, sfi: int | None = None, *, optional: bool = False
) -> bytes | None:
    resp = conn.transmit(read_record_apdu(record, sfi))
    what = f"read record {int(record):02X}"
    if resp.sw == 0x6A83 and optional:
        return None
    if resp.sw == 0x6982:
        raise _fail(resp, what, SscAccessDeniedError)
    tlv = check(resp, what)
    size = RECORD_SIZES[record]
    if len(tlv) != size + 2 or tlv[0] != int(record) or tlv[1] != size:
        raise ProtocolError(f"{what}: not a {size}-byte TLV with tag {int(record):02X}", device=KIND)
    return tlv[2:]


def _required(conn: ApduChannel, record: Record, sfi: int | None = None) -> bytes:
    value = _record(conn, record, sfi)
    assert value is not None
    return value


def _bcd_digits(value: bytes, record: Record) -> str:
    digits = value.hex()
    if not digits.isdigit():
        raise ProtocolError(f"record {int(record):02X}: not BCD", device=KIND)
    return digits


def _bcd_date(value: bytes, record: Record) -> dt.date:
    digits = _bcd_digits(value, record)
    try:
        return dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError as err:
        raise ProtocolError(f"record {int(record):02X}: invalid date", device=KIND) from err


def _ascii(value: bytes, record: Record) -> str:
    try:
        return value.decode("ascii").strip(" \x00")
    except UnicodeDecodeError as err:
        raise ProtocolError(f"record {int(record):02X}: not ASCII", device=KIND) from err


def _gbk(value: bytes, record: Record) -> str:
    try:
        return value.rstrip(b"\x00\xff").decode("gbk").strip()
    except UnicodeDecodeError as err:
        raise ProtocolError(f"record {int(record):02X}: not GBK", device=KIND) from err


def read_basic_info(conn: ApduChannel) -> SocialSecurityCardInfo:
    """Read the basic info from the card on ``conn`` (see the module doc for the errors)."""
    resp = conn.transmit(select_ssse_apdu())
    if resp.sw in _NOT_SSC:
        raise _fail(resp, "select SSSE", NotSocialSecurityCardError)
    check(resp, "select SSSE")
    card_number = _ascii(_required(conn, Record.CARD_NUMBER, EF05_SFI), Record.CARD_NUMBER)
    spec_version = _ascii(_required(conn, Record.SPEC_VERSION, EF05_SFI), Record.SPEC_VERSION)
    issue_date = _bcd_date(_required(conn, Record.ISSUE_DATE, EF05_SFI), Record.ISSUE_DATE)
    expiry_date = _bcd_date(_required(conn, Record.EXPIRY_DATE, EF05_SFI), Record.EXPIRY_DATE)
    check(conn.transmit(select_ef_apdu(EF06_FID)), "select EF06")
    id_number = _ascii(_required(conn, Record.SSN), Record.SSN)
    name = _gbk(_required(conn, Record.NAME), Record.NAME)
    sex = _ascii(_required(conn, Record.SEX), Record.SEX)
    nation = f"{_required(conn, Record.NATION)[0]:02d}"
    place = _record(conn, Record.BIRTH_PLACE, optional=True)
    birth_date = _bcd_date(_required(conn, Record.BIRTH_DATE), Record.BIRTH_DATE)
    if not card_number or not id_number or not name:
        raise ProtocolError("basic info: card number, ID number or name empty", device=KIND)
    logger.info("social security card read (spec %s)", spec_version)
    return SocialSecurityCardInfo(
        card_number=card_number,
        id_number=id_number,
        name=name,
        sex=sex,
        nation=nation,
        birth_place=_bcd_digits(place, Record.BIRTH_PLACE) if place is not None else None,
        birth_date=birth_date,
        issue_date=issue_date,
        expiry_date=expiry_date,
        spec_version=spec_version,
    )
