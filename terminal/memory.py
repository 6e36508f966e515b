"""Keeping the terminal's memory small over a day of sessions (bench/startup ``rss_mb_*``).

Measured (bench/startup, docs/performance.md): what grows the resident set after start-up is not
Python objects but native heap: onnxruntime's buffers for OCR pages of varying sizes, OpenCV and
MediaPipe scratch memory, spread over glibc's per-thread malloc arenas (up to 8 per core, each
keeping its freed pages), and the source of every module imported after PySide6 (PySide's
``__feature__`` hook reads it through :mod:`linecache`, ~45 MB of text nobody reads again).

* :func:`tune_malloc`: at most two malloc arenas (the same as ``MALLOC_ARENA_MAX=2``, which the
  systemd unit also sets; this covers ``python main.py`` and the benches) and a fixed mmap threshold
  of 1 MiB, called before the first threads start.  glibc's threshold is dynamic by default: once
  a large block is freed it moves up to that block's size (up to 32 MiB), and from then on blocks
  of tens of MB (camera frames, page images, inference buffers) come from the heap, whose freed
  pages stay resident and fragment it until ``malloc_trim``.  Fixed, every block of 1 MiB or more
  is mapped on its own and goes back to the system when freed (measured, bench/startup: the peak
  of a session's materials step down by ~60 MB and the resident set between sessions by ~45 MB).
* :func:`release_memory`: drop the module source cache and give freed heap pages back to the
  system (``malloc_trim``); called once start-up and the models' loading are done and after each
  session (terminal/app.py).  ``collect=True`` also runs a full garbage collection; the terminal
  does not ask for it: after each session it crashed the demo sessions in Qt (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import linecache

#: glibc's mallopt() parameters (malloc.h): the number of arenas, the mmap threshold.
_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 1 << 20


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        lib = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): nothing to tune
        return None
    return lib if hasattr(lib, "malloc_trim") and hasattr(lib, "mallopt") else None


def tune_malloc(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Cap glibc's malloc arenas and fix its mmap threshold (True when both are applied; False on a
    libc without mallopt)."""
    lib = _libc()
    if lib is None:
        return False
    return bool(lib.mallopt(_M_ARENA_MAX, arenas)) and bool(lib.mallopt(_M_MMAP_THRESHOLD, mmap_threshold))


def release_memory(*, collect: bool = False) -> None:
    """Give back what the last burst of work left allocated but unused.  ``collect``: run a full
    garbage collection first (only on the GUI thread: it may free Qt objects)."""
    if collect:
        gc.collect()
    linecache.clearcache()
    lib = _libc()
    if lib is not None:
        lib.malloc_trim(0)
