"""Exact bytes of GA/T 467 frames and the incremental parser."""

from __future__ import annotations

import pytest

from devices.base import DeviceStatus, MediaError, ProtocolError, RequiredAction
from devices.idcard import codec
from devices.idcard.codec import Command, FrameParser, Outcome, SamCode


def h(s: str) -> bytes:
    return bytes.fromhex(s)


@pytest.mark.parametrize(
    ("command", "wire"),
    [
        (Command.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
        (Command.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
        (Command.READ_TEXT_PHOTO, "AA AA AA 96 69 00 03 30 01 32"),
        (Command.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    ],
)
def test_command_frames_exact_bytes(command: Command, wire: str) -> None:
    cmd, para = command.code
    assert codec.encode_command(cmd, para) == h(wire)
    assert codec.encode(command) == h(wire)


def test_encode_command_with_data() -> None:
    # Len = CMD PARA 2 data bytes CHK = 5; CHK = 00^05^12^34^56^78
    assert codec.encode_command(0x12, 0x34, b"\x56\x78") == h("AA AA AA 96 69 00 05 12 34 56 78 0D")


def test_encode_command_rejects_non_bytes() -> None:
    with pytest.raises(ValueError):
        codec.encode_command(0x100, 0)


def test_response_frames_exact_bytes() -> None:
    assert codec.encode_response(SamCode.FIND_FAILED) == h("AA AA AA 96 69 00 04 00 00 80 84")
    assert codec.encode_response(SamCode.FIND_OK, bytes(4)) == h(
        "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"
    )
    assert codec.encode_response(SamCode.SUCCESS, bytes(8)) == h(
        "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C"
    )


def test_read_response_length_field_is_0508() -> None:
    frame = codec.encode_response(SamCode.SUCCESS, codec.encode_read_payload(bytes(256), bytes(1024)))
    assert frame[5:7] == h("05 08")
    assert len(frame) == 5 + 2 + 0x0508


def test_read_payload_round_trip_and_errors() -> None:
    text, photo = bytes(range(256)), bytes(1024)
    payload = codec.decode_read_payload(codec.encode_read_payload(text, photo))
    assert (payload.text, payload.photo) == (text, photo)
    with pytest.raises(ProtocolError):
        codec.decode_read_payload(codec.encode_read_payload(bytes(10), photo))
    with pytest.raises(ProtocolError):
        codec.decode_read_payload(codec.encode_read_payload(text, photo)[:-1])


def test_parser_one_frame() -> None:
    parser = FrameParser()
    [payload] = parser.feed(h("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"))
    frame = codec.decode_response(payload)
    assert (frame.sw1, frame.sw2, frame.sw3, frame.data) == (0, 0, 0x9F, bytes(4))
    assert frame.status.ok
    assert parser.pending == 0


def test_parser_skips_leading_garbage_including_partial_preambles() -> None:
    parser = FrameParser()
    garbage = h("00 FF AA AA 96 AA 13")
    assert parser.feed(garbage + codec.encode_response(SamCode.FIND_FAILED)) == [h("00 00 80")]
    assert parser.discarded == len(garbage)


def test_parser_byte_by_byte_and_trailing_partial() -> None:
    parser = FrameParser()
    stream = codec.encode_response(0x90, b"\x01\x02") + codec.encode_response(0x80)[:6]
    out: list[bytes] = []
    for byte in stream:
        out += parser.feed(bytes([byte]))
    assert out == [h("00 00 90 01 02")]
    assert parser.in_frame
    with pytest.raises(ProtocolError, match="truncated"):
        parser.check_complete()
    assert parser.pending == 0


def test_parser_two_frames_in_one_chunk() -> None:
    parser = FrameParser()
    chunk = codec.encode_response(0x9F, bytes(4)) + codec.encode_response(0x90, bytes(8))
    assert [codec.decode_response(p).sw3 for p in parser.feed(chunk)] == [0x9F, 0x90]


def test_parser_bad_checksum_raises_and_keeps_following_frame() -> None:
    parser = FrameParser()
    bad = bytearray(codec.encode_response(0x90))
    bad[-1] ^= 0x01
    with pytest.raises(codec.FrameChecksumError):
        parser.feed(bytes(bad) + codec.encode_response(0x80))
    assert isinstance(codec.FrameChecksumError("x"), ProtocolError)
    assert [codec.decode_response(p).sw3 for p in parser.feed(b"")] == [0x80]


def test_parser_implausible_length_resyncs() -> None:
    parser = FrameParser()
    with pytest.raises(codec.FrameLengthError):
        parser.feed(h("AA AA AA 96 69 FF FF") + codec.encode_response(0x9F, bytes(4)))
    assert [codec.decode_response(p).sw3 for p in parser.feed(b"")] == [0x9F]


def test_parser_check_complete_ignores_garbage_only() -> None:
    parser = FrameParser()
    parser.feed(b"\x01\x02\x03")
    parser.check_complete()  # garbage is not a truncated frame


def test_command_parser_and_decode() -> None:
    parser = FrameParser(kind="command")
    [payload] = parser.feed(codec.encode(Command.READ_TEXT_PHOTO))
    assert codec.decode_command(payload).command is Command.READ_TEXT_PHOTO
    assert Command.from_code(0x99, 0x99) is None


@pytest.mark.parametrize(
    ("sw3", "outcome", "action", "status"),
    [
        (0x90, Outcome.OK, RequiredAction.NONE, DeviceStatus.READY),
        (0x9F, Outcome.OK, RequiredAction.NONE, DeviceStatus.READY),
        (0x80, Outcome.NO_CARD, RequiredAction.RETRY, DeviceStatus.NO_MEDIA),
        (0x81, Outcome.CARD, RequiredAction.RETRY, DeviceStatus.USER_ERROR),
        (0x41, Outcome.CARD, RequiredAction.RETRY, DeviceStatus.USER_ERROR),
        (0x31, Outcome.CARD, RequiredAction.RETRY, DeviceStatus.USER_ERROR),
        (0x10, Outcome.LINK, RequiredAction.RETRY, DeviceStatus.READY),
        (0x11, Outcome.LINK, RequiredAction.RETRY, DeviceStatus.READY),
        (0x21, Outcome.LINK, RequiredAction.RETRY, DeviceStatus.READY),
        (0x60, Outcome.DEVICE, RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
        (0x66, Outcome.DEVICE, RequiredAction.MAINTENANCE, DeviceStatus.HARDWARE_ERROR),
        (0x77, Outcome.DEVICE, RequiredAction.RESET, DeviceStatus.HARDWARE_ERROR),
    ],
)
def test_sw3_mapping(sw3: int, outcome: Outcome, action: RequiredAction, status: DeviceStatus) -> None:
    result = codec.interpret_sw3(sw3)
    assert (result.outcome, result.action, result.device_status) == (outcome, action, status)
    assert result.ok == (outcome is Outcome.OK)


def test_error_for_families() -> None:
    card = codec.error_for(codec.interpret_sw3(0x41), Command.READ_TEXT_PHOTO)
    assert isinstance(card, codec.CardError) and isinstance(card, MediaError)
    assert card.action is RequiredAction.RETRY
    assert isinstance(codec.error_for(codec.interpret_sw3(0x10), Command.FIND_CARD), ProtocolError)
    fault = codec.error_for(codec.interpret_sw3(0x60), Command.SAM_STATUS)
    assert isinstance(fault, codec.SamFault)
    assert fault.action is RequiredAction.MAINTENANCE
