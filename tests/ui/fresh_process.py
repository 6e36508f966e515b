"""Run a script of this folder in a fresh Python process, as the terminal runs: the on-screen
keyboard's plugin serves a process's first window, and a crash (PySide segfaults on some errors)
ends that process, not the test run.  The script prints its result as JSON on its last line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(script: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "QT_IM_MODULE": "qtvirtualkeyboard",
    }
    return subprocess.run(
        [sys.executable, str(Path(__file__).with_name(script))],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def result_of(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON the script printed last; the process must have ended normally."""
    assert run.returncode == 0, f"{run.args[-1]} ended with {run.returncode}:\n{run.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result
