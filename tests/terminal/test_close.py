"""A terminal that is closed leaves nothing behind: no descriptors, no threads.

The suite and the demo build many terminals in one process; the terminal itself is rebuilt in
place by the maintenance restart. A descriptor left per terminal once took the suite's process
past 1,024 descriptors, where select()-based serial code fails."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from kiosk.config import SessionConfig, TerminalConfig
from terminal.runtime import build_terminal

pytestmark = [pytest.mark.terminal]


def _descriptors() -> dict[str, str]:
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            out[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, already closed
            pass
    return out


def _review_loops() -> int:
    return sum(t.name == "zen-loop" for t in threading.enumerate())


def _build_and_close(tmp_path: Path, n: int) -> None:
    root = tmp_path / str(n)
    config = TerminalConfig(data_dir=str(root), session=SessionConfig())
    terminal = build_terminal(config, root / "work")
    terminal.close()


def test_build_and_close_leaves_no_descriptor_or_thread(tmp_path: Path) -> None:
    _build_and_close(tmp_path, 0)  # first build: imports, caches and Qt-free singletons settle
    threads = {t.name for t in threading.enumerate()}
    loops = _review_loops()
    before = _descriptors()
    for n in (1, 2):
        _build_and_close(tmp_path, n)
    after = _descriptors()
    left = sorted(v for fd, v in after.items() if fd not in before)
    assert left == []
    assert {t.name for t in threading.enumerate()} - threads == set()
    assert _review_loops() == loops  # the review engine's event loop thread (kiosk/review/engine.py)
