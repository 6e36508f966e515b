"""Exact bytes of the ESC/POS codec, status interpretation and the decoder round trip."""

from __future__ import annotations

import pytest

from devices.base import DeviceStatus, RequiredAction
from devices.interfaces import ReceiptDoc, ReceiptLine
from devices.printer.codec import EscPosCodec, display_width, interpret_status, wrap
from devices.printer.decoder import DecodedReceipt, DecoderHooks, EscPosDecoder
from devices.printer.profiles import get_profile

URL = "https://zwfw.example.gov.cn/p?c=A1"


def small_doc() -> ReceiptDoc:
    return ReceiptDoc(
        (
            ReceiptLine("text", "办结回执", bold=True, align="center", double=True),
            ReceiptLine("text", "编号：A1（德城）"),
            ReceiptLine("qr", URL, align="center"),
            ReceiptLine("cut"),
        )
    )


def test_codec_exact_bytes() -> None:
    data = EscPosCodec(get_profile("generic-80mm")).encode(small_doc())
    url = URL.encode()
    qr_store = b"\x1d(k" + bytes([len(url) + 3, 0]) + b"1P0" + url
    expected = (
        b"\x1b@"  # ESC @ initialise
        b"\x1c&"  # FS & Chinese character mode
        b"\x1bE\x01\x1ba\x01\x1d!\x11"  # bold, centre, double width+height
        + "办结回执".encode("gb18030")
        + b"\n"
        + b"\x1bE\x00\x1ba\x00\x1d!\x00"
        + "编号：A1（德城）".encode("gb18030")
        + b"\n"
        + b"\x1bE\x00\x1ba\x01"
        + b"\x1d(k\x04\x001A2\x00"  # QR model 2
        + b"\x1d(k\x03\x001C\x06"  # module 6 dots
        + b"\x1d(k\x03\x001E1"  # error correction M
        + qr_store
        + b"\x1d(k\x03\x001Q0"  # print the symbol
        + b"\x1bd\x06"  # feed 6 lines
        + b"\x1dV\x00"  # GS V full cut
    )
    assert data == expected
    # the GB18030 bytes of CJK punctuation are on the wire unmangled
    assert "：".encode("gb18030") in data
    assert "（德城）".encode("gb18030") == b"\xa3\xa8\xb5\xc2\xb3\xc7\xa3\xa9"
    assert "（德城）".encode("gb18030") in data


def test_codec_adds_cut_and_strips_control_characters() -> None:
    doc = ReceiptDoc((ReceiptLine("text", "张\x1b@\x1dV\x00三"),))
    data = EscPosCodec(get_profile("generic-80mm")).encode(doc)
    assert "张@V三".encode("gb18030") + b"\n" in data  # the ESC, GS and NUL are gone
    assert data.count(b"\x1b@") == 1
    assert data.endswith(b"\x1dV\x00")


def test_codec_without_cutter_feeds_instead() -> None:
    data = EscPosCodec(get_profile("generic-58mm")).encode(small_doc())
    assert b"\x1dV" not in data
    assert data.endswith(b"\x1bd\x06")


def test_codec_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown receipt line kind"):
        EscPosCodec(get_profile("generic-80mm")).encode(ReceiptDoc((ReceiptLine("barcode", "1"),)))


def test_wrap_counts_cjk_as_two_columns() -> None:
    assert display_width("张a") == 3
    assert wrap("一二三四五", 4) == ["一二", "三四", "五"]
    assert wrap("ab一", 3) == ["ab", "一"]


def test_wrap_keeps_english_words_whole() -> None:
    assert wrap("Service: Senior citizen card", 16) == ["Service: Senior", "citizen card"]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]  # one long word still breaks
    assert wrap("ab cd", 2) == ["ab", "cd"]  # the space at the break is dropped
    assert wrap("事项名称一", 4) == ["事项", "名称", "一"]  # CJK breaks anywhere, as before


@pytest.mark.parametrize(
    ("printer", "offline", "paper", "status", "action"),
    [
        (0x12, 0x12, 0x12, DeviceStatus.READY, RequiredAction.NONE),
        (0x12, 0x12, 0x1E, DeviceStatus.MEDIA_LOW, RequiredAction.NONE),
        (0x1A, 0x32, 0x7E, DeviceStatus.NO_MEDIA, RequiredAction.CLEAR_BY_STAFF),
        (0x1A, 0x16, 0x12, DeviceStatus.HARDWARE_ERROR, RequiredAction.CLEAR_BY_STAFF),
        (0x1A, 0x52, 0x12, DeviceStatus.HARDWARE_ERROR, RequiredAction.MAINTENANCE),
    ],
)
def test_interpret_status(
    printer: int, offline: int, paper: int, status: DeviceStatus, action: RequiredAction
) -> None:
    state = interpret_status(printer, offline, paper)
    assert (state.status, state.action) == (status, action)


def test_decoder_round_trip_byte_by_byte() -> None:
    """Commands split across reads (here: one byte per read) decode the same."""
    data = EscPosCodec(get_profile("generic-80mm")).encode(small_doc())
    done: list[DecodedReceipt] = []
    decoder = EscPosDecoder(DecoderHooks(finished=done.append))
    for i in range(len(data)):
        decoder.feed(data[i : i + 1])
    assert len(done) == 1
    receipt = done[0]
    assert receipt.complete
    assert receipt.text == "办结回执\n编号：A1（德城）"
    assert receipt.qr_payloads == [URL]
    title = receipt.lines[0]
    assert (title.bold, title.align, title.double) == (True, "center", True)
    assert decoder.unknown == []


def test_decoder_without_chinese_mode_is_mojibake() -> None:
    """The simulator is strict: GB18030 without FS & does not decode as Chinese."""
    done: list[DecodedReceipt] = []
    decoder = EscPosDecoder(DecoderHooks(finished=done.append))
    decoder.feed(b"\x1b@" + "办结".encode("gb18030") + b"\n\x1dV\x00")
    assert done[0].text != "办结"
