"""The sandbox platform the crash tests' terminals submit to, serving the one item they use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox_platform.server import SandboxServer
from tests.crash.harness import ITEM_ID
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path, ITEM_ID) as srv:
        yield srv
