"""Fixtures shared by the kiosk tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    """A sandbox platform on 127.0.0.1 serving one minimal item package (modules that need other
    packages define their own ``server``)."""
    with sandbox_platform(tmp_path, "x") as srv:
        yield srv
