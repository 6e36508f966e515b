"""terminal/heap.py: the freed heap goes back to the system on the way to the attract screen, at most
once an interval (glibc's malloc_trim, the real one)."""

from __future__ import annotations

from kiosk.session.machine import Step
from terminal.heap import HeapTrim
from tests.kiosk.test_session import FakeClock


def test_trims_back_on_the_attract_screen_at_most_once_an_interval() -> None:
    clock = FakeClock()
    trim = HeapTrim(min_interval_s=30.0, monotonic=clock)
    clock.advance(31)
    trim(Step.RATING, Step.READ_CARD)  # not the end of a session
    assert trim.trims == 0
    trim(Step.RATING, Step.ATTRACT)
    assert trim.trims == 1
    clock.advance(10)
    trim(Step.READ_CARD, Step.ATTRACT)  # too soon after the last
    assert trim.trims == 1
    clock.advance(21)
    trim(Step.OUT_OF_SERVICE, Step.ATTRACT)
    assert trim.trims == 2
