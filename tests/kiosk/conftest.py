"""Fixtures shared by the kiosk tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox_platform.server import SandboxServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox platform on 127.0.0.1 serving one minimal item package (modules that need other
    packages define their own ``server``)."""
    items = tmp_path / "items"
    items.mkdir()
    (items / "x.json").write_bytes(b'{"id":"x","version":"1"}')
    srv = SandboxServer(tmp_path / "platform", items).start()
    yield srv
    srv.close()
