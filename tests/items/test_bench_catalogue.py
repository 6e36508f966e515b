"""bench/catalogue runs on a small generated catalogue and reports what the issue asks for
(its figures are for `make bench`, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_reports_items_and_search_p95() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.catalogue", "--n", "60"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["items"] == len(list((ROOT / "items").glob("*.json")))
    assert result["generated"] == 60 and result["searches"] > 0
    assert result["search_ms_p95"] >= result["search_ms_p50"] >= 0
