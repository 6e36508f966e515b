"""The certificate printer through IPP (driver "ipp") against a real private cupsd with the cups-pdf
backend, on a terminal whose locale is zh_CN.UTF-8: the queue's state, its state reasons (set in
cupsd the way a printer's backend reports them) and the job's state map onto the device status."""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, MediaError, RequiredAction
from devices.device_kind import DeviceContext
from devices.docprinter.cups import QueueStopped
from devices.docprinter.ipp import KEYWORD, OPERATION_TAG, URI, decode_response, encode_request
from devices.docprinter.ipp_printer import IppDocumentPrinter
from devices.docprinter.kind import DOCUMENT_PRINTER, DocumentPrinterConfig
from devices.interfaces import DocumentPrinter
from tests.cupsd import free_port, private_cupsd

QUEUE = f"kiosk-a4-ipp{os.getpid()}"
CUPS_ADD_MODIFY_PRINTER = 0x4003


@pytest.fixture(scope="module")
def cupsd() -> Iterator[tuple[str, Path]]:
    with private_cupsd(QUEUE, "cups-ipp-") as server:
        yield server


@pytest.fixture(autouse=True)
def chinese_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "zh_CN.UTF-8")


@pytest.fixture
def printer(cupsd: tuple[str, Path]) -> Iterator[IppDocumentPrinter]:
    p = IppDocumentPrinter(QUEUE, cupsd[0], sweep_at_start=False)
    yield p
    _set_reasons(p, [])
    subprocess.run(["cupsenable", "-h", cupsd[0], QUEUE], check=True)
    subprocess.run(["cupsaccept", "-h", cupsd[0], QUEUE], check=True)


def _set_reasons(printer: IppDocumentPrinter, reasons: list[str]) -> None:
    """What a printer's backend reports (``STATE: +media-empty-error``), set in cupsd directly."""
    printer.client.request(
        CUPS_ADD_MODIFY_PRINTER,
        QUEUE,
        [(KEYWORD, "printer-state-reasons", list(reasons) or ["none"])],
        path="/admin/",
    )


def _pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def test_the_queue_reads_ready_where_lpstat_speaks_chinese(
    cupsd: tuple[str, Path], printer: IppDocumentPrinter
) -> None:
    raw = subprocess.run(["lpstat", "-h", cupsd[0], "-p", QUEUE], capture_output=True, text=True, check=True)
    assert not raw.stdout.startswith(f"printer {QUEUE} ")  # translated: no English to parse
    assert isinstance(printer, DocumentPrinter)
    state = printer.queue_state()
    assert (state.state, state.accepting, state.reasons) == (3, True, ())
    assert printer.status() is DeviceStatus.READY


def test_a_certificate_prints_its_job_completes_and_is_purged(
    cupsd: tuple[str, Path], printer: IppDocumentPrinter
) -> None:
    _server, pdf_dir = cupsd
    before = set(pdf_dir.glob("*.pdf"))
    job_id = printer.print_pdf(_pdf("IPP CERTIFICATE 0001"), "LN0001-证书")
    assert job_id.startswith(f"{QUEUE}-")
    deadline = time.monotonic() + 30
    while not printer.job_completed(job_id):
        assert time.monotonic() < deadline, printer.job_state(job_id)
        time.sleep(0.1)
    (out,) = set(pdf_dir.glob("*.pdf")) - before
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "IPP CERTIFICATE 0001" in text
    # finished jobs purged: neither the document nor its history stays in cupsd
    assert printer._job_ids("completed") == []
    assert printer.job_completed(job_id)  # still known as completed


@pytest.mark.parametrize(
    ("reasons", "status"),
    [
        (["media-empty-error"], DeviceStatus.NO_MEDIA),
        (["media-needed"], DeviceStatus.NO_MEDIA),
        (["offline-report"], DeviceStatus.OFFLINE),
        (["media-jam-error"], DeviceStatus.HARDWARE_ERROR),
        (["media-low-report", "toner-low-warning"], DeviceStatus.MEDIA_LOW),
    ],
)
def test_printer_state_reasons_map_to_the_device_status(
    printer: IppDocumentPrinter, reasons: list[str], status: DeviceStatus
) -> None:
    _set_reasons(printer, reasons)
    assert printer.status() is status


def test_a_job_is_refused_with_the_action_that_clears_the_fault(printer: IppDocumentPrinter) -> None:
    doc = _pdf("refused")
    _set_reasons(printer, ["media-empty-error"])
    with pytest.raises(MediaError) as paper:
        printer.print_pdf(doc, "LN0002")
    assert paper.value.action is RequiredAction.CLEAR_BY_STAFF and paper.value.status is DeviceStatus.NO_MEDIA
    _set_reasons(printer, ["offline-report"])
    with pytest.raises(DeviceError) as offline:
        printer.print_pdf(doc, "LN0002")
    assert offline.value.action is RequiredAction.WAIT and offline.value.status is DeviceStatus.OFFLINE
    _set_reasons(printer, ["media-low-report"])
    assert printer.print_pdf(doc, "LN0002").startswith(QUEUE)  # paper low still prints


def test_a_stopped_or_rejecting_queue_needs_staff(
    cupsd: tuple[str, Path], printer: IppDocumentPrinter
) -> None:
    subprocess.run(["cupsdisable", "-h", cupsd[0], QUEUE], check=True)
    assert printer.status() is DeviceStatus.HARDWARE_ERROR
    with pytest.raises(QueueStopped, match="stopped"):
        printer.print_pdf(_pdf("x"), "LN0003")
    subprocess.run(["cupsenable", "-h", cupsd[0], QUEUE], check=True)
    subprocess.run(["cupsreject", "-h", cupsd[0], QUEUE], check=True)
    with pytest.raises(QueueStopped, match="rejecting"):
        printer.print_pdf(_pdf("x"), "LN0003")


def test_no_cupsd_or_no_queue_reads_offline(cupsd: tuple[str, Path], tmp_path: Path) -> None:
    gone = IppDocumentPrinter(QUEUE, f"127.0.0.1:{free_port()}", timeout=2, sweep_at_start=False)
    assert gone.status() is DeviceStatus.OFFLINE
    with pytest.raises(DeviceNotFound, match="not reachable"):
        gone.print_pdf(_pdf("x"), "LN0004")
    missing = IppDocumentPrinter("no-such-queue", cupsd[0], sweep_at_start=False)
    with pytest.raises(DeviceNotFound, match="not found"):
        missing.queue_state()
    # the config's driver "ipp" builds this printer on the section's queue and server
    built = DOCUMENT_PRINTER.build(
        DocumentPrinterConfig(driver="ipp", cups_queue=QUEUE, cups_server=cupsd[0]),
        DeviceContext(tmp_path, production=True),
    )
    assert isinstance(built, IppDocumentPrinter) and built.status() is DeviceStatus.READY


def test_the_encoding_round_trips_multi_valued_attributes() -> None:
    body = encode_request(
        0x000B,
        "ipp://localhost/printers/q",
        request_id=7,
        operation_attrs=[(KEYWORD, "requested-attributes", ["printer-state", "printer-state-reasons"])],
    )
    # a request has a response's layout (version, code, id, groups): decode it back
    decoded = decode_response(body)
    attrs = decoded.group(OPERATION_TAG)
    assert decoded.request_id == 7 and decoded.status == 0x000B
    assert attrs["printer-uri"] == ["ipp://localhost/printers/q"]
    assert attrs["requested-attributes"] == ["printer-state", "printer-state-reasons"]
    assert URI == 0x45
    with pytest.raises(ValueError):
        decode_response(body[:-9])  # cut inside a value
