"""The social security card's (社会保障卡) basic-info application: file layout, APDUs, and a
virtual applet that serves it (tests, demo, CI; run by :class:`devices.smartcard.vcard.VirtualCard`).

What is implemented, and how far it follows the public material
---------------------------------------------------------------
The MOHRSS card specification (《社会保障（个人）卡规范》) is not public in full.  This subset
follows what public vendor reader samples do with real cards, and nothing is claimed beyond that:

* ``00 A4 04 00 0F "sx1.sh.社会保障"`` (the name in GBK) selects the SSSE application
  (verified: vendor samples send exactly these bytes and accept ``90 00`` or ``61 xx``).
* ``00 B2 07 2C 0B`` reads record 07, the card number, of EF05 by short file identifier 5
  (P2 = SFI << 3 | 4) (verified: vendor sample).
* ``00 A4 02 00 02 EF 06`` selects EF06; ``00 B2 <rec> 00 <Le>`` reads its records 08 (social
  security number = the citizen's ID number, 18 bytes), 09 (name, 30 bytes GBK), 0A (sex, 1 ASCII
  byte), 0B (nation, 1 binary byte: GB/T 3304 code), 0C (birth place, 3 BCD bytes: region code),
  0D (birth date, 4 BCD bytes) (verified: vendor sample, with these Le).
* Every record answers as a TLV: tag = the record number, one length byte, the value
  (verified: the samples skip 2 bytes before the value).
* EF05 records 03 (spec version, 4 ASCII), 05 (issue date, 4 BCD) and 06 (expiry date, 4 BCD) are
  from secondary descriptions of the specification, **not verified** against its text; the
  sizes of records 01 (card identifier, 16), 02 (card type, 1) and 04 (issuing organisation, 12)
  likewise.

Status words the applet returns (ISO 7816-4 meanings): ``6A 82`` application/file not found
(another card, or EF06 asked for outside SSSE), ``69 82`` security status not satisfied (EF06 on a
card that wants PSAM external authentication or a PIN first: ``ef06_locked``; real cards of some
provinces do, and this terminal's readers do not hold a PSAM), ``6A 83`` record not found,
``6C xx`` wrong Le (xx = the right one), ``69 86`` no current EF, ``6D 00``/``6E 00`` unknown
INS/CLA, ``67 00`` malformed APDU.  READ RECORD accepts P2 ``04`` (ISO: record P1 of the current
EF) and ``00`` (what the vendor samples send); P2 with an SFI selects that EF first.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Final

from devices.smartcard.apdu import CommandApdu, ResponseApdu

#: DF name of the social security application: "sx1.sh." + "社会保障" in GBK.
SSSE_NAME: Final = b"sx1.sh." + "社会保障".encode("gbk")
MF_FID: Final = bytes.fromhex("3F00")
EF05_FID: Final = bytes.fromhex("EF05")
EF06_FID: Final = bytes.fromhex("EF06")
EF05_SFI: Final = 5
INS_SELECT: Final = 0xA4
INS_READ_RECORD: Final = 0xB2


class Record(enum.IntEnum):
    """Record numbers (= TLV tags) of the basic-info files."""

    CARD_ID = 0x01  # EF05 卡的识别码
    CARD_TYPE = 0x02  # EF05 卡的类别
    SPEC_VERSION = 0x03  # EF05 规范版本
    ISSUER = 0x04  # EF05 初始化机构编号
    ISSUE_DATE = 0x05  # EF05 发卡日期
    EXPIRY_DATE = 0x06  # EF05 卡有效期
    CARD_NUMBER = 0x07  # EF05 社会保障卡卡号
    SSN = 0x08  # EF06 社会保障号码
    NAME = 0x09  # EF06 姓名
    SEX = 0x0A  # EF06 性别
    NATION = 0x0B  # EF06 民族
    BIRTH_PLACE = 0x0C  # EF06 出生地
    BIRTH_DATE = 0x0D  # EF06 出生日期


#: Value sizes in bytes (the TLV adds 2).
RECORD_SIZES: Final[dict[Record, int]] = {
    Record.CARD_ID: 16,
    Record.CARD_TYPE: 1,
    Record.SPEC_VERSION: 4,
    Record.ISSUER: 12,
    Record.ISSUE_DATE: 4,
    Record.EXPIRY_DATE: 4,
    Record.CARD_NUMBER: 9,
    Record.SSN: 18,
    Record.NAME: 30,
    Record.SEX: 1,
    Record.NATION: 1,
    Record.BIRTH_PLACE: 3,
    Record.BIRTH_DATE: 4,
}
EF05_RECORDS: Final = frozenset(r for r in Record if r <= Record.CARD_NUMBER)
EF06_RECORDS: Final = frozenset(r for r in Record if r >= Record.SSN)


def select_ssse_apdu() -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, 0x04, 0x00, SSSE_NAME)


def select_ef_apdu(fid: bytes) -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, 0x02, 0x00, fid)


def read_record_apdu(record: Record, sfi: int | None = None, le: int | None = None) -> CommandApdu:
    """READ RECORD ``record`` of the current EF (P2 04) or of EF ``sfi`` (P2 = sfi << 3 | 4),
    with Le = the TLV's size unless given."""
    p2 = 0x04 if sfi is None else (sfi << 3) | 0x04
    return CommandApdu(
        0x00, INS_READ_RECORD, int(record), p2, b"", le if le is not None else RECORD_SIZES[record] + 2
    )


