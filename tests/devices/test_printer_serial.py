"""The receipt printer over a serial line (driver "serial"): the same ESC/POS driver through the
serial transport, on a pty bridged byte for byte to the printer simulator."""

from __future__ import annotations

import os
import pty
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceStatus
from devices.device_kind import DeviceContext
from devices.interfaces import ReceiptDoc, ReceiptLine
from devices.printer.kind import RECEIPT_PRINTER, ReceiptPrinterConfig
from devices.printer.simulator import ReceiptPrinterSimulator


@pytest.fixture
def serial_printer() -> Iterator[tuple[str, ReceiptPrinterSimulator]]:
    """A pty whose other end is a TCP connection to the simulator: a printer on a serial line."""
    sim = ReceiptPrinterSimulator().start()
    master, slave = pty.openpty()
    sock = socket.create_connection(("127.0.0.1", sim.port))
    stop = threading.Event()

    def bridge() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master, sock], [], [], 0.1)
            if master in ready:
                try:
                    sock.sendall(os.read(master, 4096))
                except OSError:  # the serial side closed for a moment: nothing to pass on
                    pass
            if sock in ready:
                data = sock.recv(4096)
                if not data:
                    return
                os.write(master, data)

    thread = threading.Thread(target=bridge, daemon=True)
    thread.start()
    try:
        yield os.ttyname(slave), sim
    finally:
        stop.set()
        thread.join(5)
        sock.close()
        os.close(master)
        os.close(slave)
        sim.stop()


def test_a_receipt_prints_over_the_serial_driver(
    serial_printer: tuple[str, ReceiptPrinterSimulator], tmp_path: Path
) -> None:
    port, sim = serial_printer
    section = ReceiptPrinterConfig(driver="serial", serial_port=port, baudrate=115200)
    printer = RECEIPT_PRINTER.build(section, DeviceContext(tmp_path, production=True))
    assert printer is not None
    try:
        assert printer.status() is DeviceStatus.READY
        printer.print_receipt(
            ReceiptDoc((ReceiptLine("text", "SERIAL LINE OK", bold=True), ReceiptLine("cut")))
        )
        (receipt,) = sim.wait_for_receipts(1)
        assert receipt.complete and "SERIAL LINE OK" in receipt.text
        sim.paper_out()
        assert printer.status() is DeviceStatus.NO_MEDIA
    finally:
        printer.close()


def test_the_serial_driver_needs_its_port() -> None:
    with pytest.raises(ValueError, match="serial_port"):
        ReceiptPrinterConfig(driver="serial")
