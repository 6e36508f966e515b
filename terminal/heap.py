"""Giving the heap freed by a session back to the system, between citizens (glibc only).

A terminal runs for weeks.  Each session allocates and frees tens of megabytes (card photo, camera
frames, PDFs, sealed uploads) on many threads; glibc keeps freed memory in its arenas, so the
resident size creeps up although nothing is kept (the soak measured it: bench/soak.py
``rss_growth_pct``).  ``malloc_trim`` returns those free pages; it runs when the terminal is back on
the attract screen, at most once a ``min_interval_s``, so it never delays a citizen.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from collections.abc import Callable

from kiosk.session.machine import Step

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int
    trim: Callable[[int], int] = fn
    return trim


class HeapTrim:
    """A session machine listener: trims the heap on the way back to the attract screen."""

    def __init__(self, min_interval_s: float = 30.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._trim = _malloc_trim()
        self._min_interval_s = min_interval_s
        self._monotonic = monotonic
        self._last = monotonic()
        self.trims = 0

    def __call__(self, old: Step, new: Step) -> None:
        if new is not Step.ATTRACT or self._trim is None:
            return
        now = self._monotonic()
        if now - self._last < self._min_interval_s:
            return
        self._last = now
        self._trim(0)
        self.trims += 1
        log.debug("heap trimmed after a session")
