"""Waiting in a test for what the Qt event loop brings (a signal from a worker, a screen update)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Process Qt events until ``cond()`` holds; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        QApplication.processEvents()
        time.sleep(0.01)
