"""Giving the heap freed by a session back to the system, between citizens (glibc only).

A terminal runs for weeks.  Each session allocates and frees tens of megabytes (card photo, camera
frames, PDFs, sealed uploads) on many threads; glibc keeps freed memory in its arenas, so the
resident size creeps up although nothing is kept (the soak measured it: bench/soak.py
``rss_growth_pct``).  ``malloc_trim`` returns those free pages; it runs when the terminal is back on
the attract screen, at most once a ``min_interval_s``, so it never delays a citizen
(terminal/memory.py: the module source cache dropped, ``malloc_trim``; a no-op off glibc).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from kiosk.session.machine import Step
from terminal.memory import release_memory

log = logging.getLogger(__name__)


class HeapTrim:
    """A session machine listener: trims the heap on the way back to the attract screen."""

    def __init__(self, min_interval_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._min_interval_s = min_interval_s
        self._monotonic = monotonic
        self._last = monotonic()
        self.trims = 0

    def __call__(self, old: Step, new: Step) -> None:
        if new is not Step.ATTRACT:
            return
        now = self._monotonic()
        if now - self._last < self._min_interval_s:
            return
        self._last = now
        release_memory()
        self.trims += 1
        log.debug("heap trimmed after a session")
