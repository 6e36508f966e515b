"""The composition root builds devices through the registry: the demo bench's simulators by
default, the drivers the config names otherwise (in the demo profile too), nothing for an
optional device the production config leaves out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.barcode.kind import BARCODE
from devices.camera.opencv import OpenCvCamera
from devices.docprinter.spool import PdfSpoolPrinter
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.photo import SimulatorPhotoDecoder, VendorPhotoDecoder
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.registry import DeviceConfigError
from kiosk.config import REPO_ROOT, TerminalConfig, load_config
from kiosk.maintenance.service import MaintenanceService
from terminal.hardware import build_devices, close_devices, device_context
from terminal.runtime import SimulatorBench
from terminal.staff import build_staff_watcher

EXAMPLE = REPO_ROOT / "docs" / "terminal.example.toml"


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[SimulatorBench]:
    b = SimulatorBench(tmp_path / "sim")
    try:
        yield b
    finally:
        b.stop()


def test_demo_devices_are_the_real_drivers_on_the_bench_simulators(
    bench: SimulatorBench, tmp_path: Path
) -> None:
    devices = build_devices(TerminalConfig(data_dir=str(tmp_path)), bench, tmp_path)
    try:
        assert isinstance(devices.idcard, SerialIdCardReader)
        assert devices.idcard.port == str(bench.idcard_port)
        bench.idcard.insert("senior")
        read = devices.idcard.read_card(timeout=3.0)
        assert read is not None and read.text.id_number
        assert isinstance(devices.camera, OpenCvCamera) and isinstance(devices.document_camera, OpenCvCamera)
        devices.camera.open()
        assert devices.camera.read_frame(timeout=3.0).shape[:2] == (480, 640)
        assert isinstance(devices.receipt_printer, EscPosReceiptPrinter)
        assert isinstance(devices.document_printer, PdfSpoolPrinter)
        assert devices.document_printer.spool_dir == bench.spool_dir
        assert devices.barcode is not None
        bench.scanner.scan("EID:demo")
        assert devices.barcode.read_code(timeout=2.0) == "EID:demo"
        assert isinstance(devices.photo_decoder, SimulatorPhotoDecoder)
    finally:
        close_devices(devices)


def test_the_demo_profile_honours_a_hardware_driver(bench: SimulatorBench, tmp_path: Path) -> None:
    config = TerminalConfig.model_validate(
        {
            "data_dir": str(tmp_path),
            "devices": {
                "receipt_printer": {"driver": "network", "host": "192.0.2.55", "port": 9109},
                "barcode": {"driver": "none"},
                "idcard": {"photo_library": str(tmp_path / "libwlt.so")},
            },
        }
    )
    devices = build_devices(config, bench, tmp_path)
    try:
        printer = devices.receipt_printer
        assert isinstance(printer, EscPosReceiptPrinter)
        transport = printer._transport
        assert (transport.host, transport.port) == ("192.0.2.55", 9109)  # type: ignore[attr-defined]
        assert devices.barcode is None
        assert isinstance(devices.photo_decoder, VendorPhotoDecoder)
        assert not devices.photo_decoder.available  # no such library: decoding falls back
    finally:
        close_devices(devices)


def test_production_leaves_an_unconfigured_optional_device_off(tmp_path: Path) -> None:
    config = load_config(EXAMPLE)
    assert not config.devices.configured(BARCODE)
    devices = build_devices(config, None, tmp_path)
    assert devices.barcode is None
    assert isinstance(devices.receipt_printer, EscPosReceiptPrinter)


def test_a_simulator_driver_without_the_bench_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DeviceConfigError, match=r"devices\.idcard\.driver = 'simulator' is not available"):
        build_devices(TerminalConfig(data_dir=str(tmp_path)), None, tmp_path)


def test_staff_card_driver_none_means_no_watcher(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('driver = "pcsc"', 'driver = "none"')
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    maintenance = MaintenanceService.__new__(MaintenanceService)  # never used: no reader
    assert (
        build_staff_watcher(config, maintenance, None, tmp_path, device_context(config, None, tmp_path))
        is None
    )


def test_a_device_the_registry_cannot_build_stops_the_start_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    import threading
    import time

    from kiosk.config import DevicesConfig, ReceiptPrinterConfig
    from terminal.runtime import build_terminal

    before = {t.ident for t in threading.enumerate()}
    printer = ReceiptPrinterConfig.model_construct(driver="bluetooth")  # past the schema, as a caller could
    config = TerminalConfig(data_dir=str(tmp_path), devices=DevicesConfig(receipt_printer=printer))
    with pytest.raises(DeviceConfigError, match=r"devices\.receipt_printer\.driver = 'bluetooth' is unknown"):
        build_terminal(config, tmp_path / "work")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not left:
            break
        time.sleep(0.05)
    assert not left, f"still running: {left}"
    assert not list((tmp_path / "work").glob("kiosk-sim-*"))
