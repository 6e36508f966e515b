"""One update run: settle, check, download (TUF), unpack, switch, restart, wait for health.

``AppUpdater.apply()`` reports each step to ``on_step(name)`` (the console prints them; the
crash tests kill the process there) and never raises for a network, trust or release problem:
the result says what happened and ``state.json`` keeps it for the staff screen and the heartbeat.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kiosk.update.health import read_mark
from kiosk.update.releases import ReleaseStore, Trial, version_key
from kiosk.update.source import Release, ReleaseSource
from kiosk.update.unpack import unpack

log = logging.getLogger(__name__)

STEPS = ("settled", "checked", "downloaded", "unpacked", "installed", "switched", "restarted", "decided")


@dataclass(frozen=True)
class UpdateResult:
    result: str  # up_to_date | installed | rolled_back | refused | error
    version: str | None = None
    detail: str = ""


class AppUpdater:
    def __init__(
        self,
        store: ReleaseStore,
        source: ReleaseSource,
        restart: Callable[[], None],
        *,
        base_version: str,
        health_deadline_s: float = 180.0,
        poll_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_step: Callable[[str], None] = lambda step: None,
    ) -> None:
        self.store = store
        self.source = source
        self.restart = restart
        self.base_version = base_version
        self.health_deadline_s = health_deadline_s
        self.poll_s = poll_s
        self._clock = clock
        self._sleep = sleep
        self.on_step = on_step

    def running_version(self) -> str:
        return self.store.current_version() or self.base_version

    def check(self) -> Release | None:
        """The newest signed release newer than the running one and never failed here."""
        running = self.running_version()
        failed = set(self.store.failed())
        try:
            floor = version_key(running)
        except ValueError:  # e.g. "unknown" in a checkout: anything signed is newer
            floor = ()
        candidates = [
            r for r in self.source.releases() if version_key(r.version) > floor and r.version not in failed
        ]
        best = candidates[-1] if candidates else None
        self.store.record_check(best.version if best else None)
        return best

    def apply(self) -> UpdateResult:
        try:
            settled = self.store.settle(starting=False)
            if settled == "rolled_back":
                self.restart()  # the kiosk still runs the release just rolled back
            pending = self.store.trial()
            if settled == "trial" and pending is not None:  # another run's trial: see it through
                return self._decide(pending)
            self.on_step("settled")
            release = self.check()
            self.on_step("checked")
        except Exception as err:  # TUF refusals, network, a broken index
            return self._done(UpdateResult("error", None, f"check failed: {type(err).__name__}: {err}"))
        if release is None:
            return self._done(UpdateResult("up_to_date", self.running_version()))
        try:
            self._install(release)
        except Exception as err:
            return self._done(UpdateResult("refused", release.version, f"{type(err).__name__}: {err}"))
        mark = read_mark(self.store.health_file)
        baseline = mark.selfcheck_ok if mark is not None and mark.version == self.running_version() else None
        trial = self.store.switch(release.version, baseline)
        self.on_step("switched")
        self.restart()
        self.on_step("restarted")
        result = self._decide(trial)
        self.on_step("decided")
        self.store.prune()
        return result

    def _install(self, release: Release) -> None:
        if self.store.runnable(release.version):
            return
        tarball = self.source.download(release)  # verified by TUF, or it raises
        self.on_step("downloaded")
        staging = self.store.staging_dir(release.version)
        try:
            unpack(tarball, staging)
            self.on_step("unpacked")
            manifest_version = _manifest_version(staging)
            if manifest_version != release.version:
                raise ValueError(f"the release says it is {manifest_version!r}, signed as {release.version}")
            self.store.commit_release(staging, release.version)
            tarball.unlink(missing_ok=True)  # unpacked and in place: the download is not kept
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        if not self.store.runnable(release.version):
            raise ValueError(f"release {release.version} has no entry script")
        self.on_step("installed")

    def _decide(self, trial: Trial) -> UpdateResult:
        """Wait for the trial's health report; roll back at the deadline (or when the start-up
        check before a restart already did)."""
        deadline = self._clock() + self.health_deadline_s
        while True:
            now_trial = self.store.trial()
            if now_trial is None or now_trial.version != trial.version:
                break  # settled by a (re)start: confirmed or rolled back
            verdict = self.store.healthy(now_trial, read_mark(self.store.health_file))
            if verdict is True:
                self.store.confirm(now_trial)
                break
            if verdict is False:
                self.store.rollback(now_trial, "its start-up self-check failed")
                self.restart()
                break
            if self._clock() >= deadline:
                self.store.rollback(now_trial, f"no healthy report within {self.health_deadline_s:.0f} s")
                self.restart()
                break
            self._sleep(self.poll_s)
        last = self.store.state().get("last_result") or {}
        return UpdateResult(str(last.get("result", "error")), trial.version, str(last.get("detail", "")))

    def _done(self, result: UpdateResult) -> UpdateResult:
        if result.result == "error":
            log.warning("update: %s", result.detail)
        self.store.record(result.result, result.version, result.detail)
        return result


def _manifest_version(staging: Path) -> str | None:
    try:
        data = json.loads((staging / "release.json").read_bytes())
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if version is not None else None
