"""Fixtures for the update tests: a sandbox platform on 127.0.0.1 publishing app releases in its
TUF repository, a releases root in a temp dir, and a stand-in for systemd that (re)starts the
kiosk through the real launcher (``python -m terminal.update launch``) like ``Restart=always``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.update.health import HealthMark, read_mark
from kiosk.update.releases import ReleaseStore
from kiosk.update.source import ReleaseSource
from kiosk.update.updater import AppUpdater
from sandbox_platform.server import SandboxServer

REPO = Path(__file__).resolve().parents[2]

#: A release that starts, reports healthy through the real health marker, and runs on.
GOOD_MAIN = """\
import json, pathlib, time
from kiosk.update.health import report_ready
version = json.loads((pathlib.Path(__file__).parent / "release.json").read_text())["version"]
report_ready(version, True)
while True:
    time.sleep(1)
"""
#: A release whose entry point exits at once (an import error, a missing dependency, ...).
EXITS_MAIN = "import sys\nsys.exit(3)\n"
#: A release that starts and never gets its window up.
HANGS_MAIN = "import time\nwhile True:\n    time.sleep(1)\n"


def release_tarball(version: str, main: str = GOOD_MAIN, extra: dict[str, bytes] | None = None) -> bytes:
    files = {"release.json": json.dumps({"version": version}).encode(), "main.py": main.encode()}
    files.update(extra or {})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Service:
    """What systemd does with hall-kiosk.service: start the launcher, start it again when it
    exits (``Restart=always``), stop it on restart.  The launcher settles the update first."""

    def __init__(self, root: Path, health: Path, log_dir: Path) -> None:
        self.root, self.health, self.log_dir = root, health, log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_env: dict[str, str] = {}
        self.starts = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._watcher: threading.Thread | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HALL_KIOSK_RELEASES": str(self.root),
            "HALL_KIOSK_HEALTH_FILE": str(self.health),
            "PYTHONPATH": str(REPO),
            **self.extra_env,
        }

    def _spawn(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"start-{self.starts}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "terminal.update", "launch"],
            env=self.env(),
            cwd=self.log_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        with self._lock:
            self._kill()
            self._spawn()
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stopped.wait(0.1):
            with self._lock:  # stopped is checked under the lock: stop() may have just killed it
                if self._stopped.is_set():
                    return
                if self.proc is not None and self.proc.poll() is not None and self.starts < 20:
                    self._spawn()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            self._kill()
        if self._watcher is not None:
            self._watcher.join(5)

    def wait_running(self, timeout_s: float = 60.0) -> HealthMark:
        """The health mark of the process running now, whichever release it is."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            mark = read_mark(self.health)
            if mark is not None and self.proc is not None and mark.pid == self.proc.pid:
                return mark
            time.sleep(0.1)
        raise AssertionError(f"nothing reported healthy; last mark {read_mark(self.health)}")

    def wait_healthy(self, version: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            mark = read_mark(self.health)
            if (
                mark is not None
                and mark.version == version
                and self.proc is not None
                and mark.pid == self.proc.pid
            ):
                return
            time.sleep(0.1)
        raise AssertionError(f"{version} never reported healthy; last mark {read_mark(self.health)}")


class Bench:
    def __init__(self, tmp: Path, server: SandboxServer) -> None:
        self.server = server
        self.root = tmp / "opt-hall-kiosk"
        self.health = tmp / "var-lib" / "update-health.json"
        self.trusted_root = tmp / "pinned-root.json"
        with urllib.request.urlopen(f"{server.url}/tuf/metadata/1.root.json", timeout=10) as resp:
            self.trusted_root.write_bytes(resp.read())
        logs = tmp / "logs"
        logs.mkdir()
        self.service = Service(self.root, self.health, logs)
        self.store = ReleaseStore(self.root, self.health)

    def publish(self, version: str, main: str = GOOD_MAIN) -> str:
        target: str = self.server.app.state.tuf.publish_release(version, release_tarball(version, main))
        return target

    def updater(self, deadline_s: float = 60.0) -> AppUpdater:
        source = ReleaseSource(self.server.url, self.root / "tuf", trusted_root=self.trusted_root)
        return AppUpdater(
            self.store,
            source,
            self.service.restart,
            base_version="0.1.0",
            health_deadline_s=deadline_s,
            poll_s=0.1,
        )


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    items = tmp_path / "items"
    items.mkdir()
    (items / "x.json").write_bytes(b'{"id":"x","version":"1"}')
    server = SandboxServer(tmp_path / "platform", items).start()
    b = Bench(tmp_path, server)
    try:
        yield b
    finally:
        b.service.stop()
        server.close()
