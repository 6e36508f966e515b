"""Fixtures shared by the device tests: the ID card simulator on a real pty and a driver on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.idcard.driver import SerialIdCardReader
from devices.idcard.simulator import IdCardSimulator


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    with IdCardSimulator() as simulator:
        yield simulator


@pytest.fixture
def reader(sim: IdCardSimulator) -> Iterator[SerialIdCardReader]:
    r = SerialIdCardReader(sim.port, poll_interval=0.05, response_timeout=0.4)
    yield r
    r.close()
