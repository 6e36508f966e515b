"""SIGKILL the terminal mid submit-and-upload 300 times, each kill a power cut (every unsynced write
lost); every acknowledged case lands exactly once, with its attachment (uploaded in resumable chunks
before the body) and its sealed body intact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox_platform.server import SandboxServer
from tests.crash.harness import ITEM_ID, run_crashes


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    items = tmp_path / "items"
    items.mkdir()
    (items / f"{ITEM_ID}.json").write_text(f'{{"id":"{ITEM_ID}","version":"1"}}')
    srv = SandboxServer(tmp_path / "platform", items).start()
    yield srv
    srv.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_never_loses_or_duplicates(server: SandboxServer, tmp_path: Path, seed: int) -> None:
    result = run_crashes(
        tmp_path / f"terminal-{seed}", server.url, 150, seed=seed, terminal_id=f"CRASH{seed}"
    )
    # The children got far enough to submit (they also catch up on the queue first, so fewer
    # submissions than runs).
    assert result.acknowledged > 60, result
    assert result.integrity == "ok"
    assert result.audit_ok
    assert result.all_sent, result
    assert result.lost == 0, result
    assert result.duplicated == 0, result
    assert result.attachments_bad == 0, result
    assert result.on_platform >= result.acknowledged
    assert result.power_cuts == result.runs  # every kill lost what was not synced
