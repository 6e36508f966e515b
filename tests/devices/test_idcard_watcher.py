"""Card placed / removed detection over the simulator on a real pty."""

from __future__ import annotations

import queue
import time

import pytest

from devices.base import DeviceError, DeviceNotFound
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.simulator import IdCardSimulator
from devices.idcard.watcher import CardEvent, CardWatcher


def test_card_present(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    assert reader.card_present() is False
    sim.insert("senior")
    assert reader.card_present() is True
    sim.remove()
    assert reader.card_present() is False


def test_poll_transitions(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    watcher = CardWatcher(reader, interval=0.05)
    assert watcher.poll() is None
    sim.insert("business")
    assert watcher.poll() is CardEvent.PLACED
    assert watcher.poll() is None  # still there: no event
    assert watcher.present
    sim.remove()
    assert watcher.poll() is CardEvent.REMOVED
    assert watcher.poll() is None


def test_card_already_on_reader_is_placed() -> None:
    with IdCardSimulator("senior") as sim:
        reader = SerialIdCardReader(sim.port, response_timeout=0.4)
        try:
            assert CardWatcher(reader).poll() is CardEvent.PLACED
        finally:
            reader.close()


def test_interval_must_be_positive(reader: SerialIdCardReader) -> None:
    with pytest.raises(ValueError, match="interval"):
        CardWatcher(reader, interval=0)


def test_background_thread_reports_events_at_interval(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    events: queue.Queue[tuple[CardEvent, float]] = queue.Queue()
    watcher = CardWatcher(reader, interval=0.05, on_event=lambda e: events.put((e, time.monotonic())))
    watcher.start()
    try:
        time.sleep(0.15)
        placed_at = time.monotonic()
        sim.insert("expired")
        event, seen = events.get(timeout=2)
        assert event is CardEvent.PLACED
        assert seen - placed_at < 0.3  # within a few intervals
        sim.remove()
        assert events.get(timeout=2)[0] is CardEvent.REMOVED
        assert events.empty()
        find_count = len(sim.commands)
        time.sleep(0.3)
        polls = len(sim.commands) - find_count
        assert 3 <= polls <= 8  # ~6 polls at 50 ms in 0.3 s
    finally:
        watcher.stop()


def test_errors_go_to_on_error_and_polling_resumes(sim: IdCardSimulator) -> None:
    reader = SerialIdCardReader(sim.port, response_timeout=0.3)
    errors: queue.Queue[DeviceError] = queue.Queue()
    events: queue.Queue[CardEvent] = queue.Queue()
    watcher = CardWatcher(reader, interval=0.05, on_event=events.put, on_error=errors.put)
    watcher.start()
    try:
        sim.insert("senior")
        assert events.get(timeout=2) is CardEvent.PLACED
        sim.unplug()
        assert isinstance(errors.get(timeout=2), DeviceNotFound)
        assert events.empty()
    finally:
        watcher.stop()
        reader.close()
