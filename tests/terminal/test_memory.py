"""terminal/memory.py: the malloc arena cap, and memory given back after warm-up and each session."""

from __future__ import annotations

import gc
import linecache
import os
import re
import subprocess
import sys
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
def test_the_arena_cap_and_mmap_threshold_are_accepted_by_glibc() -> None:
    assert memory.tune_malloc() is True


_LARGE_BLOCKS = """
import re, sys
from pathlib import Path

def rss_mb():
    return int(re.search(r"^VmRSS:\\s+(\\d+)", Path("/proc/self/status").read_text(), re.M).group(1)) / 1024

from terminal import memory
if sys.argv[1] == "tuned":
    assert memory.tune_malloc() is True
first = bytearray(16 * 1024 * 1024)
first[::4096] = b"\\x01" * len(first[::4096])
del first
blocks, keep = [], []
for _ in range(40):
    blocks.append(bytearray(2 * 1024 * 1024))
    keep.append(bytearray(1024))
for block in blocks:
    block[::4096] = b"\\x01" * len(block[::4096])
before_free = rss_mb()
del blocks
print(before_free - rss_mb())
"""


@pytest.mark.skipif(memory._libc() is None, reason="glibc only (the terminal's platform)")
@pytest.mark.parametrize("tuned", [True, False])
def test_large_blocks_go_back_to_the_system_when_freed(tuned: bool) -> None:
    # in a new interpreter, as the terminal calls tune_malloc at start: glibc's default threshold
    # moves up to 16 MiB when the first block is freed, and the 2 MiB blocks (each followed by a
    # small block that stays) are then served from the heap and stay resident after they are freed
    root = Path(memory.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    out = subprocess.run(
        [sys.executable, "-c", _LARGE_BLOCKS, "tuned" if tuned else "default"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    given_back = float(out.stdout.strip())
    if tuned:
        assert given_back > 60, given_back  # ~80 MB given back without malloc_trim
    else:
        assert given_back < 20, given_back  # what the test relies on: glibc keeps them


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
