"""The social security card's basic info: the virtual applet served through vpcd to the real
pcscd, read with pyscard (packaging/pcsc scripts), and the typed errors of other cards."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Iterator

import pytest

from devices.base import DeviceStatus, ProtocolError, RequiredAction
from devices.smartcard.apdu import CommandApdu, ResponseApdu
from devices.smartcard.pcsc import CardEventKind, PcscReaders
from devices.smartcard.piv_applet import PivApplet
from devices.smartcard.ssc import (
    NotSocialSecurityCardError,
    SocialSecurityCardInfo,
    SscAccessDeniedError,
    read_basic_info,
)
from devices.smartcard.ssc_applet import (
    EF05_SFI,
    SSSE_NAME,
    Record,
    SocialSecurityCardApplet,
    SscCardData,
    read_record_apdu,
    select_ef_apdu,
    select_ssse_apdu,
)
from devices.smartcard.testbed import PcscdTestbed
from devices.smartcard.vcard import VirtualCard, _atr

READER0 = "Virtual PCD 00 00"
SSC_ATR = _atr(b"SSCARD01")
SENIOR = SscCardData(
    card_number="D37140001",
    id_number="371402195203140022",
    name="张桂兰",
    sex="2",
    nation="01",
    birth_place="371402",
    birth_date=dt.date(1952, 3, 14),
    issue_date=dt.date(2019, 6, 1),
    expiry_date=dt.date(2029, 6, 1),
)


@pytest.fixture
def readers(pcscd: PcscdTestbed) -> Iterator[PcscReaders]:
    with PcscReaders() as r:
        yield r


@pytest.fixture
def inserted(pcscd: PcscdTestbed, readers: PcscReaders) -> Iterator[list[VirtualCard]]:
    """Insert cards with ``_insert``; each is removed (and pcscd sees it gone) after the test."""
    cards: list[VirtualCard] = []
    yield cards
    for card in cards:
        card.remove()
    deadline = time.monotonic() + 5.0
    while readers.status() is not DeviceStatus.NO_MEDIA:
        assert time.monotonic() < deadline, "reader still shows a card"
        time.sleep(0.05)


def _insert(
    applet: SocialSecurityCardApplet | PivApplet,
    pcscd: PcscdTestbed,
    readers: PcscReaders,
    cards: list[VirtualCard],
    atr: bytes = SSC_ATR,
) -> VirtualCard:
    assert readers.wait_for_event(0.0, READER0) is None  # known state: empty
    card = VirtualCard(applet, atr=atr)
    card.insert(netns=pcscd.netns)
    cards.append(card)
    event = readers.wait_for_event(5.0, READER0)
    assert event is not None and event.kind is CardEventKind.INSERTED and event.atr == atr
    return card


def test_insert_read_basic_info_remove(
    pcscd: PcscdTestbed,
    readers: PcscReaders,
    inserted: list[VirtualCard],
    caplog: pytest.LogCaptureFixture,
) -> None:
    applet = SocialSecurityCardApplet(SENIOR)
    card = _insert(applet, pcscd, readers, inserted)
    with caplog.at_level(logging.DEBUG), readers.connect(READER0) as conn:
        info = read_basic_info(conn)
    assert isinstance(info, SocialSecurityCardInfo)
    assert info.card_number == "D37140001"
    assert info.id_number == "371402195203140022"
    assert info.name == "张桂兰"
    assert (info.sex, info.nation, info.birth_place) == ("2", "01", "371402")
    assert info.birth_date == dt.date(1952, 3, 14)
    assert (info.issue_date, info.expiry_date) == (dt.date(2019, 6, 1), dt.date(2029, 6, 1))
    assert info.spec_version == "3.00"
    assert not info.expired(dt.date(2029, 6, 1)) and info.expired(dt.date(2029, 6, 2))
    assert "张桂兰" not in repr(info) and "3714" not in repr(info)
    # the wire went as documented: SELECT by name, EF05 by SFI, SELECT EF06, EF06 records
    assert applet.commands[0] == (0xA4, 0x04, 0x00)
    assert applet.commands[1] == (0xB2, Record.CARD_NUMBER, EF05_SFI << 3 | 4)
    assert (0xA4, 0x02, 0x00) in applet.commands
    assert applet.commands[-1] == (0xB2, Record.BIRTH_DATE, 0x04)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "tx " in logged  # the PC/SC wire log ran...
    for secret in ("张桂兰", "371402195203140022", "D37140001", "371402"):
        assert secret not in logged  # ...with headers and lengths only
    card.remove()
    event = readers.wait_for_event(5.0, READER0)
    assert event is not None and event.kind is CardEventKind.REMOVED


def test_a_card_that_is_not_a_social_security_card(
    pcscd: PcscdTestbed, readers: PcscReaders, inserted: list[VirtualCard]
) -> None:
    _insert(PivApplet(), pcscd, readers, inserted)
    with readers.connect(READER0) as conn, pytest.raises(NotSocialSecurityCardError) as info:
        read_basic_info(conn)
    assert info.value.sw == 0x6A82
    assert info.value.action is RequiredAction.NONE and info.value.status is DeviceStatus.USER_ERROR


def test_card_wanting_psam_authentication_is_typed(
    pcscd: PcscdTestbed, readers: PcscReaders, inserted: list[VirtualCard]
) -> None:
    _insert(SocialSecurityCardApplet(SENIOR, ef06_locked=True), pcscd, readers, inserted)
    with readers.connect(READER0) as conn, pytest.raises(SscAccessDeniedError) as info:
        read_basic_info(conn)
    assert info.value.sw == 0x6982 and info.value.action is RequiredAction.NONE


def test_status_words_over_pcscd(
    pcscd: PcscdTestbed, readers: PcscReaders, inserted: list[VirtualCard]
) -> None:
    no_place = dataclasses.replace(SENIOR, birth_place=None)
    applet = SocialSecurityCardApplet(no_place)
    _insert(applet, pcscd, readers, inserted)
    with readers.connect(READER0) as conn:
        assert conn.transmit(read_record_apdu(Record.SSN)).sw == 0x6986  # no current EF yet
        assert conn.transmit(read_record_apdu(Record.CARD_NUMBER, EF05_SFI)).sw == 0x6A82  # not in SSSE
        assert conn.transmit(select_ef_apdu(bytes.fromhex("EF06"))).sw == 0x6A82
        assert conn.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, b"sx1.sh.other")).sw == 0x6A82
        assert conn.transmit(select_ssse_apdu()).ok
        assert conn.transmit(read_record_apdu(Record.SSN, EF05_SFI)).sw == 0x6A83  # EF05 has no record 08
        before = len(applet.commands)
        wrong_le = conn.transmit(read_record_apdu(Record.CARD_NUMBER, EF05_SFI, le=4))
        assert wrong_le.ok and wrong_le.data == b"\x07\x09D37140001"
        assert len(applet.commands) - before == 2  # 6C0B, then re-sent with Le 0B
        assert conn.transmit(CommandApdu(0x80, 0xB2, 0x07, 0x2C, b"", 0x0B)).sw == 0x6E00
        assert conn.transmit(CommandApdu(0x00, 0xB0, 0x00, 0x00, b"", 0x10)).sw == 0x6D00
        info = read_basic_info(conn)  # birth place is optional: 6A83 -> None
    assert info.birth_place is None and info.name == "张桂兰"


class _Answers:
    """A channel answering from a table (for malformed-record codings only; the card path is above)."""

    def __init__(self, applet: SocialSecurityCardApplet, patch: dict[int, bytes]) -> None:
        self.applet, self.patch = applet, patch

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        raw = self.applet.process(apdu.to_bytes())
        if apdu.ins == 0xB2 and apdu.p1 in self.patch:
            return ResponseApdu(self.patch[apdu.p1], 0x90, 0x00)
        return ResponseApdu.parse(raw)


def test_malformed_records_are_protocol_errors() -> None:
    bad_date = bytes((Record.BIRTH_DATE, 4)) + bytes.fromhex("19521399")
    with pytest.raises(ProtocolError, match="record 0D: invalid date"):
        read_basic_info(_Answers(SocialSecurityCardApplet(SENIOR), {Record.BIRTH_DATE: bad_date}))
    not_bcd = bytes((Record.ISSUE_DATE, 4)) + bytes.fromhex("2019A601")
    with pytest.raises(ProtocolError, match="not BCD"):
        read_basic_info(_Answers(SocialSecurityCardApplet(SENIOR), {Record.ISSUE_DATE: not_bcd}))
    wrong_tag = bytes((Record.SEX, 1)) + b"2"
    with pytest.raises(ProtocolError, match="TLV with tag 09"):
        read_basic_info(_Answers(SocialSecurityCardApplet(SENIOR), {Record.NAME: wrong_tag}))


def test_layout_bytes_exact() -> None:
    assert select_ssse_apdu().to_bytes().hex().upper() == "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
    assert SSSE_NAME == b"sx1.sh.\xc9\xe7\xbb\xe1\xb1\xa3\xd5\xcf"
    assert read_record_apdu(Record.CARD_NUMBER, EF05_SFI).to_bytes().hex().upper() == "00B2072C0B"
    assert read_record_apdu(Record.NAME).to_bytes().hex().upper() == "00B2090420"
    records = SENIOR.records()
    assert records[Record.NAME] == "张桂兰".encode("gbk") + b"\x00" * 24
    assert records[Record.BIRTH_PLACE] == bytes.fromhex("371402")
    assert records[Record.NATION] == b"\x01"
    assert records[Record.EXPIRY_DATE] == bytes.fromhex("20290601")
