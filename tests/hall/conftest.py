"""A sandbox platform on 127.0.0.1, a signed enrolled client, and the ESC/POS printer simulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.platform_client import PlatformClient
from kiosk.cases.platform_hall import HallPlatform
from kiosk.hall import HallServices
from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path, "x") as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    with PlatformClient(server.url, "H1", signing_key=Ed25519PrivateKey.generate()) as c:
        c.enrol(code=server.enrolment_code("H1"))
        yield c


@pytest.fixture
def printer() -> Iterator[ReceiptPrinterSimulator]:
    sim = ReceiptPrinterSimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def hall(client: PlatformClient, printer: ReceiptPrinterSimulator, tmp_path: Path) -> HallServices:
    return HallServices(
        HallPlatform(client),
        EscPosReceiptPrinter("127.0.0.1", printer.port),
        hall_name="德州市政务服务中心",
        terminal_id="H1",
        counter_path=tmp_path / "hall-counter.json",
    )
