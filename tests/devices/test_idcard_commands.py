"""The remaining GA/T 467 commands, SW3 retry policy and fault injection, over a real pty."""

from __future__ import annotations

import logging
import time

import pytest

from devices.base import DeviceStatus, DeviceTimeout, RequiredAction
from devices.idcard import codec
from devices.idcard.codec import CardError, Command, Outcome, SamCode, SamFault
from devices.idcard.driver import CardDetails, SerialIdCardReader
from devices.idcard.sim_cards import EXTRA_CARDS, SIM_CARDS
from devices.idcard.simulator import IdCardSimulator
from devices.interfaces import IdCardRead


def h(s: str) -> bytes:
    return bytes.fromhex(s)


# ------------------------------------------------------------------ codec
@pytest.mark.parametrize(
    ("command", "wire"),
    [
        (Command.RESET_SAM, "AA AA AA 96 69 00 03 10 FF EC"),
        (Command.SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
        (Command.READ_TEXT_PHOTO_FINGERPRINT, "AA AA AA 96 69 00 03 30 10 23"),
        (Command.READ_APPENDED_ADDRESS, "AA AA AA 96 69 00 03 30 03 30"),
    ],
)
def test_new_command_frames_exact_bytes(command: Command, wire: str) -> None:
    assert codec.encode(command) == h(wire)
    assert codec.decode_command(h(wire)[7:-1]).command is command


@pytest.mark.parametrize(
    ("baud", "wire"),
    [
        (115200, "AA AA AA 96 69 00 03 60 00 63"),
        (57600, "AA AA AA 96 69 00 03 60 01 62"),
        (38400, "AA AA AA 96 69 00 03 60 02 61"),
        (19200, "AA AA AA 96 69 00 03 60 03 60"),
        (9600, "AA AA AA 96 69 00 03 60 04 67"),
    ],
)
def test_baud_frames(baud: int, wire: str) -> None:
    assert codec.encode_set_baud(baud) == h(wire)
    assert codec.decode_command(h(wire)[7:-1]).command is Command.SET_BAUD


def test_unsupported_baud_rejected() -> None:
    with pytest.raises(ValueError, match="unsupported baud"):
        codec.encode_set_baud(4800)


def test_sam_id_format_and_short_data() -> None:
    data = codec.encode_sam_id(5, 1, 20101117, 123456, 654321)
    assert len(data) == codec.SAM_ID_SIZE
    assert codec.format_sam_id(data) == "05.01-20101117-0000123456-0000654321"
    with pytest.raises(codec.ProtocolError):
        codec.format_sam_id(data[:10])


def test_fp_payload_round_trip_and_short() -> None:
    text, photo, fp = b"t" * 256, b"p" * 1024, b"f" * 1024
    data = codec.encode_read_fp_payload(text, photo, fp)
    assert data[:6] == h("0100 0400 0400")
    decoded = codec.decode_read_fp_payload(data)
    assert (decoded.text, decoded.photo, decoded.fingerprint) == (text, photo, fp)
    assert codec.decode_read_fp_payload(codec.encode_read_fp_payload(text, photo, b"")).fingerprint == b""
    with pytest.raises(codec.ProtocolError, match="shorter"):
        codec.decode_read_fp_payload(data[:-1])
    assert "fff" not in repr(decoded)


@pytest.mark.parametrize(
    ("sw3", "outcome", "action"),
    [
        (0x80, Outcome.NO_CARD, RequiredAction.RETRY),  # keep polling
        (0x41, Outcome.CARD, RequiredAction.RETRY),
        (0x31, Outcome.CARD, RequiredAction.RETRY),  # driver: retry once, then hardware error
        (0x32, Outcome.CARD, RequiredAction.RETRY),
        (0x33, Outcome.CARD, RequiredAction.RETRY),
        (0x60, Outcome.DEVICE, RequiredAction.MAINTENANCE),
        (0x10, Outcome.LINK, RequiredAction.RETRY),  # driver: resync and resend
        (0x11, Outcome.LINK, RequiredAction.RETRY),
        (0x21, Outcome.LINK, RequiredAction.RETRY),
    ],
)
def test_issue_sw3_table(sw3: int, outcome: Outcome, action: RequiredAction) -> None:
    status = codec.interpret_sw3(sw3)
    assert (status.outcome, status.action) == (outcome, action)


# ------------------------------------------------------------------ driver over the pty
def test_reset_sam(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    reader.reset_sam()
    assert sim.resets == 1
    assert reader.status() is DeviceStatus.READY
    assert sim.commands[-2:] == [Command.RESET_SAM, Command.SAM_STATUS]


def test_sam_id(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    assert reader.sam_id() == "05.01-20101117-0000123456-0000654321"
    sim.sam_id = (6, 2, 20200101, 1, 42)
    assert reader.sam_id() == "06.02-20200101-0000000001-0000000042"


def test_read_details_with_fingerprint_and_appended_address(
    sim: IdCardSimulator, reader: SerialIdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    sim.insert("fingerprint")
    with caplog.at_level(logging.DEBUG, logger="devices.idcard.wire"):
        details = reader.read_details(timeout=1.0)
    assert isinstance(details, CardDetails)
    assert isinstance(details.read, IdCardRead)
    assert details.read.text == EXTRA_CARDS["fingerprint"].text
    assert details.fingerprint == bytes(range(256)) * 4
    assert details.appended_address == "山东省德州市德城区东风中路100号"
    assert Command.READ_TEXT_PHOTO_FINGERPRINT in sim.commands
    assert Command.READ_APPENDED_ADDRESS in sim.commands
    wire = "\n".join(r.getMessage() for r in caplog.records)
    assert "redacted" in wire
    assert "东风" not in wire
    # the UCS-2 bytes of the address never reach the wire log
    assert "1c 4e" not in wire.lower()


def test_read_details_without_fingerprint_or_address(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.insert("business")
    details = reader.read_details(timeout=1.0)
    assert details is not None
    assert details.fingerprint == b""
    assert details.appended_address is None
    assert details.read.text == SIM_CARDS["business"].text


def test_read_details_no_card(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    assert reader.read_details(timeout=0.2) is None
    assert reader.status() is DeviceStatus.NO_MEDIA


def test_set_baudrate_switches_sam_and_port(sim: IdCardSimulator) -> None:
    sim.baudrate = 115200
    reader = SerialIdCardReader(sim.port, 115200, poll_interval=0.05, response_timeout=0.5)
    try:
        sim.insert("senior")
        reader.set_baudrate(57600)
        assert sim.baudrate == 57600
        assert sim.commands[-2:] == [Command.SET_BAUD, Command.SAM_STATUS]
        result = reader.read_card(timeout=1.0)
        assert result is not None and result.text == SIM_CARDS["senior"].text
        with pytest.raises(ValueError, match="unsupported"):
            reader.set_baudrate(12345)
    finally:
        reader.close()


# ------------------------------------------------------------------ SW3 policy
@pytest.mark.parametrize("sw3", [0x31, 0x32, 0x33])
def test_auth_failure_once_is_retried(sim: IdCardSimulator, reader: SerialIdCardReader, sw3: int) -> None:
    sim.insert("senior")
    sim.faults.sw3[Command.READ_TEXT_PHOTO] = [sw3]
    result = reader.read_card(timeout=1.0)
    assert result is not None and result.text == SIM_CARDS["senior"].text
    assert sim.commands.count(Command.READ_TEXT_PHOTO) == 2
    assert sim.commands.count(Command.FIND_CARD) == 2  # the whole sequence was repeated


@pytest.mark.parametrize("sw3", [0x31, 0x32, 0x33])
def test_auth_failure_twice_is_hardware_error(
    sim: IdCardSimulator, reader: SerialIdCardReader, sw3: int
) -> None:
    sim.insert("senior")
    sim.faults.sw3[Command.SELECT_CARD] = [sw3, sw3]
    with pytest.raises(SamFault) as info:
        reader.read_card(timeout=1.0)
    assert info.value.status is DeviceStatus.HARDWARE_ERROR
    assert info.value.action is RequiredAction.RESET
    assert info.value.sam_status is not None and info.value.sam_status.code == sw3
    assert reader.status() is DeviceStatus.HARDWARE_ERROR
    assert sim.commands.count(Command.SELECT_CARD) == 2
    assert sim.commands.count(Command.READ_TEXT_PHOTO) == 0


@pytest.mark.parametrize("sw3", [0x10, 0x11, 0x21])
def test_link_status_resyncs_and_resends(sim: IdCardSimulator, reader: SerialIdCardReader, sw3: int) -> None:
    sim.insert("business")
    sim.faults.sw3[Command.READ_TEXT_PHOTO] = [sw3]
    result = reader.read_card(timeout=1.0)
    assert result is not None and result.text == SIM_CARDS["business"].text
    assert sim.commands.count(Command.READ_TEXT_PHOTO) == 2
    assert sim.commands.count(Command.SELECT_CARD) == 1  # only the garbled command was resent


def test_link_status_persisting_is_typed_error(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert("business")
    sim.faults.sw3[Command.READ_TEXT_PHOTO] = [0x10, 0x10, 0x10]
    with pytest.raises(codec.SamLinkError) as info:
        reader.read_card(timeout=1.0)
    assert info.value.action is RequiredAction.RETRY
    assert sim.commands.count(Command.READ_TEXT_PHOTO) == 3


def test_read_failed_41_is_card_error_retry(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert("senior")
    sim.faults.sw3[Command.READ_TEXT_PHOTO] = [0x41]
    with pytest.raises(CardError) as info:
        reader.read_card(timeout=1.0)
    assert info.value.action is RequiredAction.RETRY
    assert reader.status() is DeviceStatus.USER_ERROR
    assert reader.read_card(timeout=1.0) is not None  # the citizen's retry works


# ------------------------------------------------------------------ faults
def test_sam_self_test_failure_on_open_is_maintenance(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.faults.self_test_failed = True
    with pytest.raises(SamFault) as info:
        reader.open()
    assert info.value.action is RequiredAction.MAINTENANCE
    assert info.value.status is DeviceStatus.HARDWARE_ERROR
    assert info.value.sam_status is not None and info.value.sam_status.code == SamCode.SAM_SELF_TEST_FAILED
    assert reader.status() is DeviceStatus.HARDWARE_ERROR


def test_sam_self_test_failure_while_polling(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    reader.open()
    sim.faults.self_test_failed = True
    with pytest.raises(SamFault) as info:
        reader.read_card(timeout=1.0)
    assert info.value.action is RequiredAction.MAINTENANCE
    with pytest.raises(SamFault):
        reader.reset_sam()  # reset answers, but the status after it still says 60
    sim.faults.self_test_failed = False
    reader.reset_sam()
    assert reader.status() is DeviceStatus.READY


def test_slow_module_within_timeout_reads(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert("expired")
    sim.faults.delay = 0.1
    start = time.monotonic()
    result = reader.read_card(timeout=1.0)
    assert result is not None and result.text == SIM_CARDS["expired"].text
    assert time.monotonic() - start >= 0.3  # sam status, find, select, read: 4 slow answers


def test_slow_module_beyond_timeout_is_device_timeout(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.faults.delay = 0.6  # longer than response_timeout 0.4
    with pytest.raises(DeviceTimeout) as info:
        reader.open()
    assert info.value.action is RequiredAction.RETRY
    assert reader.status() is DeviceStatus.OFFLINE
    sim.faults.delay = 0.0
    time.sleep(0.4)  # the late answer arrives and is dropped by the next command
    reader.open()
    assert reader.status() is DeviceStatus.READY


def test_simulator_paces_at_its_baud_rate() -> None:
    with IdCardSimulator("senior", baudrate=115200) as sim:
        reader = SerialIdCardReader(sim.port, poll_interval=0.05, response_timeout=1.0)
        try:
            reader.open()
            start = time.perf_counter()
            assert reader.read_card(timeout=1.0) is not None
            elapsed = time.perf_counter() - start
        finally:
            reader.close()
    # 1359 bytes of find/select/read frames = 118 ms at 115200 baud (10 bits a byte)
    assert 0.115 <= elapsed < 0.5
