"""Fixtures of the step-level tests (see helpers.py): a stocked store, the session context, the
events it publishes, and the parts of the submit and result steps (the receipt on the simulated
ESC/POS printer, real bytes over TCP; the certificate in the PDF spool; no platform)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.docprinter.spool import PdfSpoolPrinter
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.outbox import OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from kiosk.session.context import SessionContext
from kiosk.session.steps.numbers import Numbering
from kiosk.session.steps.outputs import OutputsStep
from kiosk.session.steps.submit import SubmitStep
from offline_cache.store import Store
from tests.kiosk.steps.helpers import Parts, Recorder, make_ctx, stock


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "terminal.db")
    stock(s)
    yield s
    s.close()


@pytest.fixture
def ctx(store: Store) -> SessionContext:
    return make_ctx(store, card_timeout_s=10.0)


@pytest.fixture
def recorder(ctx: SessionContext) -> Recorder:
    rec = Recorder()
    ctx.events.subscribe(rec)
    return rec


@pytest.fixture
def parts(ctx: SessionContext, tmp_path: Path) -> Iterator[Parts]:
    printer = ReceiptPrinterSimulator().start()
    receipt = EscPosReceiptPrinter("127.0.0.1", printer.port)
    client = PlatformClient("http://127.0.0.1:9", ctx.config.terminal_id, timeout=0.5)
    drainer = OutboxDrainer(ctx.store, client)  # never started: nothing leaves the terminal
    numbering = Numbering(ctx)
    spool = tmp_path / "spool"
    spool.mkdir()
    outputs = OutputsStep(ctx, receipt, PdfSpoolPrinter(spool), drainer, numbering)
    yield Parts(outputs, SubmitStep(ctx, drainer, outputs, numbering), printer, spool)
    receipt.close()
    printer.stop()
    client.close()
