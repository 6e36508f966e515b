"""PDF spool printer on a real directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devices.base import DeviceNotFound, DeviceStatus, MediaError, RequiredAction
from devices.docprinter import PdfSpoolPrinter
from devices.interfaces import DocumentPrinter

PDF = b"%PDF-1.4\n% test\n%%EOF\n"


def test_spools_atomically(tmp_path: Path) -> None:
    printer = PdfSpoolPrinter(tmp_path)
    assert isinstance(printer, DocumentPrinter)
    assert printer.status() is DeviceStatus.READY
    job = printer.print_pdf(PDF, "老年人优待证")
    assert (tmp_path / f"{job}.pdf").read_bytes() == PDF
    assert [p.name for p in tmp_path.iterdir()] == [f"{job}.pdf"]  # no temp file left
    assert printer.print_pdf(PDF, "x") != job


def test_missing_directory(tmp_path: Path) -> None:
    printer = PdfSpoolPrinter(tmp_path / "nope")
    assert printer.status() is DeviceStatus.OFFLINE
    with pytest.raises(DeviceNotFound) as info:
        printer.print_pdf(PDF, "t")
    assert info.value.action is RequiredAction.MAINTENANCE


def test_spool_path_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "spool"
    target.write_text("not a dir")
    with pytest.raises(DeviceNotFound):
        PdfSpoolPrinter(target).print_pdf(PDF, "t")


def test_unwritable_directory(tmp_path: Path) -> None:
    """sysfs refuses file creation with EACCES to everyone, root included (tests may run as root)."""
    if os.geteuid() == 0:
        spool: Path = Path("/sys")
    else:
        spool = tmp_path / "ro"
        spool.mkdir(mode=0o555)
    printer = PdfSpoolPrinter(spool)
    with pytest.raises(MediaError) as info:
        printer.print_pdf(PDF, "t")
    assert info.value.action is RequiredAction.MAINTENANCE
    assert info.value.status is DeviceStatus.HARDWARE_ERROR


def test_rejects_non_pdf(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a PDF"):
        PdfSpoolPrinter(tmp_path).print_pdf(b"hello", "t")
