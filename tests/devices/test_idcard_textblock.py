"""The 256-byte UCS-2LE text block."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from devices.idcard.sim_cards import SIM_CARDS
from devices.idcard.textblock import (
    FIELDS,
    NATIONS,
    TextBlockError,
    encode_text_block,
    nation_name,
    parse_text_block,
    sex_name,
    split_fields,
)
from devices.interfaces import IdCardText

BUSINESS = SIM_CARDS["business"].text


@pytest.mark.parametrize("key", sorted(SIM_CARDS))
def test_round_trip_demo_cards(key: str) -> None:
    text = SIM_CARDS[key].text
    block = encode_text_block(text)
    assert len(block) == 256
    assert parse_text_block(block) == text


def test_field_layout_exact() -> None:
    block = encode_text_block(BUSINESS)
    assert block[0:6] == "李建国".encode("utf-16-le")
    assert block[6:30] == " ".encode("utf-16-le") * 12  # name padded with spaces to 30 bytes
    assert block[30:32] == b"1\x00"
    assert block[32:36] == "01".encode("utf-16-le")
    assert block[36:52] == "19880721".encode("utf-16-le")
    offset = 30 + 2 + 4 + 16 + 70
    assert block[offset : offset + 36] == "37140219880721003X".encode("utf-16-le")
    assert block[-36 - 32 : -36] == "2018091020380910".encode("utf-16-le")
    assert block[-36:] == " ".encode("utf-16-le") * 18
    assert [w for _, w in FIELDS] == [30, 2, 4, 16, 70, 36, 30, 16, 16, 36]


def test_long_term_card() -> None:
    text = SIM_CARDS["senior"].text
    block = encode_text_block(text)
    assert block[-36 - 16 : -36] == "长期      ".encode("utf-16-le")
    assert parse_text_block(block).valid_until is None
    assert split_fields(block)["valid_until"] == "长期"


def test_nul_padding_is_accepted() -> None:
    block = bytearray(encode_text_block(BUSINESS))
    block[6:30] = bytes(24)
    assert parse_text_block(bytes(block)).name == "李建国"


def test_too_long_field_rejected_on_encode() -> None:
    with pytest.raises(ValueError, match="name"):
        encode_text_block(dataclasses.replace(BUSINESS, name="名" * 16))
    with pytest.raises(ValueError, match="address"):
        encode_text_block(dataclasses.replace(BUSINESS, address="址" * 36))


def test_malformed_blocks() -> None:
    with pytest.raises(TextBlockError):
        parse_text_block(bytes(255))
    block = bytearray(encode_text_block(BUSINESS))
    block[36:52] = "19990230".encode("utf-16-le")
    with pytest.raises(TextBlockError, match="birth_date"):
        parse_text_block(bytes(block))
    block = bytearray(encode_text_block(BUSINESS))
    block[0:2] = b"\x00\xd8"  # lone surrogate
    with pytest.raises(TextBlockError):
        parse_text_block(bytes(block))


def test_error_messages_do_not_leak_contents() -> None:
    block = bytearray(encode_text_block(BUSINESS))
    block[-36 - 32 : -36 - 16] = "2018XX10".encode("utf-16-le")
    with pytest.raises(TextBlockError) as info:
        parse_text_block(bytes(block))
    assert "2018" not in str(info.value) and "李" not in str(info.value)


def test_nation_table_and_sex() -> None:
    assert len([c for c in NATIONS if int(c) <= 56]) == 56
    assert nation_name("01") == "汉"
    assert nation_name("05") == "维吾尔"
    assert nation_name("56") == "基诺"
    assert nation_name("77") == "77"
    assert (sex_name("2"), sex_name("1", "en")) == ("女", "male")


def test_repr_redacts() -> None:
    text = IdCardText("张三", "1", "01", dt.date(2000, 1, 1), "x", "1", "y", dt.date(2020, 1, 1), None)
    assert "张三" not in repr(text)
