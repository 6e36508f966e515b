"""CupsDocumentPrinter against a real private cupsd with the cups-pdf backend on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pyzbar import pyzbar

from devices.base import DeviceNotFound, DeviceStatus, RequiredAction
from devices.docprinter.cups import CupsDocumentPrinter, QueueStopped
from devices.interfaces import DocumentPrinter
from kiosk.outputs.render import (
    DEMO_CERT_SIGNING_KEY,
    CertificateData,
    build_certificate_pdf,
    token_from_qr,
    verify_certificate_token,
)
from tests.cupsd import free_port, private_cupsd

QUEUE = f"kiosk-a4-t{os.getpid()}"


@pytest.fixture(scope="module")
def cupsd() -> Iterator[tuple[str, Path]]:
    with private_cupsd(QUEUE, "kiosk-cupsd-") as server:
        yield server


def _wait_for_pdf(printer: CupsDocumentPrinter, pdf_dir: Path, before: set[Path], job_id: str) -> Path:
    """The PDF cups-pdf wrote for ``job_id``: the new file once CUPS calls the job completed."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if printer.job_completed(job_id):
            new = sorted(set(pdf_dir.glob("*.pdf")) - before)
            assert len(new) == 1, new
            return new[0]
        time.sleep(0.1)
    lp = subprocess.run(
        ["lpstat", "-h", printer.server or "", "-W", "all", "-l", "-o"], capture_output=True, text=True
    ).stdout
    raise AssertionError(f"{lp} job {job_id} did not complete: {sorted(p.name for p in pdf_dir.iterdir())}")


CERT = CertificateData(
    title="老年人优待证",
    number="LN0001202611230001",
    holder_name="张桂兰",
    id_number="371402195203140022",
    issue_date=dt.date(2026, 11, 23),
    authority="德州市德城区民政局",
    verify_url="https://zwfw.example.gov.cn/verify/LN0001202611230001",
)


def test_certificate_through_real_cups(cupsd: tuple[str, Path], tmp_path: Path) -> None:
    server, pdf_dir = cupsd
    printer = CupsDocumentPrinter(QUEUE, server)
    assert isinstance(printer, DocumentPrinter)
    assert printer.status() is DeviceStatus.READY
    before = set(pdf_dir.glob("*.pdf"))
    job = printer.print_pdf(build_certificate_pdf(CERT), title=CERT.number)
    assert job.startswith(f"{QUEUE}-")
    out = _wait_for_pdf(printer, pdf_dir, before, job)
    assert out.read_bytes().startswith(b"%PDF-")
    # The PDF as submitted: every field, CJK included, with the TrueType font embedded.
    submitted = tmp_path / "submitted.pdf"
    submitted.write_bytes(build_certificate_pdf(CERT))
    text = subprocess.run(["pdftotext", str(submitted), "-"], capture_output=True, text=True, check=True)
    for expected in (
        "老年人优待证",
        "LN0001202611230001",
        "张桂兰",
        "371402195203140022",
        "德州市德城区民政局",
    ):
        assert expected in text.stdout
    fonts = subprocess.run(["pdffonts", str(submitted)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts or "Droid" in fonts, fonts
    # What came out of CUPS (PDF -> PostScript -> Ghostscript): the ASCII fields are text; CJK
    # glyphs lose their Unicode map in that round trip, so the QR below carries the proof.
    printed = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "LN0001202611230001" in printed and "371402195203140022" in printed
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(out), str(tmp_path / "page")], check=True
    )
    page = Image.open(tmp_path / "page.png")
    codes = pyzbar.decode(page, symbols=[pyzbar.ZBarSymbol.QRCODE])
    assert len(codes) == 1
    content = codes[0].data.decode("utf-8")
    assert content.startswith(CERT.verify_url + "?t=")
    claims = verify_certificate_token(token_from_qr(content), DEMO_CERT_SIGNING_KEY)
    assert claims["n"] == CERT.number and claims["i"] == "3714**********0022"


def test_stopped_queue_is_a_typed_error(cupsd: tuple[str, Path]) -> None:
    server, pdf_dir = cupsd
    printer = CupsDocumentPrinter(QUEUE, server)
    subprocess.run(["cupsdisable", "-h", server, QUEUE], check=True)
    try:
        assert printer.status() is DeviceStatus.HARDWARE_ERROR
        before = set(pdf_dir.iterdir())
        with pytest.raises(QueueStopped) as info:
            printer.print_pdf(build_certificate_pdf(CERT), title=CERT.number)
        assert info.value.action is RequiredAction.CLEAR_BY_STAFF
        assert set(pdf_dir.iterdir()) == before
    finally:
        subprocess.run(["cupsenable", "-h", server, QUEUE], check=True)
    assert printer.status() is DeviceStatus.READY
    subprocess.run(["cupsreject", "-h", server, QUEUE], check=True)
    try:
        with pytest.raises(QueueStopped):
            printer.print_pdf(build_certificate_pdf(CERT), title=CERT.number)
    finally:
        subprocess.run(["cupsaccept", "-h", server, QUEUE], check=True)


def test_no_scheduler_is_offline() -> None:
    printer = CupsDocumentPrinter(QUEUE, f"127.0.0.1:{free_port()}", timeout=10)
    assert printer.status() is DeviceStatus.OFFLINE
    with pytest.raises(DeviceNotFound):
        printer.print_pdf(b"%PDF-1.4\n%%EOF\n", "x")


def _spooled_documents(pdf_dir: Path) -> list[str]:
    """cupsd's own copies of submitted documents (``d<job>-<n>`` under its RequestRoot)."""
    return sorted(p.name for p in (pdf_dir.parent / "spool").iterdir() if p.name.startswith("d"))


def _completed(server: str) -> list[str]:
    out = subprocess.run(
        ["lpstat", "-h", server, "-W", "completed", "-o", QUEUE], capture_output=True, text=True, check=True
    ).stdout
    return [line.split(" ", 1)[0] for line in out.splitlines() if line.strip()]


def test_printed_certificates_do_not_stay_in_the_cups_spool(cupsd: tuple[str, Path]) -> None:
    """Issue 17: cupsd kept the certificate PDF (name and full ID number) after printing."""
    server, pdf_dir = cupsd
    printer = CupsDocumentPrinter(QUEUE, server)
    before = set(pdf_dir.glob("*.pdf"))
    job = printer.print_pdf(build_certificate_pdf(CERT), title=CERT.number)
    _wait_for_pdf(printer, pdf_dir, before, job)  # job_completed saw it done, then purged it
    assert printer.job_completed(job)
    assert _spooled_documents(pdf_dir) == [] and _completed(server) == []

    # A job finished while the terminal was down is purged by the sweep at start.
    quiet = CupsDocumentPrinter(QUEUE, server, sweep_at_start=False)
    before = set(pdf_dir.glob("*.pdf"))
    job = quiet.print_pdf(build_certificate_pdf(CERT), title=CERT.number)
    deadline = time.monotonic() + 30
    while job not in _completed(server):
        assert time.monotonic() < deadline, "job did not complete"
        time.sleep(0.1)
    assert _spooled_documents(pdf_dir)  # cupsd keeps the document by default ...
    CupsDocumentPrinter(QUEUE, server)
    assert _spooled_documents(pdf_dir) == [] and _completed(server) == []  # ... until the sweep
