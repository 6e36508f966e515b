"""terminal/memory.py: the malloc arena cap, and memory given back after warm-up and each session."""

from __future__ import annotations

import linecache
import re
import time
from pathlib import Path
from typing import cast

import pytest

from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.events import EventBus, SessionEnded, StepChanged
from kiosk.session.machine import Step
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


def test_release_drops_the_module_source_cache() -> None:
    _cache_a_module_source()
    memory.release_memory()
    assert memory.__file__ not in linecache.cache


def test_memory_is_released_when_a_session_ends_not_on_other_events() -> None:
    bus = EventBus()

    class Session:  # the coordinator's subscribe(), nothing else is used
        subscribe = bus.subscribe

    memory.release_after_sessions(cast(SessionCoordinator, Session()))
    _cache_a_module_source()
    bus.publish(StepChanged(Step.ATTRACT, Step.CHOOSE_ITEM, "s1", None))
    time.sleep(0.3)
    assert memory.__file__ in linecache.cache
    bus.publish(SessionEnded("s1", "completed"))
    deadline = time.monotonic() + 5
    while memory.__file__ in linecache.cache and time.monotonic() < deadline:
        time.sleep(0.05)
    assert memory.__file__ not in linecache.cache
