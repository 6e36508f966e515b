"""The receipt printer over USB (driver "usb"): the same ESC/POS driver and status parsing through
the pyusb transport.  No USB bus exists on the test machine (no /sys/bus/usb, no USB/IP, no gadget
controller), so the pyusb device is a fake at the unit boundary (:class:`UsbBus`) whose bulk
endpoints are bridged byte for byte to the printer simulator; the real pyusb/libusb path is run
as far as the machine allows (it finds no such printer: offline)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import usb.core

from devices.base import DeviceNotFound, DeviceStatus, MediaError
from devices.device_kind import DeviceContext
from devices.interfaces import ReceiptDoc, ReceiptLine
from devices.printer.kind import RECEIPT_PRINTER, ReceiptPrinterConfig
from devices.printer.simulator import ReceiptPrinterSimulator
from devices.printer.usb_transport import PyUsbBus, UsbTransport

VID, PID = 0x0416, 0x5011  # Winbond-based "POS58/80" thermal printers


def _ep(address: int, attributes: int = 0x02, size: int = 64) -> SimpleNamespace:
    return SimpleNamespace(bEndpointAddress=address, bmAttributes=attributes, wMaxPacketSize=size)


class FakeUsbPrinter:
    """A pyusb ``Device`` look-alike: an HID interface first (as combo devices have), then the
    printer-class interface with bulk OUT 0x02 / IN 0x81; the endpoints talk to the simulator."""

    def __init__(self, sim_port: int, *, serial: str = "A1") -> None:
        self.serial_number = serial
        self.sim_port = sim_port
        self.sock: socket.socket | None = None
        self.detached: list[int] = []
        self.writes: list[tuple[int, bytes]] = []
        self.kernel_driver = True
        hid = SimpleNamespace(bInterfaceClass=0x03, bInterfaceNumber=0, eps=[_ep(0x83, 0x03)])
        printer = SimpleNamespace(bInterfaceClass=0x07, bInterfaceNumber=1, eps=[_ep(0x02), _ep(0x81)])
        self.interfaces = [hid, printer]

    def get_active_configuration(self) -> list[Any]:
        return [_Iface(i) for i in self.interfaces]

    def set_configuration(self) -> None:
        raise AssertionError("already configured")

    def is_kernel_driver_active(self, number: int) -> bool:
        return self.kernel_driver

    def detach_kernel_driver(self, number: int) -> None:
        self.detached.append(number)

    def connect(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.sim_port))

    def write(self, endpoint: int, data: bytes, timeout: int) -> int:
        assert self.sock is not None and endpoint == 0x02
        self.writes.append((endpoint, bytes(data)))
        self.sock.sendall(data)
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int) -> bytes:
        assert self.sock is not None and endpoint == 0x81 and size >= 64
        self.sock.settimeout(timeout / 1000)
        try:
            return self.sock.recv(size)
        except TimeoutError as err:
            raise usb.core.USBTimeoutError("Operation timed out", errno=110) from err


class _Iface:
    def __init__(self, ns: SimpleNamespace) -> None:
        self.bInterfaceClass = ns.bInterfaceClass
        self.bInterfaceNumber = ns.bInterfaceNumber
        self._eps = ns.eps

    def __iter__(self) -> Iterator[SimpleNamespace]:
        return iter(self._eps)


class FakeBus:
    def __init__(self, device: FakeUsbPrinter | None) -> None:
        self.device = device
        self.released = 0

    def find(self, vendor_id: int, product_id: int, serial_number: str | None) -> FakeUsbPrinter | None:
        dev = self.device
        if dev is None or (vendor_id, product_id) != (VID, PID):
            return None
        if serial_number is not None and serial_number != dev.serial_number:
            return None
        dev.connect()
        return dev

    def release(self, device: FakeUsbPrinter) -> None:
        self.released += 1
        if device.sock is not None:
            device.sock.close()
            device.sock = None


@pytest.fixture
def sim() -> Iterator[ReceiptPrinterSimulator]:
    with ReceiptPrinterSimulator() as s:
        yield s


def _build(tmp_path: Path, **section: Any) -> Any:
    config = ReceiptPrinterConfig(driver="usb", usb_vendor_id=VID, usb_product_id=PID, **section)
    return RECEIPT_PRINTER.build(config, DeviceContext(tmp_path, production=True))


def test_a_receipt_prints_over_the_usb_driver_and_paper_states_read_as_on_tcp(
    sim: ReceiptPrinterSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeUsbPrinter(sim.port)
    bus = FakeBus(fake)
    monkeypatch.setattr(PyUsbBus, "find", lambda self, v, p, s: bus.find(v, p, s))
    monkeypatch.setattr(PyUsbBus, "release", lambda self, d: bus.release(d))
    printer = _build(tmp_path)
    assert printer is not None
    try:
        assert printer.status() is DeviceStatus.READY
        assert fake.detached == [1]  # usblp let go of the printer interface, not of the HID one
        printer.print_receipt(ReceiptDoc((ReceiptLine("text", "USB 打印 OK", bold=True), ReceiptLine("cut"))))
        (receipt,) = sim.wait_for_receipts(1)
        assert receipt.complete and "USB 打印 OK" in receipt.text
        assert fake.writes[0][1] == b"\x10\x04\x01"  # the status query went out first, on bulk OUT
        sim.paper_low()
        assert printer.status() is DeviceStatus.MEDIA_LOW
        sim.paper_out()
        assert printer.status() is DeviceStatus.NO_MEDIA
        with pytest.raises(MediaError):
            printer.print_receipt(ReceiptDoc((ReceiptLine("text", "no paper"),)))
        assert bus.released >= 4 and fake.sock is None  # one claim per operation, always released
    finally:
        printer.close()


def test_the_serial_number_picks_the_printer_and_a_missing_one_reads_offline(
    sim: ReceiptPrinterSimulator, tmp_path: Path
) -> None:
    bus = FakeBus(FakeUsbPrinter(sim.port, serial="B7"))
    transport = UsbTransport(VID, PID, serial_number="A1", bus=bus)
    with pytest.raises(DeviceNotFound, match="0416:5011 serial A1"):
        transport.open()
    transport = UsbTransport(VID, PID, serial_number="B7", bus=bus)
    transport.open()
    transport.write(b"\x10\x04\x04")
    assert transport.read(1, 1.0) == b"\x12"  # paper sensor: paper present
    assert transport.read(1, 0.05) == b""  # nothing more: a timeout is an empty read
    transport.close()


def test_a_device_without_a_printer_interface_is_refused(sim: ReceiptPrinterSimulator) -> None:
    fake = FakeUsbPrinter(sim.port)
    fake.interfaces = fake.interfaces[:1]  # only the HID interface
    bus = FakeBus(fake)
    with pytest.raises(DeviceNotFound, match="no printer-class interface"):
        UsbTransport(VID, PID, bus=bus).open()
    assert bus.released == 1


def test_real_pyusb_finds_no_such_printer_here_and_the_printer_reads_offline(tmp_path: Path) -> None:
    # pyusb on libusb-1.0, no fake: this machine has no USB bus, so nothing answers to the ids
    assert usb.core.find(idVendor=VID, idProduct=PID) is None
    printer = _build(tmp_path)
    assert printer is not None
    assert printer.status() is DeviceStatus.OFFLINE


def test_the_usb_driver_needs_its_ids() -> None:
    with pytest.raises(ValueError, match="usb_vendor_id"):
        ReceiptPrinterConfig(driver="usb")
    with pytest.raises(ValueError):
        ReceiptPrinterConfig(driver="usb", usb_vendor_id=0x10000, usb_product_id=1)
