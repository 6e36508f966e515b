"""A power cut at any point of an update leaves a runnable release.

The update runs in a child process (tests/update/kill_driver.py) that kills itself just before
its N-th change on disk (rename, symlink, unlink, rmtree), for every N of a whole update, on the
path where the new release is kept and on the one where it is rolled back.  Then the terminal
"boots": the real launcher settles what was left and starts ``current``, which must report
healthy; a later update run then ends the way an uninterrupted one does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.update.conftest import REPO, Bench


def _drive(bench: Bench, scenario: str, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.update.kill_driver",
            bench.server.url,
            str(bench.root),
            str(bench.health),
            str(bench.trusted_root),
            scenario,
            str(kill_at),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _changes(bench: Bench, scenario: str) -> int:
    """How many changes an uninterrupted update makes."""
    done = _drive(bench, scenario, 0)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("changes=")[1])


@pytest.mark.slow
@pytest.mark.crash
@pytest.mark.parametrize("scenario", ["confirm", "rollback"])
def test_a_kill_before_each_change_leaves_a_runnable_release(
    bench: Bench, scenario: str, tmp_path: Path
) -> None:
    bench.publish("1.0.0")
    assert bench.updater().apply().result == "installed"
    bench.service.wait_healthy("1.0.0")
    bench.service.stop()
    bench.publish("1.1.0")
    # the whole run once, for the count; then back to the state before it
    snapshot = tmp_path / "snapshot"
    subprocess.run(["cp", "-a", str(bench.root), str(snapshot)], check=True)
    total = _changes(bench, scenario)
    assert total >= 8
    outcomes: set[str] = set()
    for kill_at in range(1, total + 1):
        subprocess.run(["rm", "-rf", str(bench.root)], check=True)
        subprocess.run(["cp", "-a", str(snapshot), str(bench.root)], check=True)
        killed = _drive(bench, scenario, kill_at)
        assert killed.returncode == -9, (kill_at, killed.stdout, killed.stderr)
        # the boot after the power cut: settle, then run current
        service = type(bench.service)(bench.root, bench.health, bench.service.log_dir)
        try:
            service.restart()
            running = service.wait_running(30)
            current = bench.store.current_version()
            assert running.version == current, (kill_at, running, current)
            assert current in {"1.0.0", "1.1.0"}, (kill_at, current)
            assert current not in bench.store.failed(), (kill_at, current)
            assert bench.store.current_dir() is not None
            assert not list((bench.root / "releases").glob(".incoming-*"))
            trial = bench.store.trial()
            assert trial is None or trial.version == current
            outcomes.add(current)
        finally:
            service.stop()
    assert outcomes == {"1.0.0", "1.1.0"} if scenario == "confirm" else outcomes >= {"1.0.0"}
