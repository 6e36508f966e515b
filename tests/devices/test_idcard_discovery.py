"""Finding the reader among several ports; stable by-id style symlinks."""

from __future__ import annotations

import os
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceNotFound, DeviceStatus, DeviceTimeout
from devices.idcard.discovery import CANDIDATE_PATTERNS, default_candidates, find_reader, probe
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.sim_cards import SIM_CARDS
from devices.idcard.simulator import IdCardSimulator


@pytest.fixture
def dead_ptys() -> Iterator[list[str]]:
    """Three ptys nobody answers on (an idle modem line, a console...)."""
    fds: list[int] = []
    names: list[str] = []
    for _ in range(3):
        master, slave = os.openpty()
        tty.setraw(slave)
        fds += [master, slave]
        names.append(os.ttyname(slave))
    yield names
    for fd in fds:
        os.close(fd)


@pytest.fixture
def noisy_pty() -> Iterator[str]:
    """A pty whose other end answers every write with garbage (another device)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    os.write(master, b"\x00\xff garbage that is not a frame \xaa\xaa\x01")
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_find_reader_among_other_ports(dead_ptys: list[str], noisy_pty: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "ttyUSB9")
    with IdCardSimulator() as sim:
        candidates = [missing, dead_ptys[0], noisy_pty, dead_ptys[1], sim.port, dead_ptys[2]]
        start = time.monotonic()
        assert find_reader(candidates, timeout=0.2) == sim.port
        assert time.monotonic() - start < 2.0
    assert find_reader([missing, *dead_ptys, noisy_pty], timeout=0.1) is None


def test_probe_counts_fault_status_as_reader(dead_ptys: list[str]) -> None:
    with IdCardSimulator() as sim:
        sim.faults.self_test_failed = True  # answers 60: the reader is there, just unhealthy
        assert probe(sim.port, timeout=0.3)
    assert not probe(dead_ptys[0], timeout=0.1)


def test_reader_reappears_under_another_name(dead_ptys: list[str]) -> None:
    first = IdCardSimulator("senior").start()
    reader = SerialIdCardReader(first.port, poll_interval=0.05, response_timeout=0.3)
    try:
        assert reader.read_card(timeout=1.0) is not None
        first.unplug()
        with IdCardSimulator("business") as second:  # re-enumerated: a new /dev name
            port = find_reader([first.port, *dead_ptys, second.port], timeout=0.1)
            assert port == second.port
            reader.close()
            reader = SerialIdCardReader(port, poll_interval=0.05, response_timeout=0.3)
            result = reader.read_card(timeout=1.0)
            assert result is not None and result.text == SIM_CARDS["business"].text
    finally:
        reader.close()
        first.stop()


def test_by_id_symlink_path(tmp_path: Path) -> None:
    with IdCardSimulator("expired") as sim:
        link = tmp_path / "usb-SYNJONES_SAM_READER_0001-if00-port0"
        link.symlink_to(sim.port)
        assert find_reader([str(link)], timeout=0.3) == str(link)
        reader = SerialIdCardReader(str(link), response_timeout=0.4)
        try:
            result = reader.read_card(timeout=1.0)
            assert result is not None and result.text == SIM_CARDS["expired"].text
        finally:
            reader.close()


def test_default_candidates_order() -> None:
    assert CANDIDATE_PATTERNS[0] == "/dev/serial/by-id/*"
    found = default_candidates()
    assert all(p.startswith(("/dev/serial/by-id/", "/dev/ttyUSB", "/dev/ttyACM", "/dev/ttyS")) for p in found)
    by_id = [i for i, p in enumerate(found) if p.startswith("/dev/serial/by-id/")]
    others = [i for i, p in enumerate(found) if not p.startswith("/dev/serial/by-id/")]
    assert not by_id or not others or max(by_id) < min(others)


def test_simulator_port_name_is_never_reused(dead_ptys: list[str]) -> None:
    """The simulator's port is a by-id style name that vanishes on unplug and is unique per
    simulator: a freed /dev/pts number handed to another process's pty (parallel test runs)
    can never make a vanished reader's name answer again."""
    first = IdCardSimulator("senior").start()
    old_port, old_pty = first.port, first.pty_name
    assert Path(old_port).resolve() == Path(old_pty)
    first.unplug()
    assert not Path(old_port).exists() and not Path(old_port).is_symlink()
    with IdCardSimulator("business") as second:
        assert second.port != old_port
        assert not probe(old_port, timeout=0.1)
        reader = SerialIdCardReader(old_port, response_timeout=0.3)
        try:
            with pytest.raises(DeviceNotFound):
                reader.read_card(timeout=0.2)
        finally:
            reader.close()


def test_driver_relocates_by_probing_candidates(dead_ptys: list[str], tmp_path: Path) -> None:
    first = IdCardSimulator("senior").start()
    # the configured name, a stable by-id style link the test controls (udev's role): it is
    # removed when the reader goes and later taken by a silent device
    stable = tmp_path / "usb-SYNJONES_SAM_READER_0001-if00-port0"
    stable.symlink_to(first.port)
    second: IdCardSimulator | None = None
    extra: list[int] = []

    def candidates() -> list[str]:
        return [*dead_ptys, str(stable)] + ([second.port] if second is not None else [])

    reader = SerialIdCardReader(str(stable), poll_interval=0.05, response_timeout=0.3, candidates=candidates)
    try:
        assert reader.read_card(timeout=1.0) is not None
        first.unplug()
        stable.unlink()
        with pytest.raises(DeviceNotFound):
            reader.read_card(timeout=0.5)  # EIO on the old port
        with pytest.raises(DeviceNotFound):
            reader.read_card(timeout=0.5)  # not back yet: nothing answers on any candidate
        master, slave = os.openpty()  # a silent device takes the old name; the reader comes back elsewhere
        tty.setraw(slave)
        extra += [master, slave]
        stable.symlink_to(os.ttyname(slave))
        with pytest.raises(DeviceTimeout):
            reader.read_card(timeout=0.5)  # the old name answers nothing, no reader elsewhere yet
        second = IdCardSimulator("business").start()
        result = reader.read_card(timeout=1.0)
        assert result is not None and result.text == SIM_CARDS["business"].text
        assert reader.port == second.port
        assert reader.status() is DeviceStatus.READY
    finally:
        reader.close()
        first.stop()
        if second is not None:
            second.stop()
        for fd in extra:
            os.close(fd)
