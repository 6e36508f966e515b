"""Fuzzing in CI (issue 17): every parser that reads outside bytes, through hypothesis.

Each target runs a modest number of examples here (``FUZZ_EXAMPLES``, about a minute for all);
``python -m bench.fuzz`` runs the same targets with many more.  A target fails when its parser
lets anything but its own typed errors escape, or takes longer than the deadline for one input.
"""

from __future__ import annotations

import os
import resource
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings

from tests.fuzz.targets import Target, targets

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
#: CPU seconds per input (CPU, not wall time: the CI machine is shared); the slowest parser (a rule
#: package through jsonschema and zen) takes tens of ms.
CPU_LIMIT_S = 2.0
#: Peak RSS may grow this much over a whole target (a decompression bomb would be ~1 GB).
RSS_GROWTH_LIMIT = 300 * 1024 * 1024


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.mark.parametrize("target", targets(), ids=lambda t: t.name)
def test_no_unhandled_exception(target: Target) -> None:
    before = _rss()

    @seed(17)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @given(target.strategy)
    def check(value: Any) -> None:
        t0 = time.process_time()
        try:
            target.run(value)
        except target.allowed:
            pass
        spent = time.process_time() - t0
        assert spent < CPU_LIMIT_S, f"{spent:.2f} CPU s for one input"

    check()
    assert _rss() - before < RSS_GROWTH_LIMIT
