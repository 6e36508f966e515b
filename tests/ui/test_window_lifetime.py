"""Windows come and go while their facade lives on (KioskUi.close, every test that makes a
terminal): a closed and deleted window keeps no connection to the facade, nothing it queued runs
on its deleted widgets, and a slot of the window that fails logs it and shows the problem line
instead of raising into Qt.  In a fresh process (tests/ui/window_after_close_run.py), because
PySide 6.11 turns such an error into a segfault at the next Python event filter."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.ui.fresh_process import result_of, run_fresh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run() -> subprocess.CompletedProcess[str]:
    return run_fresh("window_after_close_run.py")


@pytest.fixture(scope="module")
def result(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    return result_of(run)  # the process ended normally: no segfault, no error left pending


def test_facade_signals_after_the_windows_are_deleted_reach_nothing(
    run: subprocess.CompletedProcess[str], result: dict[str, Any]
) -> None:
    assert result["windows"] == 3 and result["deleted"]
    assert result["emitted"] >= 21  # every signal of the facade, and those the window's parts follow
    # nothing ran on a deleted widget: no slot raised (Python prints those on stderr) ...
    assert "Traceback" not in run.stderr, run.stderr[-4000:]
    assert "already deleted" not in run.stderr
    assert result["errors_before"] == []  # ... and none failed and said so


def test_a_new_window_on_the_same_facade_still_follows_it(result: dict[str, Any]) -> None:
    assert result["busy_shown"] and result["bug_shown"]
    assert result["idle_banner_shown"] and result["idle_banner_hidden"]
    assert result["language_switched"]


def test_a_window_slot_that_fails_shows_the_problem_and_logs_it(result: dict[str, Any]) -> None:
    assert result["failed_slot_shows_problem"]
    assert result["errors_logged"] == [
        "KioskWindow.show_step failed: RuntimeError('a screen that cannot enter')"
    ]