# ------------------------------------------------------------------ value codings
def bcd(digits: str) -> bytes:
    """``"19520314"`` -> ``19 52 03 14``."""
    if len(digits) % 2 or not digits.isascii() or not digits.isdigit():
        raise ValueError("BCD needs an even number of ASCII digits")
    return bytes.fromhex(digits)


def bcd_date(value: dt.date) -> bytes:
    return bcd(f"{value.year:04d}{value.month:02d}{value.day:02d}")


def padded(value: bytes, size: int, pad: bytes = b"\x00") -> bytes:
    if len(value) > size:
        raise ValueError(f"value of {len(value)} bytes exceeds {size}")
    return value + pad * (size - len(value))


@dataclass(frozen=True)
class SscCardData:
    """What a virtual social security card holds (the applet's personalisation)."""

    card_number: str  # 9 characters, e.g. "D15600001"
    id_number: str  # 社会保障号码: the 18-character citizen ID number
    name: str
    sex: str  # GB/T 2261.1: "1" / "2"
    nation: str  # GB/T 3304 two-digit code
    birth_place: str | None  # 6-digit GB/T 2260 region code; None: the record is absent
    birth_date: dt.date
    issue_date: dt.date
    expiry_date: dt.date
    spec_version: str = "3.00"
    card_type: str = "3"
    issuer: str = "371400000000"
    card_id: bytes = field(default=b"371400D156000005", repr=False)

    def __repr__(self) -> str:
        return "SscCardData(<redacted>)"

    def records(self) -> dict[Record, bytes]:
        """Record values (before the TLV), sized as :data:`RECORD_SIZES`."""
        out = {
            Record.CARD_ID: padded(self.card_id, 16),
            Record.CARD_TYPE: padded(self.card_type.encode("ascii"), 1),
            Record.SPEC_VERSION: padded(self.spec_version.encode("ascii"), 4),
            Record.ISSUER: padded(self.issuer.encode("ascii"), 12),
            Record.ISSUE_DATE: bcd_date(self.issue_date),
            Record.EXPIRY_DATE: bcd_date(self.expiry_date),
            Record.CARD_NUMBER: padded(self.card_number.encode("ascii"), 9, b" "),
            Record.SSN: padded(self.id_number.encode("ascii"), 18, b" "),
            Record.NAME: padded(self.name.encode("gbk"), 30),
            Record.SEX: padded(self.sex.encode("ascii"), 1),
            Record.NATION: bytes((int(self.nation),)),
            Record.BIRTH_DATE: bcd_date(self.birth_date),
        }
        if self.birth_place is not None:
            out[Record.BIRTH_PLACE] = bcd(self.birth_place)
        for record, value in out.items():
            assert len(value) == RECORD_SIZES[record], record
        return out


def _sw(sw: int, data: bytes = b"") -> ResponseApdu:
    return ResponseApdu(data, sw >> 8, sw & 0xFF)


class SocialSecurityCardApplet:
    """The basic-info subset of a social security card, independent of any transport."""

    def __init__(self, data: SscCardData, *, ef06_locked: bool = False) -> None:
        self._records = data.records()
        self.ef06_locked = ef06_locked
        self._in_ssse = False
        self._ef: bytes | None = None
        self.commands: list[tuple[int, int, int]] = []  # (INS, P1, P2) received, for tests

    def reset(self) -> None:
        self._in_ssse = False
        self._ef = None

    def process(self, raw: bytes) -> bytes:
        try:
            apdu = CommandApdu.parse(raw)
        except ValueError:
            return _sw(0x6700).to_bytes()
        self.commands.append((apdu.ins, apdu.p1, apdu.p2))
        return self._dispatch(apdu).to_bytes()

    def _dispatch(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.cla != 0x00:
            return _sw(0x6E00)
        if apdu.ins == INS_SELECT:
            return self._select(apdu)
        if apdu.ins == INS_READ_RECORD:
            return self._read_record(apdu)
        return _sw(0x6D00)

    def _select(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.p1 == 0x04:  # by DF name
            if apdu.data != SSSE_NAME:
                return _sw(0x6A82)
            self._in_ssse, self._ef = True, None
            return _sw(0x9000)
        if apdu.p1 == 0x00 and apdu.data in (b"", MF_FID):
            self._in_ssse, self._ef = False, None
            return _sw(0x9000)
        if apdu.p1 == 0x02:  # EF under the current DF
            if not self._in_ssse or apdu.data not in (EF05_FID, EF06_FID):
                return _sw(0x6A82)
            self._ef = apdu.data
            return _sw(0x9000)
        return _sw(0x6A86)

    def _read_record(self, apdu: CommandApdu) -> ResponseApdu:
        sfi = apdu.p2 >> 3
        if apdu.p2 & 0x07 not in (0x04, 0x00):
            return _sw(0x6A86)
        if sfi:
            if not self._in_ssse or sfi != EF05_SFI:
                return _sw(0x6A82)
            self._ef = EF05_FID
        if self._ef is None:
            return _sw(0x6986)  # command not allowed: no current EF
        if self._ef == EF06_FID and self.ef06_locked:
            return _sw(0x6982)
        allowed = EF05_RECORDS if self._ef == EF05_FID else EF06_RECORDS
        try:
            record = Record(apdu.p1)
        except ValueError:
            return _sw(0x6A83)
        value = self._records.get(record)
        if record not in allowed or value is None:
            return _sw(0x6A83)
        tlv = bytes((int(record), len(value))) + value
        le = apdu.le if apdu.le is not None else 0
        if le not in (len(tlv), 256):
            return _sw(0x6C00 | len(tlv))
        return _sw(0x9000, tlv)
