"""The foreigner's permanent residence ID card text block, parsed and read over a pty."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from devices.base import DeviceStatus
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.sim_cards import EXTRA_CARDS, SIM_CARDS, sim_card
from devices.idcard.simulator import IdCardSimulator
from devices.idcard.textblock import (
    CARD_TYPE_OFFSET,
    FOREIGNER_FIELDS,
    TextBlockError,
    card_type_of,
    encode_foreigner_text_block,
    encode_text_block,
    parse_any_text_block,
    parse_foreigner_text_block,
)
from devices.interfaces import DocumentKind, ForeignerIdCardText, IdCardRead, IdCardText

FOREIGNER = EXTRA_CARDS["foreigner"].text
assert isinstance(FOREIGNER, ForeignerIdCardText)


def u(s: str) -> bytes:
    return s.encode("utf-16-le")


def test_layout_offsets_exact() -> None:
    block = encode_foreigner_text_block(FOREIGNER)
    assert len(block) == 256
    assert block[0:42] == u("SMITH, JOHN ALEXANDER")
    assert block[42:120] == u(" ") * 39
    assert block[120:122] == u("1")
    assert block[122:152] == u("CAN371480010112")
    assert block[152:158] == u("CAN")
    assert block[158:164] == u("史密斯")
    assert block[188:204] == u("20200115")
    assert block[204:220] == u("20300115")
    assert block[220:236] == u("19800101")
    assert block[236:240] == u("02")
    assert block[240:248] == u("1500")
    assert block[248:250] == u("I") == block[CARD_TYPE_OFFSET : CARD_TYPE_OFFSET + 2]
    assert block[250:256] == u("   ")
    assert [name for name, _ in FOREIGNER_FIELDS][-2:] == ["card_type", "reserved"]


def test_round_trip_and_dispatch() -> None:
    block = encode_foreigner_text_block(FOREIGNER)
    assert card_type_of(block) == "I"
    assert parse_foreigner_text_block(block) == FOREIGNER
    assert parse_any_text_block(block) == FOREIGNER
    resident = encode_text_block(SIM_CARDS["senior"].text)
    assert card_type_of(resident) == ""
    parsed = parse_any_text_block(resident)
    assert isinstance(parsed, IdCardText) and parsed == SIM_CARDS["senior"].text


def test_long_term_and_no_chinese_name() -> None:
    text = dataclasses.replace(FOREIGNER, valid_until=None, chinese_name="")
    parsed = parse_foreigner_text_block(encode_foreigner_text_block(text))
    assert parsed.valid_until is None
    assert parsed.name == "SMITH, JOHN ALEXANDER"
    assert FOREIGNER.name == "史密斯"


def test_malformed_foreigner_blocks() -> None:
    block = encode_foreigner_text_block(FOREIGNER)
    with pytest.raises(TextBlockError, match="not a foreigner"):
        parse_foreigner_text_block(encode_text_block(SIM_CARDS["senior"].text))
    with pytest.raises(TextBlockError, match="birth_date"):
        parse_foreigner_text_block(block[:220] + u("19801301") + block[236:])
    with pytest.raises(TextBlockError, match="english_name: empty"):
        parse_foreigner_text_block(u(" ") * 60 + block[120:])
    with pytest.raises(TextBlockError, match="bytes"):
        parse_foreigner_text_block(block[:-2])


def test_repr_redacts() -> None:
    assert "SMITH" not in repr(FOREIGNER) and "CAN37" not in repr(FOREIGNER)
    assert FOREIGNER.kind is DocumentKind.FOREIGNER_PERMANENT_RESIDENCE and FOREIGNER.nationality == "CAN"
    with pytest.raises(dataclasses.FrozenInstanceError):
        FOREIGNER.english_name = "x"  # type: ignore[misc]


def test_read_card_foreigner_over_pty(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert("foreigner")
    result = reader.read_card(timeout=1.0)
    assert isinstance(result, IdCardRead)
    assert isinstance(result.text, ForeignerIdCardText) and result.text == FOREIGNER
    assert result.text.kind is DocumentKind.FOREIGNER_PERMANENT_RESIDENCE
    assert result.text.birth_date == dt.date(1980, 1, 1)
    assert len(result.photo_raw) == 1024
    assert "SMITH" not in repr(result) and "CAN37" not in repr(result)
    assert reader.status() is DeviceStatus.READY


def test_read_card_resident_is_unchanged(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert(sim_card("senior"))
    result = reader.read_card(timeout=1.0)
    assert result is not None and result.text == SIM_CARDS["senior"].text
    assert result.text.kind is DocumentKind.RESIDENT_ID and result.text.nationality == "CHN"


def test_read_details_foreigner(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert("foreigner")
    details = reader.read_details(timeout=1.0)
    assert details is not None and details.read.text == FOREIGNER
    assert details.fingerprint == b"" and details.appended_address is None


def test_sim_card_library_extras() -> None:
    assert set(EXTRA_CARDS) == {"foreigner", "bad-check-digit", "fingerprint"}
    with pytest.raises(KeyError, match="foreigner"):
        sim_card("nobody")
