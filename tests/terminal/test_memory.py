"""terminal/memory.py: the malloc arena cap, and memory given back after warm-up and each session."""

from __future__ import annotations

import gc
import linecache
import re
import weakref
from pathlib import Path

import pytest

from terminal import memory


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
    assert match is not None
    return int(match.group(1)) / 1024


def _cache_a_module_source() -> None:
    linecache.getlines(memory.__file__)
    assert memory.__file__ in linecache.cache


@pytest.mark.skipif(memory._libc() is None, reason="glibc only (the terminal's platform)")
def test_the_arena_cap_is_accepted_by_glibc() -> None:
    assert memory.limit_malloc_arenas() is True


@pytest.mark.skipif(memory._libc() is None, reason="glibc only (the terminal's platform)")
def test_release_gives_freed_heap_pages_back() -> None:
    # 64 KiB blocks come from malloc's heap (below the mmap threshold); a 1 KiB block (malloc too,
    # above pymalloc's 512 bytes) kept after each one stops glibc from shrinking the heap by
    # itself when they are freed: ~94 MB freed but still resident until trimmed.
    blocks, keep = [], []
    for _ in range(1500):
        blocks.append(bytearray(64 * 1024))
        keep.append(bytearray(1024))
    for block in blocks:
        block[::4096] = b"\x01" * len(block[::4096])  # touch every page: resident
    before_free = _rss_mb()
    del blocks
    freed_but_held = _rss_mb()
    memory.release_memory()
    after = _rss_mb()
    assert before_free - freed_but_held < 30, "glibc gave the blocks back by itself: nothing tested"
    assert freed_but_held - after > 60, (before_free, freed_but_held, after)
    assert len(keep) == 1500


def test_release_drops_the_module_source_cache_and_collects_when_asked() -> None:
    _cache_a_module_source()
    memory.release_memory()
    assert memory.__file__ not in linecache.cache

    class Cycle:
        def __init__(self) -> None:
            self.me = self

    gc.disable()
    try:
        ref = weakref.ref(Cycle())
        memory.release_memory()
        assert ref() is not None  # no collection unless asked (off the GUI thread)
        memory.release_memory(collect=True)
        assert ref() is None
    finally:
        gc.enable()
