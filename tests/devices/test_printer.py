"""The receipt printer driver against the simulator over real TCP sockets on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as zbar_decode

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, DeviceTimeout, MediaError, RequiredAction
from devices.interfaces import ReceiptDoc, ReceiptLine, ReceiptPrinter
from devices.printer import EscPosReceiptPrinter, TcpTransport
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.outputs.render import ReceiptData, build_receipt, mask_id_number, mask_name

URL = "https://zwfw.dezhou.example.gov.cn/progress?case=DZ-20250314-0001"


@pytest.fixture
def sim() -> Iterator[ReceiptPrinterSimulator]:
    with ReceiptPrinterSimulator() as simulator:
        yield simulator


@pytest.fixture
def printer(sim: ReceiptPrinterSimulator) -> Iterator[EscPosReceiptPrinter]:
    p = EscPosReceiptPrinter("127.0.0.1", sim.port, timeout=2)
    yield p
    p.close()


def senior_receipt() -> ReceiptDoc:
    return build_receipt(
        ReceiptData(
            hall_name="德州市德城区政务服务中心",
            item_name="老年人优待证申领",
            case_id="DZ-20250314-0001",
            decision="approve",
            reasons=("年满60周岁，符合申领条件",),
            applicant_name_masked=mask_name("张桂兰"),
            id_number_masked=mask_id_number("371402195203140022"),
            submitted_at=dt.datetime(2025, 3, 14, 9, 30),
            pickup_text="自助终端打印",
            progress_url=URL,
            contact_line="咨询电话：0534-12345",
        )
    )


def small_doc() -> ReceiptDoc:
    return ReceiptDoc(tuple(ReceiptLine("text", f"第{i}行") for i in range(10)))


def test_implements_protocol(printer: EscPosReceiptPrinter) -> None:
    assert isinstance(printer, ReceiptPrinter)
    assert printer.status() is DeviceStatus.READY


def test_print_receipt_decoded_and_qr_scannable(
    sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter
) -> None:
    printer.print_receipt(senior_receipt())
    [receipt] = sim.wait_for_receipts(1)
    assert receipt.complete
    text = receipt.text
    assert "办结回执" in text
    assert "DZ-20250314-0001" in text
    assert "老年人优待证申领" in text
    assert "张*兰" in text and "3714**********0022" in text
    assert "张桂兰" not in text and "371402195203140022" not in text
    assert "咨询电话：0534-12345" in text  # full-width colon survives the trip
    assert receipt.qr_payloads == [URL]
    assert sim.unknown_commands == []

    png = sim.render_png(receipt)
    symbols = zbar_decode(Image.open(io.BytesIO(png)))
    assert [s.data.decode() for s in symbols] == [URL]


def test_paper_out_refuses_before_printing(
    sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter
) -> None:
    sim.paper_out()
    assert printer.status() is DeviceStatus.NO_MEDIA
    with pytest.raises(MediaError) as info:
        printer.print_receipt(senior_receipt())
    assert info.value.action is RequiredAction.CLEAR_BY_STAFF
    assert info.value.status is DeviceStatus.NO_MEDIA
    time.sleep(0.1)
    assert sim.receipts == [] and sim.aborted == []
    sim.refill()
    printer.print_receipt(small_doc())
    assert len(sim.wait_for_receipts(1)) == 1


def test_paper_low_still_prints(sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter) -> None:
    sim.paper_low()
    assert printer.status() is DeviceStatus.MEDIA_LOW
    printer.print_receipt(small_doc())
    assert len(sim.wait_for_receipts(1)) == 1
    assert printer.last_status is DeviceStatus.MEDIA_LOW


def test_paper_out_mid_job(sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter) -> None:
    sim.paper_out_after(3)
    with pytest.raises(MediaError, match="during the job") as info:
        printer.print_receipt(small_doc())
    assert info.value.action is RequiredAction.CLEAR_BY_STAFF
    assert sim.receipts == []
    [partial] = sim.aborted
    assert not partial.complete
    assert partial.text == "第0行\n第1行\n第2行"
    assert printer.status() is DeviceStatus.NO_MEDIA


def test_unplugged_is_device_not_found(sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter) -> None:
    sim.unplug()
    with pytest.raises(DeviceNotFound) as info:
        printer.print_receipt(small_doc())
    assert info.value.status is DeviceStatus.OFFLINE
    assert printer.status() is DeviceStatus.OFFLINE
    sim.plug_in()
    assert printer.status() is DeviceStatus.READY
    printer.print_receipt(small_doc())
    assert len(sim.wait_for_receipts(1)) == 1


def test_go_offline_drops_open_connection(sim: ReceiptPrinterSimulator) -> None:
    transport = TcpTransport("127.0.0.1", sim.port, timeout=2)
    transport.open()
    transport.write(b"\x10\x04\x01")
    assert transport.read(1, 2) == b"\x12"
    sim.go_offline()
    with pytest.raises(DeviceNotFound):
        transport.read(1, 2)
    assert not transport.is_open


def test_silent_printer_times_out() -> None:
    """Something listens but never answers the status query (wrong device on the port)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        printer = EscPosReceiptPrinter("127.0.0.1", port, timeout=0.3)
        with pytest.raises(DeviceTimeout):
            printer.print_receipt(small_doc())
        assert printer.status() is DeviceStatus.OFFLINE


def test_bad_status_byte_is_protocol_error() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        printer = EscPosReceiptPrinter("127.0.0.1", port, timeout=1)

        def answer_garbage() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(16)
                conn.sendall(b"\xff")
                time.sleep(0.2)

        t = threading.Thread(target=answer_garbage)
        t.start()
        with pytest.raises(DeviceError) as info:
            printer.print_receipt(small_doc())
        t.join()
    assert info.value.status is DeviceStatus.HARDWARE_ERROR


def test_wire_log_has_lengths_not_content(
    sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="devices.printer.wire"):
        printer.print_receipt(senior_receipt())
    wire = [r.getMessage() for r in caplog.records if r.name == "devices.printer.wire"]
    assert any(m.startswith("tx ") and m.endswith(" bytes") for m in wire)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "DZ-20250314-0001" not in everything
    assert "张*兰" not in everything


def test_simulator_command_line(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.printer.simulator", "--port", str(port), "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "simulator on" in proc.stdout.readline()
        EscPosReceiptPrinter("127.0.0.1", port).print_receipt(small_doc())
        deadline = time.monotonic() + 10
        while not (tmp_path / "receipt-0001.png").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "receipt-0001.txt").read_text(encoding="utf-8").startswith("第0行")
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()
