"""Staff see the app's version and updates in maintenance diagnostics (offscreen, whole demo
terminal): what runs, what is available, how the last update ended and which version is never
installed again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTableWidget

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from kiosk.update.releases import ReleaseStore
from tests.conftest import Factory
from tests.ui.test_maintenance_ui import cells

pytestmark = pytest.mark.slow


def _release(store: ReleaseStore, version: str) -> None:
    path = store.release_dir(version)
    path.mkdir(parents=True)
    (path / "release.json").write_text(json.dumps({"version": version}))
    (path / "main.py").write_text("")


def test_maintenance_shows_the_version_the_update_and_the_rollback(
    kiosk: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ReleaseStore(tmp_path / "releases-root", tmp_path / "health.json")
    for version in ("1.0.0", "1.1.0"):
        _release(store, version)
    store.switch("1.0.0", None)
    store.confirm(store.trial())  # type: ignore[arg-type]
    trial = store.switch("1.1.0", True)
    store.rollback(trial, "not healthy after 2 start(s)")  # the real state a rollback leaves
    store.record_check("1.2.0")
    monkeypatch.setenv("HALL_KIOSK_RELEASES", str(store.root))
    set_language("zh")
    terminal, _ui, driver = kiosk()
    assert terminal.bench is not None
    driver.wait_step(Step.ATTRACT)
    terminal.bench.present_staff_card()
    driver.wait_step(Step.MAINTENANCE, timeout=10)
    diag = driver.find("maintDiagnostics", QTableWidget)
    driver.wait_until(lambda: any(r[0] == "应用版本" for r in cells(diag)), 15.0, "update rows")
    rows = cells(diag)
    at = next(i for i, r in enumerate(rows) if r[0] == "应用版本")
    assert rows[at] == ["应用版本", "1.0.0", "可更新至 1.2.0（夜间自动安装）"]
    assert rows[at + 1][0].startswith("上次更新 ")
    assert rows[at + 1][1:] == ["1.1.0 启动检查未通过，已回退", "不再安装：1.1.0"]
