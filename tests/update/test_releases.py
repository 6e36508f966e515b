"""The releases root on its own (real files, a fake clock): the starts of a release on trial are
counted before each start, a trial the updater left undecided is rolled back when stale, and a
failed or incomplete ``current`` is never run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.update.health import write_mark
from kiosk.update.releases import ReleaseStore, version_key


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> ReleaseStore:
    s = ReleaseStore(tmp_path / "root", tmp_path / "health.json", clock=Clock())
    for version in ("1.0.0", "1.1.0"):
        path = s.release_dir(version)
        path.mkdir(parents=True)
        (path / "release.json").write_text(json.dumps({"version": version}))
        (path / "main.py").write_text("")
    s.switch("1.0.0", None)
    trial = s.trial()
    assert trial is not None
    s.confirm(trial)
    return s


def test_starts_on_trial_are_counted_and_the_third_rolls_back(store: ReleaseStore) -> None:
    store.switch("1.1.0", True)
    assert store.settle() == "trial" and store.trial().starts == 1  # type: ignore[union-attr]
    assert store.settle() == "trial" and store.trial().starts == 2  # type: ignore[union-attr]
    assert store.settle() == "rolled_back"
    assert store.current_version() == "1.0.0" and store.failed() == ["1.1.0"]
    assert store.settle() == "ok"


def test_a_healthy_mark_from_before_the_switch_does_not_count(store: ReleaseStore) -> None:
    write_mark(store.health_file, "1.1.0", True)  # an earlier run of the same version
    store._clock.now = 2e12  # type: ignore[attr-defined]  # the switch comes after it
    store.switch("1.1.0", True)
    assert store.settle() == "trial"
    store._clock.now = 0  # type: ignore[attr-defined]
    store.switch("1.1.0", True)  # a switch before the mark: the mark is the new release's word
    assert store.settle() == "confirmed" and store.trial() is None


def test_the_updater_rolls_back_a_stale_trial_but_leaves_a_fresh_one(store: ReleaseStore) -> None:
    store.switch("1.1.0", True)
    assert store.settle(starting=False) == "trial"
    assert store.trial().starts == 0  # type: ignore[union-attr]  # the updater is not a start
    store._clock.now += 601  # type: ignore[attr-defined]
    assert store.settle(starting=False) == "rolled_back"
    assert store.current_version() == "1.0.0" and "1.1.0" in store.failed()


def test_a_failed_or_incomplete_current_is_moved_off(store: ReleaseStore) -> None:
    store.switch("1.1.0", True)
    store.confirm(store.trial())  # type: ignore[arg-type]
    (store.release_dir("1.1.0") / "main.py").unlink()  # a disk that lost it
    assert store.settle() == "repaired"
    assert store.current_version() == "1.0.0" and store.current_dir() == store.release_dir("1.0.0").resolve()


@pytest.mark.parametrize("bad", ["1", "1.2.3.4.5", "1.0-rc1", "../1.0", "v1.0", ""])
def test_only_dotted_numeric_versions(bad: str) -> None:
    with pytest.raises(ValueError):
        version_key(bad)
    assert version_key("1.10.0") > version_key("1.9.9")
