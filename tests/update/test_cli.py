"""``hall-kiosk update …`` as an installer or the nightly unit runs it (a real process, the
sandbox platform on 127.0.0.1), and ``hall-kiosk launch`` with no release installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.update.conftest import REPO, Bench


def _cli(bench: Bench, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HALL_KIOSK_RELEASES": str(bench.root)}
    env["HALL_KIOSK_HEALTH_FILE"] = str(bench.health)
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args], env=env, capture_output=True, text=True, timeout=180
    )


def test_check_apply_and_status_from_the_console(bench: Bench, tmp_path: Path) -> None:
    bench.publish("1.0.0")
    where = ["--url", bench.server.url, "--trusted-root", str(bench.trusted_root)]
    checked = _cli(bench, "update", "check", *where)
    assert checked.returncode == 0, checked.stderr
    assert "available: 1.0.0" in checked.stdout
    # nobody starts the release here (the restart command does nothing): it never reports
    # healthy, so the update is rolled back at the deadline and says so
    applied = _cli(bench, "update", "apply", *where, "--restart-cmd", "true", "--deadline", "1")
    assert applied.returncode == 1, applied.stderr
    lines = applied.stdout.splitlines()
    for step in (
        "settled",
        "checked",
        "downloaded",
        "unpacked",
        "installed",
        "switched",
        "restarted",
        "decided",
    ):
        assert any(line.endswith(f"] {step}") for line in lines), (step, lines)
    assert lines[-1].startswith("update: rolled_back 1.0.0 no healthy report within 1 s")
    shown = _cli(bench, "update", "status")
    assert shown.returncode == 0, shown.stderr
    status = json.loads(shown.stdout)
    assert status["failed"] == ["1.0.0"] and status["current"] is None
    assert status["last_result"]["result"] == "rolled_back"
    again = _cli(bench, "update", "apply", *where, "--restart-cmd", "true")
    assert again.returncode == 0 and again.stdout.splitlines()[-1].startswith("update: up_to_date")


def test_apply_without_a_platform_or_trust_says_so(bench: Bench) -> None:
    no_url = _cli(bench, "update", "apply")
    assert no_url.returncode != 0 and "no platform URL" in no_url.stderr
    untrusted = _cli(bench, "update", "apply", "--url", bench.server.url, "--trusted-root", "/nonexistent")
    assert untrusted.returncode == 1
    assert "no trusted TUF root" in untrusted.stdout


def test_launch_without_a_release_runs_the_packaged_app(bench: Bench, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('profile = "no-such-profile"\n')
    launched = _cli(bench, "launch", "--config", str(bad))
    # the packaged entry point answered (its config error), not a release
    assert launched.returncode == 2 and launched.stderr.startswith("error:"), launched.stderr
