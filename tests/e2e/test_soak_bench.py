"""bench/soak.py, small: one terminal through a dozen whole sessions with a fault in every other one
(devices unplugged, paper out, platform down or erroring, answers dropped): nothing crashes,
nothing numbered is lost or duplicated, and the terminal is back on the attract screen after each."""

from __future__ import annotations

import pytest

from bench.soak import RssSeries, soak

pytestmark = [pytest.mark.slow, pytest.mark.terminal, pytest.mark.models]


def test_a_short_soak_with_faults_keeps_every_case_once() -> None:
    result = soak(0, 12, fault_rate=0.5, ack_wait=0.3, seed=3)
    assert sum(result["faults"].values()) >= 3  # faults were really injected
    assert (result["crashes"], result["lost"], result["duplicated"], result["undefined_states"]) == (
        0,
        0,
        0,
        0,
    )
    assert result["numbered"] >= 1 and result["acknowledged"] == result["numbered"]
    assert len(result["rss"]) == 12


def test_the_rss_series_of_a_long_run_stays_small() -> None:
    """--sessions 100000: the bench keeps tenths' sums and a thousand samples, not every session."""
    series = RssSeries(100_000)
    for n in range(100_000):
        series.add(500.0 if n < 50_000 else 510.0)
    assert len(series.samples) == 1000 and series.latest == 510.0
    assert series.growth_pct() == pytest.approx(2.0)  # last tenth 510 MB against the first 500 MB
    short = RssSeries(12)
    for mb in (100.0, 100.0, 101.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0, 108.0, 109.0, 110.0):
        short.add(mb)
    assert len(short.samples) == 12 and short.growth_pct() == pytest.approx(10.0)
