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


def test_jobs_not_taken_are_deleted_at_start_and_before_each_job(tmp_path: Path) -> None:
    """Issue 17: a certificate (name and full ID number) stayed in the spool for ever."""
    now = [1_000_000.0]
    old = tmp_path / "20261123-101500-deadbeef.pdf"
    old.write_bytes(b"%PDF-1.4 old certificate")
    leftover = tmp_path / ".20261123-101500-cafebabe.pdf.tmp"
    leftover.write_bytes(b"%PDF-1.4 half written")
    other = tmp_path / "README"
    other.write_text("not a job")
    for path in (old, leftover, other):
        os.utime(path, (now[0] - 3600, now[0] - 3600))
    printer = PdfSpoolPrinter(tmp_path, max_age_s=900, clock=lambda: now[0])
    assert not old.exists() and not leftover.exists()  # swept at start
    assert other.exists()  # only job files are touched
    job = printer.print_pdf(b"%PDF-1.4 new", "x")
    fresh = tmp_path / f"{job}.pdf"
    os.utime(fresh, (now[0], now[0]))
    assert not printer.job_completed(job)
    now[0] += 600
    assert printer.sweep() == [] and fresh.exists()  # within the limit: the print server may take it
    now[0] += 301
    second = printer.print_pdf(b"%PDF-1.4 next", "y")  # the sweep before a job
    assert not fresh.exists() and printer.job_completed(job)
    assert (tmp_path / f"{second}.pdf").exists()
    with pytest.raises(ValueError):
        PdfSpoolPrinter(tmp_path, max_age_s=0)


def test_sweep_of_a_missing_directory_is_harmless(tmp_path: Path) -> None:
    printer = PdfSpoolPrinter(tmp_path / "gone")
    assert printer.sweep() == [] and printer.status() is DeviceStatus.OFFLINE
