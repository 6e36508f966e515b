"""The health marker: what a started terminal says about itself once it is up.

The terminal writes it when its window is up and systemd is told READY (terminal/entry.py),
with the outcome of its start-up self-check; the updater (:mod:`kiosk.update.releases`) reads it
to keep or roll back a release on trial.  Its path comes from ``$HALL_KIOSK_HEALTH_FILE``
(set by the kiosk unit and the launcher): the terminal's user can write it, the releases root
it may not.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

HEALTH_ENV = "HALL_KIOSK_HEALTH_FILE"


@dataclass(frozen=True)
class HealthMark:
    version: str
    at: float
    pid: int
    selfcheck_ok: bool


def read_mark(path: Path) -> HealthMark | None:
    try:
        data = json.loads(path.read_bytes())
        return HealthMark(
            str(data["version"]), float(data["at"]), int(data["pid"]), bool(data["selfcheck_ok"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_mark(path: Path, version: str, selfcheck_ok: bool) -> HealthMark:
    mark = HealthMark(version, time.time(), os.getpid(), selfcheck_ok)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(mark.__dict__))
    with open(tmp, "rb+") as out:
        os.fsync(out.fileno())
    os.replace(tmp, path)
    return mark


def report_ready(version: str, selfcheck_ok: bool) -> HealthMark | None:
    """Write the marker where ``$HALL_KIOSK_HEALTH_FILE`` says; nothing when it is unset."""
    target = os.environ.get(HEALTH_ENV, "")
    if not target:
        return None
    return write_mark(Path(target), version, selfcheck_ok)
