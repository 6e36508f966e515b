"""A release built from this source tree (``python -m terminal.update build``), published to the
sandbox over its HTTP route, installed by the updater; its own code reports its version as healthy
and in the heartbeat the sandbox receives, with the update's state (a failed version included)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from terminal.update import build
from tests.update.conftest import EXITS_MAIN, Bench


def _run_release_code(bench: Bench, release: Path, code: str) -> None:
    script = f"import sys\nsys.path.insert(0, {str(release)!r})\nimport kiosk\n"
    script += f"assert kiosk.__file__.startswith({str(release)!r}), kiosk.__file__\n{code}"
    env = {
        **os.environ,
        "HALL_KIOSK_RELEASES": str(bench.root),
        "HALL_KIOSK_HEALTH_FILE": str(bench.health),
        "PYTHONPATH": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=release, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_a_built_release_reports_its_version_in_the_heartbeat(bench: Bench, tmp_path: Path) -> None:
    tarball = build("3.0.0", tmp_path / "dist")
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "release.json" in names and "main.py" in names and "kiosk/update/releases.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert build("3.0.0", tmp_path / "again").read_bytes() == tarball.read_bytes()  # reproducible
    request = urllib.request.Request(
        f"{bench.server.url}/_sandbox/tuf/releases/3.0.0", data=tarball.read_bytes(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        assert resp.status == 204
    bench.publish("2.9.0", EXITS_MAIN)  # an older, broken one: never offered past 3.0.0

    def start_new_release() -> None:  # what the started terminal does once it is up
        _run_release_code(
            bench,
            bench.store.release_dir("3.0.0"),
            "from kiosk.fleet.heartbeat import app_version\n"
            "from kiosk.update.health import report_ready\n"
            "report_ready(app_version(), True)\n",
        )

    updater = bench.updater(deadline_s=30)
    updater.restart = start_new_release
    result = updater.apply()
    assert (result.result, result.version) == ("installed", "3.0.0"), result

    code = bench.server.enrolment_code("UPD-1")
    _run_release_code(
        bench,
        bench.store.release_dir("3.0.0"),
        "from kiosk.cases.platform_client import PlatformClient\n"
        "from kiosk.fleet.heartbeat import Heartbeat, app_version\n"
        "from kiosk.update.report import heartbeat_fields, store_from\n"
        f"client = PlatformClient({bench.server.url!r}, 'UPD-1', timeout=30.0)\n"
        f"client.enrol(code={code!r})\n"
        "beat = Heartbeat({'idcard': 'ready'}, app_version(), update=heartbeat_fields(store_from()))\n"
        "client.heartbeat(beat.device_status, beat.telemetry())\n",
    )
    [row] = [r for r in bench.server.app.state.db.terminals() if r["terminal_id"] == "UPD-1"]
    assert row["telemetry"]["app_version"] == "3.0.0"
    assert row["telemetry"]["update"] == {
        "available": "3.0.0",
        "failed": "",
        "last_result": "installed",
        "last_version": "3.0.0",
    }
