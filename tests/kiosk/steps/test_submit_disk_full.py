"""Issue 17, finding 8: the disk fills up right after the case is stored.

The store, its WAL and the ledger live on a small tmpfs mounted for the test (a real filesystem
answering ENOSPC, not a mock).  The moment the case and its outbox entry are committed, the WAL is
truncated (as SQLite does at a checkpoint) and the filesystem is filled to the last byte, so every
later write of the session (the audit records, the certificate number, the ledger and archive, the
publicity job, the outputs' audit) meets a full disk.  The citizen still gets the result screen and
a receipt with the case number, the session ends in a defined state, and once space is back the
case reaches the sandbox platform exactly once: nothing is lost.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.docprinter.spool import PdfSpoolPrinter
from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.cases.outbox import OutboxDrainer
from kiosk.cases.platform_client import PlatformClient
from kiosk.outputs.records import Ledger
from kiosk.session.context import SessionContext
from kiosk.session.events import CaseSubmitted, ProblemRaised
from kiosk.session.machine import Step
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.numbers import Numbering
from kiosk.session.steps.outputs import OutputsStep
from kiosk.session.steps.review import ReviewStep
from kiosk.session.steps.submit import SubmitStep
from offline_cache.store import OutboxState, StorageError, Store
from sandbox_platform.server import SandboxServer
from tests.kiosk.steps.helpers import ITEMS, NOW, Recorder, make_ctx, stock, walk_to

FILLER = "filler.bin"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs of its own (root in tests and CI)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(directory: Path) -> None:
    """Write until the filesystem refuses another byte (ENOSPC)."""
    with open(directory / FILLER, "ab", buffering=0) as fh:
        for size in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    fh.write(b"\0" * size)
                except OSError as err:
                    assert err.errno == errno.ENOSPC
                    break


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    srv = SandboxServer(tmp_path / "platform", ITEMS).start()
    yield srv
    srv.close()


def test_a_full_disk_right_after_the_case_is_stored_loses_nothing(
    disk: Path, tmp_path: Path, server: SandboxServer
) -> None:
    store = Store(disk / "terminal.db", key=bytes(range(32)))
    stock(store)
    ctx: SessionContext = make_ctx(store)
    recorder = Recorder()
    ctx.events.subscribe(recorder)
    client = PlatformClient(
        server.url, ctx.config.terminal_id, timeout=3.0, signing_key=Ed25519PrivateKey.generate()
    )
    client.enrol(code=client.sandbox.issue_enrolment_code(ctx.config.terminal_id))
    drainer = OutboxDrainer(store, client)  # driven by hand below
    printer = ReceiptPrinterSimulator().start()
    receipt = EscPosReceiptPrinter("127.0.0.1", printer.port)
    numbering = Numbering(ctx)
    spool = tmp_path / "spool"
    spool.mkdir()
    outputs = OutputsStep(ctx, receipt, PdfSpoolPrinter(spool), drainer, numbering)
    ledger = Ledger(disk / "ledger", key=b"L" * 32)
    submission = SubmitStep(ctx, drainer, outputs, numbering, ledger=ledger)
    try:
        walk_to(ctx, Step.FORM, "senior-card")
        ctx.data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
        form = FormStep(ctx)
        assert form.submit({f.key: f.value for f in form.fields()}) == {}
        review = ReviewStep(ctx)
        try:
            review.run()
        finally:
            review.close()
        assert ctx.machine.step is Step.CONFIRM_SIGN

        real_add = store.cases.add

        def add_then_fill(*args: Any, **kwargs: Any) -> None:
            real_add(*args, **kwargs)  # the case and its outbox entry: committed
            store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            fill(disk)

        store.cases.add = add_then_fill  # type: ignore[method-assign]
        client.sandbox.set_faults(down=True)  # the upload cannot settle it while the disk is full

        result = submission.submit(b"\x89PNG signature")

        with pytest.raises(StorageError):  # the disk really is full for the store
            store.audit_trail.append("probe", {"n": 1})
        assert result is not None and result.queued and not result.acknowledged
        assert ctx.machine.step is Step.RESULT and ctx.data.case.case_id == result.case_id
        assert [e.result for e in recorder.of(CaseSubmitted)] == [result]  # type: ignore[attr-defined]
        printed = outputs.print("zh")
        assert printed.receipt_printed  # the citizen leaves with the case number ...
        assert (
            printed.problem is not None and printed.problem.detail_key == "problem.storage"
        )  # ... and is told
        [slip] = printer.wait_for_receipts(1, timeout=10.0)
        assert result.case_number in slip.text.replace("\n", "")  # the short number, never the UUID

        # Space comes back; the case is still there and reaches the platform exactly once.
        os.remove(disk / FILLER)
        client.sandbox.set_faults()
        stored = store.cases.get(result.case_id)
        assert stored is not None and stored.state is OutboxState.PENDING
        store.outbox.retry(result.case_id, "test: due now", 0.0)
        drainer.drain_once()
        received = [c for c in client.sandbox.received_cases() if c["case_id"] == result.case_id]
        assert len(received) == 1
        assert store.cases.get(result.case_id).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]
    finally:
        receipt.close()
        printer.stop()
        client.close()
        store.close()


def test_a_disk_already_full_takes_the_terminal_out_of_service_with_the_storage_problem(disk: Path) -> None:
    """The case cannot be stored: no crash, the terminal goes out of service saying why."""
    store = Store(disk / "terminal.db", key=bytes(range(32)))
    stock(store)
    ctx = make_ctx(store)
    recorder = Recorder()
    ctx.events.subscribe(recorder)
    client = PlatformClient("http://127.0.0.1:9", ctx.config.terminal_id, timeout=0.5)
    drainer = OutboxDrainer(store, client)  # never started
    numbering = Numbering(ctx)
    spool = disk / "spool"
    spool.mkdir()
    printer = ReceiptPrinterSimulator().start()
    receipt = EscPosReceiptPrinter("127.0.0.1", printer.port)
    outputs = OutputsStep(ctx, receipt, PdfSpoolPrinter(spool), drainer, numbering)
    try:
        walk_to(ctx, Step.FORM, "senior-card")
        ctx.data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
        form = FormStep(ctx)
        assert form.submit({f.key: f.value for f in form.fields()}) == {}
        review = ReviewStep(ctx)
        try:
            review.run()
        finally:
            review.close()
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fill(disk)
        assert SubmitStep(ctx, drainer, outputs, numbering).submit(b"\x89PNG signature") is None
        assert ctx.machine.step is Step.OUT_OF_SERVICE
        assert (
            ctx.machine.data.problem is not None and ctx.machine.data.problem.detail_key == "problem.storage"
        )
        assert [e.problem.device for e in recorder.of(ProblemRaised)] == ["storage"]  # type: ignore[attr-defined]
    finally:
        receipt.close()
        printer.stop()
        client.close()
        store.close()
