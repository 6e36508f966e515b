"""SerialIdCardReader against IdCardSimulator over a real pty."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devices.base import (
    DeviceNotFound,
    DeviceStatus,
    DeviceTimeout,
    MediaError,
    ProtocolError,
    RequiredAction,
)
from devices.idcard.codec import CardError, Command
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.sim_cards import CAMERA_MEDIA_DIR, SIM_CARDS, SimCard
from devices.idcard.simulator import IdCardSimulator
from devices.interfaces import IdCardReader, PhotoDecoder

REPO = Path(__file__).resolve().parents[2]
SHARED_FACES = Path("/work/shared/testdata/faces")
# The demo citizens' card photo sources; used until devices/camera/media/ is populated.
SHARED_PHOTOS = {
    "obama_card.jpg": "tests_test_images_obama.jpg",
    "biden_card.jpg": "tests_test_images_biden.jpg",
    "kit_card.jpg": "knn_examples_train_kit_harington_john1.jpeg",
}


def card(key: str) -> SimCard:
    sim = SIM_CARDS[key]
    if sim.photo_path.exists():
        return sim
    return dataclasses.replace(sim, photo_path=SHARED_FACES / SHARED_PHOTOS[sim.photo_path.name])


def test_library_points_at_camera_media() -> None:
    assert CAMERA_MEDIA_DIR == REPO / "devices" / "camera" / "media"
    assert {k: c.photo_path.name for k, c in SIM_CARDS.items()} == {
        "senior": "obama_card.jpg",
        "business": "biden_card.jpg",
        "expired": "kit_card.jpg",
    }


def test_implements_interfaces(reader: SerialIdCardReader) -> None:
    assert isinstance(reader, IdCardReader)
    assert isinstance(SimulatorPhotoDecoder(), PhotoDecoder)
    assert reader.status() is DeviceStatus.OFFLINE  # not opened yet


@pytest.mark.parametrize("key", ["senior", "business", "expired"])
def test_reads_each_citizen(sim: IdCardSimulator, reader: SerialIdCardReader, key: str) -> None:
    sim.insert(card(key))
    before = dt.datetime.now().astimezone()
    result = reader.read_card(timeout=2.0)
    assert result is not None
    assert result.text == SIM_CARDS[key].text  # every field exactly
    assert before <= result.read_at <= dt.datetime.now().astimezone()
    assert len(result.photo_raw) == 1024
    image = SimulatorPhotoDecoder().decode(result.photo_raw)
    assert image is not None
    assert image.shape == (126, 102, 3)
    assert reader.status() is DeviceStatus.READY
    assert sim.commands == [
        Command.SAM_STATUS,
        Command.FIND_CARD,
        Command.SELECT_CARD,
        Command.READ_TEXT_PHOTO,
    ]


def test_exact_field_values_business(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert(card("business"))
    result = reader.read_card(timeout=2.0)
    assert result is not None
    t = result.text
    assert (t.name, t.sex, t.nation, t.id_number) == ("李建国", "1", "01", "37140219880721003X")
    assert t.address == "山东省德州市德城区东风中路88号"
    assert t.authority == "德州市公安局德城分局"
    assert (t.birth_date, t.valid_from, t.valid_until) == (
        dt.date(1988, 7, 21),
        dt.date(2018, 9, 10),
        dt.date(2038, 9, 10),
    )


def test_photo_decoder_rejects_wlt_like_blocks() -> None:
    decoder = SimulatorPhotoDecoder()
    assert decoder.decode(b"WLf" + bytes(1021)) is None
    assert decoder.decode(bytes(1024)) is None
    assert decoder.decode(b"RIFF\x10\x00\x00\x00WEBP" + bytes(1012)) is None


def test_no_card_returns_none_within_timeout(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    start = time.monotonic()
    assert reader.read_card(timeout=0.5) is None
    elapsed = time.monotonic() - start
    assert 0.45 <= elapsed < 1.2
    assert reader.status() is DeviceStatus.NO_MEDIA
    assert sim.commands.count(Command.FIND_CARD) >= 3  # it polled


def test_card_inserted_while_polling(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    holder: dict[str, object] = {}
    worker = threading.Thread(target=lambda: holder.update(result=reader.read_card(timeout=3.0)))
    worker.start()
    deadline = time.monotonic() + 2
    while reader.status() is not DeviceStatus.NO_MEDIA and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reader.status() is DeviceStatus.NO_MEDIA  # observed from this thread mid-poll
    sim.insert(card("senior"))
    worker.join(timeout=5)
    result = holder["result"]
    assert result is not None
    assert reader.status() is DeviceStatus.READY


def test_cancel_stops_polling(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    holder: dict[str, object] = {}
    worker = threading.Thread(target=lambda: holder.update(result=reader.read_card(timeout=10.0)))
    start = time.monotonic()
    worker.start()
    time.sleep(0.2)
    reader.cancel()
    worker.join(timeout=5)
    assert holder == {"result": None}
    assert time.monotonic() - start < 2


def test_card_removed_after_select(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert(card("senior"))
    sim.faults.remove_after_select = True
    with pytest.raises(CardError) as info:
        reader.read_card(timeout=2.0)
    assert isinstance(info.value, MediaError)
    assert info.value.action is RequiredAction.RETRY
    assert info.value.sam_status is not None and info.value.sam_status.code == 0x41
    assert reader.status() is DeviceStatus.USER_ERROR
    assert reader.last_error is info.value
    # the card is gone now: the next poll just finds nothing
    assert reader.read_card(timeout=0.2) is None
    assert reader.status() is DeviceStatus.NO_MEDIA


def test_bad_checksum_is_protocol_error_and_recovers(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.insert(card("business"))
    reader.open()
    sim.faults.bad_checksum = True
    with pytest.raises(ProtocolError, match="checksum") as info:
        reader.read_card(timeout=1.0)
    assert info.value.action is RequiredAction.RETRY
    sim.faults.bad_checksum = False
    assert reader.read_card(timeout=1.0) is not None


def test_truncated_frame_is_protocol_error_and_recovers(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.insert(card("expired"))
    reader.open()
    sim.faults.truncate = True
    start = time.monotonic()
    with pytest.raises(ProtocolError, match="truncated"):
        reader.read_card(timeout=1.0)
    assert time.monotonic() - start < 1.5  # bounded by response_timeout
    sim.faults.truncate = False
    result = reader.read_card(timeout=1.0)
    assert result is not None and result.text.id_number == "371428197911020016"


def test_silent_reader_times_out(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.faults.silent = True
    start = time.monotonic()
    with pytest.raises(DeviceTimeout) as info:
        reader.read_card(timeout=1.0)
    assert 0.35 <= time.monotonic() - start < 1.5
    assert info.value.action is RequiredAction.RETRY
    assert reader.status() is DeviceStatus.OFFLINE


def test_late_answer_is_dropped_before_next_command(
    sim: IdCardSimulator, reader: SerialIdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    sim.insert(card("senior"))
    reader.open()
    sim.read_delay = 0.6  # longer than response_timeout (0.4)
    with pytest.raises(DeviceTimeout):
        reader.read_card(timeout=1.0)
    sim.read_delay = 0.0
    time.sleep(0.4)  # the late read answer is now waiting in the pty
    with caplog.at_level(logging.DEBUG, logger="devices.idcard.wire"):
        result = reader.read_card(timeout=1.0)
    assert result is not None and result.text == SIM_CARDS["senior"].text
    # the 1295-byte late frame was discarded, not taken as the answer to find_card
    assert any("dropped 1295 stale bytes" in r.getMessage() for r in caplog.records)


def test_unplug_is_device_not_found(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert(card("senior"))
    assert reader.read_card(timeout=1.0) is not None
    sim.unplug()
    with pytest.raises(DeviceNotFound) as info:
        reader.read_card(timeout=1.0)
    assert info.value.action is RequiredAction.MAINTENANCE
    assert reader.status() is DeviceStatus.OFFLINE
    # reconnecting to a vanished port fails the same way, promptly
    start = time.monotonic()
    with pytest.raises(DeviceNotFound):
        reader.read_card(timeout=1.0)
    assert time.monotonic() - start < 1.0
    assert reader.status() is DeviceStatus.OFFLINE


def test_unplug_while_polling(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            reader.read_card(timeout=5.0)
        except BaseException as err:
            errors.append(err)

    worker = threading.Thread(target=work)
    worker.start()
    time.sleep(0.3)
    sim.unplug()
    worker.join(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], DeviceNotFound)
    assert reader.status() is DeviceStatus.OFFLINE


def test_missing_port_is_device_not_found(tmp_path: Path) -> None:
    reader = SerialIdCardReader(str(tmp_path / "ttyNOPE"))
    with pytest.raises(DeviceNotFound):
        reader.read_card(timeout=0.1)
    assert reader.status() is DeviceStatus.OFFLINE


def test_wire_log_redacts_card_contents(
    sim: IdCardSimulator, reader: SerialIdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    sim.insert(card("business"))
    with caplog.at_level(logging.DEBUG, logger="devices.idcard"):
        assert reader.read_card(timeout=1.0) is not None
    wire = [r.getMessage() for r in caplog.records if r.name == "devices.idcard.wire"]
    assert any("tx find_card: aa aa aa 96 69 00 03 20 01 22" in m for m in wire)
    assert any("redacted" in m for m in wire)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("李建国", "37140219880721003X", "3714", "东风中路"):
        assert secret not in text
    assert "3700310034003100" not in text.replace(" ", "")  # "3714" in UCS-2LE hex


def test_simulator_runs_as_a_process() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-m", "devices.idcard.simulator"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            port = proc.stdout.readline().strip()
            assert Path(port).resolve().as_posix().startswith("/dev/pts/")  # a by-id style link
            reader = SerialIdCardReader(port, poll_interval=0.05, response_timeout=1.0)
            try:
                assert reader.read_card(timeout=0.3) is None
                assert reader.status() is DeviceStatus.NO_MEDIA
            finally:
                reader.close()
        finally:
            proc.terminate()
            assert proc.wait(timeout=5) == 0
    assert not Path(port).is_symlink()  # the name went with the simulator
