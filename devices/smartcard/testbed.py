"""Start/stop the test pcscd (packaging/pcsc/*.sh) from Python: used by tests and CI.

pcsc-lite clients read ``PCSCLITE_CSOCK_NAME`` once per process, so the run
directory is fixed per process (``$TMPDIR/kiosk-pcscd-<pid>``): restarts reuse
the same socket path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "packaging" / "pcsc"


class PcscdTestbed:
    def __init__(self, rundir: Path | None = None) -> None:
        self.rundir = rundir or Path(tempfile.gettempdir()) / f"kiosk-pcscd-{os.getpid()}"
        self.socket_path = str(self.rundir / "run" / "pcscd.comm")
        self.netns = ""
        self.pid = 0

    def start(self) -> None:
        out = subprocess.run(
            [str(SCRIPTS / "start-test-pcscd.sh"), str(self.rundir)],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.socket_path = values["PCSCLITE_CSOCK_NAME"]
        self.netns = values["PCSCD_NETNS"]
        self.pid = int(values["PCSCD_PID"])
        os.environ["PCSCLITE_CSOCK_NAME"] = self.socket_path

    def running(self) -> bool:
        return self.pid > 0 and Path(f"/proc/{self.pid}").exists()

    def log(self) -> str:
        path = self.rundir / "pcscd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, *, remove: bool = True) -> None:
        subprocess.run(
            [str(SCRIPTS / "stop-test-pcscd.sh"), str(self.rundir)],
            check=True,
            capture_output=True,
            timeout=30,
        )
        self.pid = 0
        if remove:
            shutil.rmtree(self.rundir, ignore_errors=True)
