"""Run one update and SIGKILL this process just before its N-th change on disk.

``python -m tests.update.kill_driver URL ROOT HEALTH TRUSTED_ROOT SCENARIO N``: every
``os.replace``, ``os.rename``, ``os.symlink``, ``os.unlink``/``Path.unlink`` and
``shutil.rmtree`` the updater makes is counted, and the N-th one is not made: the process kills
itself instead (N = 0: no kill, the count is printed at the end).  Every file is fsynced before
it is renamed into place, so what the kill leaves is what a power cut there would leave.

Scenario ``confirm``: the "restart" reports the new release healthy at once (the confirm path).
Scenario ``rollback``: the "restart" starts nothing, so the deadline passes (the rollback path).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from kiosk.update.health import write_mark
from kiosk.update.releases import ReleaseStore
from kiosk.update.source import ReleaseSource
from kiosk.update.updater import AppUpdater

_count = 0
_kill_at = 0


def _counted(real: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _count
        _count += 1
        if _count == _kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    return wrapper


def main() -> None:
    global _kill_at
    url, root, health, trusted, scenario, n = sys.argv[1:7]
    _kill_at = int(n)
    store = ReleaseStore(Path(root), Path(health))

    def restart() -> None:
        trial = store.trial()
        if scenario == "confirm" and trial is not None:
            write_mark(Path(health), trial.version, True)

    updater = AppUpdater(
        store,
        ReleaseSource(url, Path(root) / "tuf", trusted_root=Path(trusted)),
        restart,
        base_version="0.1.0",
        health_deadline_s=0.5,
        poll_s=0.05,
    )
    for name in ("replace", "rename", "symlink", "unlink"):
        setattr(os, name, _counted(getattr(os, name)))
    shutil.rmtree = _counted(shutil.rmtree)
    result = updater.apply()
    print(f"{result.result} {result.version} changes={_count}")


if __name__ == "__main__":
    main()
