"""Releases side by side, one ``current`` link switched atomically, and the trial of a new one.

Layout under the releases root (``/opt/hall-kiosk`` on a terminal, a temp dir in tests)::

    releases/<version>/          one unpacked release: release.json, main.py, the app's packages
    releases/.incoming-*/        a release being unpacked (removed at the next start)
    current -> releases/<v>      what the launcher runs (a relative symlink)
    previous -> releases/<v>     the release before it, kept for the rollback
    state.json                   the trial, the failed versions, the last check and result

Every change is ordered so that a power cut at any instant leaves a runnable ``current``:
a release is unpacked and fsynced in a staging directory, renamed into place, the trial is
recorded in ``state.json`` (written to a temp file, fsynced, renamed) *before* the links move,
and a link moves by renaming a new symlink over the old one (atomic on POSIX).  A rollback records
the failed version first and moves the link after.  :meth:`ReleaseStore.settle` (run before every
start of the kiosk and by the updater) finishes whatever a cut interrupted:

- a trial whose version is not ``current``: the switch never happened, the trial is dropped;
- ``current`` is a failed version, or is not runnable: back to ``previous`` (or the newest
  runnable release);
- a trial that reported healthy: confirmed; one that started :data:`MAX_TRIAL_STARTS` times
  without reporting healthy, or reported a failed self-check where its predecessor passed:
  rolled back, and its version is never installed again.

The health marker is written by the started terminal (:mod:`kiosk.update.health`) once its
window is up and its start-up self-check has run.
"""

from __future__ import annotations

import compileall
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.update.health import HealthMark, read_mark

log = logging.getLogger(__name__)

RELEASE_MANIFEST = "release.json"
ENTRY_SCRIPT = "main.py"
#: Starts of a release on trial without a healthy report before it is rolled back.
MAX_TRIAL_STARTS = 2
_VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){1,3}$")
_MAX_FAILED_KEPT = 32


