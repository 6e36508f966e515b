"""Serial barcode scanner driver against the pty simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devices.barcode import SerialBarcodeReader
from devices.barcode.simulator import BarcodeScannerSimulator
from devices.base import DeviceNotFound, DeviceStatus, ProtocolError
from devices.interfaces import BarcodeReader


@pytest.fixture
def scanner() -> Iterator[BarcodeScannerSimulator]:
    with BarcodeScannerSimulator() as sim:
        yield sim


@pytest.fixture
def reader(scanner: BarcodeScannerSimulator) -> Iterator[SerialBarcodeReader]:
    r = SerialBarcodeReader(scanner.port)
    yield r
    r.close()


def test_scan_through_pty(scanner: BarcodeScannerSimulator, reader: SerialBarcodeReader) -> None:
    assert isinstance(reader, BarcodeReader)
    assert reader.status() is DeviceStatus.READY
    scanner.scan("https://zwfw.example.gov.cn/appt?id=琼A-0001")
    assert reader.read_code(2) == "https://zwfw.example.gov.cn/appt?id=琼A-0001"


def test_cr_crlf_and_lf_terminators(scanner: BarcodeScannerSimulator, reader: SerialBarcodeReader) -> None:
    scanner.scan("6901234567892", terminator=b"\r")
    scanner.scan("预约号A12", terminator=b"\r\n")
    scanner.scan("X3", terminator=b"\n")
    assert [reader.read_code(2) for _ in range(3)] == ["6901234567892", "预约号A12", "X3"]


def test_code_split_across_writes(scanner: BarcodeScannerSimulator, reader: SerialBarcodeReader) -> None:
    raw = "办件码DZ01".encode() + b"\r\n"
    scanner.write_raw(raw[:4])  # cut inside a UTF-8 sequence
    assert reader.read_code(0.2) is None
    scanner.write_raw(raw[4:])
    assert reader.read_code(2) == "办件码DZ01"


def test_timeout_returns_none(reader: SerialBarcodeReader) -> None:
    assert reader.read_code(0.2) is None


def test_not_utf8_is_protocol_error(scanner: BarcodeScannerSimulator, reader: SerialBarcodeReader) -> None:
    scanner.write_raw(b"\xff\xfe\r\n")
    with pytest.raises(ProtocolError):
        reader.read_code(2)
    scanner.scan("OK")
    assert reader.read_code(2) == "OK"


def test_unplug(scanner: BarcodeScannerSimulator, reader: SerialBarcodeReader) -> None:
    scanner.unplug()
    with pytest.raises(DeviceNotFound):
        reader.read_code(1)
    assert reader.status() is DeviceStatus.OFFLINE


def test_missing_port_is_device_not_found() -> None:
    with pytest.raises(DeviceNotFound):
        SerialBarcodeReader("/dev/does-not-exist-scanner")
