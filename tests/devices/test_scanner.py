"""SaneScanner against SANE's own ``test`` backend (real scanimage, real libsane)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, DeviceTimeout, RequiredAction
from devices.interfaces import DocumentScanner, ScanSource
from devices.scanner import (
    CoverOpen,
    FeederEmpty,
    SaneScanner,
    ScannerBusy,
    ScannerJammed,
    sane_test_backend_env,
)
from kiosk.documents.pagecapture import capture_page


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return sane_test_backend_env(tmp_path / "sane", devices=2)


def test_scanimage_is_installed() -> None:
    assert shutil.which("scanimage"), "sane-utils (packaging/system-packages.txt)"


def test_lists_the_test_scanners_and_reports_ready(env: dict[str, str]) -> None:
    scanner = SaneScanner(env=env)
    assert isinstance(scanner, DocumentScanner)
    assert [name for name, _ in scanner.list_devices()] == ["test:0", "test:1"]
    assert scanner.status() is DeviceStatus.READY
    assert SaneScanner("test:1", env=env).status() is DeviceStatus.READY


def test_flatbed_scan_at_the_asked_resolution(env: dict[str, str]) -> None:
    scanner = SaneScanner("test:0", env=env, options=("--mode", "Color", "--test-picture", "Grid"))
    (page,) = scanner.scan(ScanSource.FLATBED, resolution_dpi=100)
    # the test backend's default area is 80 x 100 mm: 315 x 394 px at 100 dpi (give or take one)
    assert page.dtype == np.uint8 and page.ndim == 3
    assert abs(page.shape[1] - 315) <= 1 and abs(page.shape[0] - 394) <= 1
    # a black-and-white grid: both inks, nothing in between
    gray = page.mean(axis=2)
    assert 0.2 < float((gray < 64).mean()) < 0.8 and float(((gray > 64) & (gray < 192)).mean()) < 0.05
    (page2,) = scanner.scan(ScanSource.FLATBED, resolution_dpi=200)
    assert abs(page2.shape[1] - 630) <= 2


def test_scanned_page_is_its_own_page_for_capture(env: dict[str, str]) -> None:
    scanner = SaneScanner("test:0", env=env, options=("--mode", "Color", "--test-picture", "Solid white"))
    (page,) = scanner.scan(resolution_dpi=100)
    page[150:160, 40:280] = 0  # a line of "ink" so the page is not featureless
    cap = capture_page(page)  # a scan has no plate around the page: the whole image is the page
    h, w = page.shape[:2]
    assert cap.quad == ((0.0, 0.0), (w - 1.0, 0.0), (w - 1.0, h - 1.0), (0.0, h - 1.0))
    assert cap.rotation == 0


def test_feeder_returns_every_sheet(env: dict[str, str]) -> None:
    pages = SaneScanner("test:0", env=env).scan(ScanSource.ADF, resolution_dpi=50)
    assert len(pages) == 10  # the test backend's feeder holds ten sheets
    assert all(p.shape == pages[0].shape for p in pages)


@pytest.mark.parametrize(
    ("status", "error", "action", "device_status"),
    [
        ("SANE_STATUS_JAMMED", ScannerJammed, RequiredAction.CLEAR_BY_STAFF, DeviceStatus.HARDWARE_ERROR),
        ("SANE_STATUS_NO_DOCS", FeederEmpty, RequiredAction.RETRY, DeviceStatus.NO_MEDIA),
        ("SANE_STATUS_COVER_OPEN", CoverOpen, RequiredAction.RETRY, DeviceStatus.USER_ERROR),
        ("SANE_STATUS_DEVICE_BUSY", ScannerBusy, RequiredAction.WAIT, DeviceStatus.BUSY),
        ("SANE_STATUS_IO_ERROR", DeviceError, RequiredAction.RESET, DeviceStatus.HARDWARE_ERROR),
    ],
)
def test_backend_failures_become_typed_errors(
    env: dict[str, str],
    status: str,
    error: type[DeviceError],
    action: RequiredAction,
    device_status: DeviceStatus,
) -> None:
    scanner = SaneScanner("test:0", env=env, options=("--read-return-value", status))
    with pytest.raises(error) as info:
        scanner.scan(ScanSource.FLATBED, resolution_dpi=50)
    assert type(info.value) is error
    assert info.value.action is action and info.value.status is device_status
    assert info.value.device == "document_scanner"


def test_jam_in_the_feeder(env: dict[str, str]) -> None:
    scanner = SaneScanner("test:0", env=env, options=("--read-return-value", "SANE_STATUS_JAMMED"))
    with pytest.raises(ScannerJammed):
        scanner.scan(ScanSource.ADF, resolution_dpi=50)


def test_empty_feeder_before_the_first_sheet(env: dict[str, str]) -> None:
    # scanimage ends a batch that found no sheet with exit status 0 and no file
    scanner = SaneScanner("test:0", env=env, options=("--read-return-value", "SANE_STATUS_NO_DOCS"))
    with pytest.raises(FeederEmpty) as info:
        scanner.scan(ScanSource.ADF, resolution_dpi=50)
    assert info.value.action is RequiredAction.RETRY


def test_no_scanner(tmp_path: Path) -> None:
    env = sane_test_backend_env(tmp_path / "sane")
    (tmp_path / "sane" / "dll.conf").write_text("\n")  # no backend at all: nothing attached
    scanner = SaneScanner(env=env)
    assert scanner.list_devices() == []
    assert scanner.status() is DeviceStatus.OFFLINE
    with pytest.raises(DeviceNotFound) as info:
        scanner.scan()
    assert info.value.action is RequiredAction.MAINTENANCE


def test_named_scanner_missing(env: dict[str, str]) -> None:
    scanner = SaneScanner("test:7", env=env)
    assert scanner.status() is DeviceStatus.OFFLINE
    with pytest.raises(DeviceNotFound):
        scanner.scan()


def test_scanimage_missing_and_slow(env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(DeviceNotFound):
        SaneScanner("test:0", env=env, scanimage=str(tmp_path / "no-scanimage")).scan()
    slow = SaneScanner(
        "test:0",
        env=env,
        timeout=1.0,
        options=("--read-delay=yes", "--read-delay-duration", "200000", "--read-limit=yes",
                 "--read-limit-size", "16"),
    )  # fmt: skip
    with pytest.raises(DeviceTimeout):
        slow.scan(resolution_dpi=300)


def test_bad_resolution(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        SaneScanner("test:0", env=env).scan(resolution_dpi=20)


def test_a_frontend_that_hangs_after_reporting_a_failure_is_ended(
    env: dict[str, str], tmp_path: Path
) -> None:
    # scanimage's SIGPIPE handler can deadlock with the test backend's reader thread after it
    # printed the failure (about 1 run in 8 with --read-return-value): the driver must not wait
    # for its full timeout.  This frontend prints what scanimage prints, then never exits.
    hung = tmp_path / "scanimage-hung"
    hung.write_text(
        "#!/bin/sh\n"
        'case "$1" in -f) printf "test:0\\tNoname\\tframe-test\\tvirtual device\\n"; exit 0;; esac\n'
        'echo "scanimage: sane_read: Device busy" >&2\n'
        "exec sleep 60\n"
    )
    hung.chmod(0o755)
    scanner = SaneScanner("test:0", env=env, timeout=30.0, scanimage=str(hung))
    t0 = time.monotonic()
    with pytest.raises(ScannerBusy):
        scanner.scan()
    assert time.monotonic() - t0 < 10.0