def version_key(version: str) -> tuple[int, ...]:
    """Dotted numeric versions only (``1.4.0``); anything else is refused with ValueError."""
    if not _VERSION.match(version):
        raise ValueError(f"not a release version (N.N[.N[.N]]): {version!r}")
    return tuple(int(p) for p in version.split("."))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, body: bytes) -> None:
    """Write ``path`` so that a power cut leaves either the old or the new content."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass(frozen=True)
class Trial:
    version: str
    previous: str | None
    switched_at: float
    starts: int = 0
    #: whether the release before it passed its last start-up self-check (None: unknown)
    baseline_selfcheck_ok: bool | None = None


class ReleaseStore:
    """The releases root and its state; every method leaves it consistent on disk."""

    def __init__(self, root: Path, health_file: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.root = Path(root)
        self.releases = self.root / "releases"
        self.health_file = Path(health_file)
        self.state_file = self.root / "state.json"
        self._clock = clock

    # ------------------------------------------------------------------ reading

    def state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError:  # cannot happen with atomic writes; never let it stop a start
            log.error("update state %s unreadable; starting from an empty state", self.state_file)
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, state: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.state_file, json.dumps(state, sort_keys=True, indent=1).encode())

    def trial(self) -> Trial | None:
        raw = self.state().get("trial")
        return Trial(**raw) if isinstance(raw, dict) else None

    def failed(self) -> list[str]:
        return [str(v) for v in self.state().get("failed", [])]

    def _link(self, name: str) -> str | None:
        try:
            target = os.readlink(self.root / name)
        except OSError:
            return None
        return Path(target).name

    def current_version(self) -> str | None:
        return self._link("current")

    def previous_version(self) -> str | None:
        return self._link("previous")

    def release_dir(self, version: str) -> Path:
        version_key(version)
        return self.releases / version

    def manifest(self, version: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self.release_dir(version) / RELEASE_MANIFEST).read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def runnable(self, version: str | None) -> bool:
        """A complete release: its manifest names this version and its entry script is there."""
        if version is None:
            return False
        try:
            manifest = self.manifest(version)
            return (
                manifest is not None
                and manifest.get("version") == version
                and (self.release_dir(version) / ENTRY_SCRIPT).is_file()
            )
        except ValueError:
            return False

    def installed(self) -> list[str]:
        found = []
        for path in self.releases.glob("*") if self.releases.is_dir() else []:
            try:
                version_key(path.name)
            except ValueError:
                continue
            if self.runnable(path.name):
                found.append(path.name)
        return sorted(found, key=version_key)

    def current_dir(self) -> Path | None:
        """The release to run now, resolved once (a switch during start cannot mix two)."""
        version = self.current_version()
        if version is None or not self.runnable(version):
            return None
        return self.release_dir(version).resolve()

    # ------------------------------------------------------------------ changing

    def staging_dir(self, version: str) -> Path:
        version_key(version)
        self.releases.mkdir(parents=True, exist_ok=True)
        return self.releases / f".incoming-{version}-{os.getpid()}"

    def commit_release(self, staging: Path, version: str) -> Path:
        """Move an unpacked, checked release from its staging directory into place."""
        target = self.release_dir(version)
        if target.exists():  # an earlier, interrupted or failed install of the same version
            shutil.rmtree(target)
        # Byte-compiled now, by the updater: the kiosk user cannot write the release tree, and
        # without bytecode every start of the terminal compiles each of its modules again.
        compileall.compile_dir(staging, ddir=str(target), quiet=1)
        os.rename(staging, target)
        _fsync_dir(self.releases)
        return target

    def _point(self, name: str, version: str | None) -> None:
        link = self.root / name
        if version is None:
            link.unlink(missing_ok=True)
        else:
            tmp = self.root / f".{name}.{os.getpid()}.tmp"
            tmp.unlink(missing_ok=True)
            os.symlink(f"releases/{version}", tmp)
            os.replace(tmp, link)
        _fsync_dir(self.root)

    def switch(self, version: str, baseline_selfcheck_ok: bool | None) -> Trial:
        """Make ``version`` current, on trial; the current one becomes ``previous``."""
        if not self.runnable(version):
            raise ValueError(f"release {version} is not installed completely")
        old = self.current_version()
        trial = Trial(version, old, self._clock(), 0, baseline_selfcheck_ok)
        state = self.state()
        state["trial"] = trial.__dict__
        self._write_state(state)  # first: a cut before the links move drops the trial
        if old is not None and old != version:
            self._point("previous", old)
        self._point("current", version)
        log.info("switched to release %s (previous %s), on trial", version, old)
        return trial

    def record(self, result: str, version: str | None, detail: str = "", **extra: Any) -> None:
        state = self.state()
        state["last_result"] = {"at": self._clock(), "result": result, "version": version, "detail": detail}
        state.update(extra)
        self._write_state(state)

    def record_check(self, available: str | None) -> None:
        state = self.state()
        state["last_check"] = {"at": self._clock(), "available": available}
        self._write_state(state)

    def confirm(self, trial: Trial) -> None:
        state = self.state()
        state["trial"] = None
        state["last_result"] = {
            "at": self._clock(),
            "result": "installed",
            "version": trial.version,
            "detail": "",
        }
        self._write_state(state)
        log.info("release %s reported healthy: kept", trial.version)

    def rollback(self, trial: Trial, reason: str) -> str | None:
        """Mark ``trial.version`` failed (never installed again) and go back to its predecessor."""
        state = self.state()
        failed = [v for v in state.get("failed", []) if v != trial.version] + [trial.version]
        state["failed"] = failed[-_MAX_FAILED_KEPT:]
        state["trial"] = None
        back = trial.previous if self.runnable(trial.previous) else self._fallback(exclude={trial.version})
        state["last_result"] = {
            "at": self._clock(),
            "result": "rolled_back",
            "version": trial.version,
            "detail": f"{reason}; back to {back or 'the packaged app'}",
        }
        self._write_state(state)  # first: a cut before the link moves still rolls back (settle)
        self._point("current", back)
        self._point("previous", None)
        log.error("release %s rolled back to %s: %s", trial.version, back, reason)
        return back

    def _fallback(self, exclude: set[str]) -> str | None:
        failed = set(self.failed()) | exclude
        candidates = [v for v in self.installed() if v not in failed]
        return candidates[-1] if candidates else None

    def healthy(self, trial: Trial, mark: HealthMark | None) -> bool | None:
        """True: the trial release reported healthy; False: it reported unhealthy; None: not yet."""
        if mark is None or mark.version != trial.version or mark.at < trial.switched_at:
            return None
        return bool(mark.selfcheck_ok or trial.baseline_selfcheck_ok is False)

    def settle(self, *, starting: bool = True, stale_after_s: float = 600.0) -> str:
        """Finish what an interrupted update left (see the module docstring); returns what it did.

        ``starting``: run before a start of the kiosk (counts the start of a release on trial).
        Otherwise (the updater, between starts) a trial silent for ``stale_after_s`` since its
        switch is rolled back: its updater died before deciding and it never said it was up."""
        for stale in self.releases.glob(".incoming-*") if self.releases.is_dir() else []:
            shutil.rmtree(stale, ignore_errors=True)
        current = self.current_version()
        trial = self.trial()
        if trial is not None and trial.version != current:
            state = self.state()
            state["trial"] = None
            self._write_state(state)
            trial = None
            log.warning("an update to %s was interrupted before the switch: dropped", current)
        if trial is not None:
            verdict = self.healthy(trial, read_mark(self.health_file))
            if verdict is True:
                self.confirm(trial)
                return "confirmed"
            if verdict is False:
                self.rollback(trial, "its start-up self-check failed")
                return "rolled_back"
            if trial.starts >= MAX_TRIAL_STARTS or not self.runnable(trial.version):
                self.rollback(trial, f"not healthy after {trial.starts} start(s)")
                return "rolled_back"
            if not starting:
                if self._clock() - trial.switched_at < stale_after_s:
                    return "trial"
                self.rollback(trial, f"no healthy report within {stale_after_s:.0f} s")
                return "rolled_back"
            state = self.state()
            state["trial"] = {**trial.__dict__, "starts": trial.starts + 1}
            self._write_state(state)
            return "trial"
        if current is not None and (current in self.failed() or not self.runnable(current)):
            previous = self.previous_version()
            back = previous if self.runnable(previous) and previous not in self.failed() else None
            back = back or self._fallback(exclude={current})
            self._point("current", back)
            log.error("release %s is failed or incomplete: running %s", current, back or "the packaged app")
            return "repaired"
        return "ok"

    def prune(self) -> None:
        """Remove releases other than ``current``, ``previous`` and a trial's."""
        keep = {self.current_version(), self.previous_version()}
        trial = self.trial()
        if trial is not None:
            keep |= {trial.version, trial.previous}
        for path in self.releases.glob("*") if self.releases.is_dir() else []:
            if path.name not in keep and not path.name.startswith("."):
                shutil.rmtree(path, ignore_errors=True)
