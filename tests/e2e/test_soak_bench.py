"""bench/soak.py, small: one terminal through a dozen whole sessions with a fault in every other one
(devices unplugged, paper out, platform down or erroring, answers dropped): nothing crashes,
nothing numbered is lost or duplicated, and the terminal is back on the attract screen after each."""

from __future__ import annotations

import pytest

from bench.soak import soak

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
