"""Fixtures shared by the kiosk tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_cache.store import Store
from sandbox_platform.server import SandboxServer
from tests.kiosk.recording_proxy import RecordingProxy
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox platform on 127.0.0.1 serving one minimal item package (modules that need other
    packages define their own ``server``)."""
    with sandbox_platform(tmp_path, "x") as srv:
        yield srv


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """The terminal's encrypted store in a fresh file (a fixed test key)."""
    s = Store(tmp_path / "kiosk.db", key=bytes(range(32)))
    yield s
    s.close()


@pytest.fixture
def proxy(server: SandboxServer) -> Iterator[RecordingProxy]:
    """A recording proxy in front of ``server`` (point the client at ``proxy.url``)."""
    p = RecordingProxy(server.port)
    yield p
    p.close()
