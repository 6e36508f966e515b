"""Which certificate printer the terminal builds: CUPS in production, the spool directory in the
demo unless a private cupsd answers; and a demo terminal printing a certificate through a real
private cupsd with cups-pdf (packaging/cups/start-test-cupsd.sh) bound to 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from devices.docprinter.cups import CupsDocumentPrinter
from devices.docprinter.spool import PdfSpoolPrinter
from kiosk.config import REPO_ROOT, DevicesConfig, DocumentPrinterConfig, Profile, TerminalConfig, load_config
from terminal.demo_profile import DEMO_CITIZENS
from terminal.hardware import build_devices as _build_devices
from terminal.runtime import build_terminal
from terminal.simulators import SimulatorBench
from tests.cupsd import free_port, private_cupsd
from tests.kiosk.session_helpers import signature_png, to_confirm

QUEUE = f"kiosk-cert-t{os.getpid()}"
SENIOR = DEMO_CITIZENS[0]


def _demo_with(printer: DocumentPrinterConfig, data_dir: Path) -> TerminalConfig:
    return TerminalConfig(data_dir=str(data_dir), devices=DevicesConfig(document_printer=printer))


def test_production_auto_prints_certificates_through_cups(tmp_path: Path) -> None:
    example = load_config(REPO_ROOT / "docs" / "terminal.example.toml")
    assert example.profile is Profile.PRODUCTION
    config = example.model_copy(
        update={"devices": example.devices.model_copy(update={"document_printer": DocumentPrinterConfig()})}
    )
    assert config.devices.document_printer.driver == "auto"
    devices = _build_devices(config, None, tmp_path)
    assert isinstance(devices.document_printer, CupsDocumentPrinter)
    assert devices.document_printer.queue == "kiosk-a4"
    assert devices.document_printer.server is None  # the local cupsd


def test_demo_keeps_the_spool_printer_without_a_private_cupsd(tmp_path: Path) -> None:
    bench = SimulatorBench(tmp_path / "sim")
    try:
        plain = _build_devices(TerminalConfig(data_dir=str(tmp_path)), bench, tmp_path)
        assert isinstance(plain.document_printer, PdfSpoolPrinter)
        # A cupsd named but not there (nothing listens on the port): still the spool directory.
        nobody = _demo_with(DocumentPrinterConfig(cups_server=f"127.0.0.1:{free_port()}"), tmp_path)
        assert isinstance(_build_devices(nobody, bench, tmp_path).document_printer, PdfSpoolPrinter)
        spool = _demo_with(DocumentPrinterConfig(driver="spool", cups_server="127.0.0.1:631"), tmp_path)
        assert isinstance(_build_devices(spool, bench, tmp_path).document_printer, PdfSpoolPrinter)
    finally:
        bench.stop()


@pytest.fixture(scope="module")
def cupsd() -> Iterator[tuple[str, Path]]:
    with private_cupsd(QUEUE, "kiosk-cupsd-rt-") as server:
        yield server


@pytest.mark.slow
def test_demo_terminal_prints_the_certificate_through_a_private_cupsd(
    cupsd: tuple[str, Path], tmp_path: Path, face_verifier: Any
) -> None:
    server, pdf_dir = cupsd
    config = _demo_with(DocumentPrinterConfig(cups_server=server, cups_queue=QUEUE), tmp_path)
    terminal = build_terminal(config, tmp_path / "work", face=face_verifier)
    try:
        printer = terminal.session.devices.document_printer
        assert isinstance(printer, CupsDocumentPrinter) and printer.server == server
        to_confirm(terminal, SENIOR)
        assert terminal.session.outputs.choose_delivery("print_here") == {}
        assert terminal.session.submission.submit(signature_png()) is not None
        result = terminal.session.outputs.print("zh")
        assert result.certificate_printed and result.certificate_job is not None
        assert result.certificate_job.startswith(f"{QUEUE}-")
        deadline = time.monotonic() + 30
        while not printer.job_completed(result.certificate_job):
            assert time.monotonic() < deadline, "the CUPS job did not complete"
            time.sleep(0.1)
        [out] = sorted(pdf_dir.glob("*.pdf"))
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        number = result.certificate_number
        assert number is not None and number in text
        subprocess.run(
            ["pdftoppm", "-png", "-r", "150", "-singlefile", str(out), str(tmp_path / "page")], check=True
        )
        with Image.open(tmp_path / "page.png") as page:
            codes = [c.data.decode("utf-8") for c in zbar_decode(page, symbols=[ZBarSymbol.QRCODE])]
        assert len(codes) == 1 and codes[0].startswith(f"https://zwfw.example.gov.cn/verify/{number}?t=")
    finally:
        terminal.close()
