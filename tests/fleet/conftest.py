"""Fixtures for the fleet tests: a sandbox platform on 127.0.0.1, enrolled clients, stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceStatus
from kiosk.cases.platform_client import PlatformClient
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path, "x") as srv:
        yield srv


def enrolled(server: SandboxServer, terminal_id: str) -> PlatformClient:
    client = PlatformClient(server.url, terminal_id, timeout=5.0)
    client.enrol(code=server.enrolment_code(terminal_id))
    return client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "kiosk.sqlite3")
    yield s
    s.close()


class PanelDevices:
    """The statuses a device panel reports; the tests set them as a device would change."""

    def __init__(self, **statuses: DeviceStatus) -> None:
        self.now = dict(statuses)
        self.queries = 0

    def statuses(self) -> dict[str, DeviceStatus]:
        self.queries += 1
        return dict(self.now)
