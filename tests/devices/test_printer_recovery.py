"""Receipt printer faults and recovery over real TCP to the simulator: paper out mid-job then
reprint after staff refill, printer offline then back, a receipt nobody takes."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as zbar_decode

from devices.base import DeviceNotFound, DeviceStatus, MediaError, RequiredAction
from devices.interfaces import ReceiptDoc
from devices.printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.outputs.render import ReceiptData, build_receipt, mask_id_number, mask_name

URL = "https://zwfw.example.gov.cn/progress/DZ-20261123-0007"


def receipt() -> ReceiptDoc:
    return build_receipt(
        ReceiptData(
            hall_name="德州市德城区政务服务中心",
            item_name="老年人优待证申领",
            case_id="DZ-20261123-0007",
            decision="approve",
            reasons=("年满60周岁，符合申领条件",),
            applicant_name_masked=mask_name("张桂兰"),
            id_number_masked=mask_id_number("371402195203140022"),
            submitted_at=dt.datetime(2026, 11, 23, 9, 30),
            pickup_text="自助终端打印",
            progress_url=URL,
            contact_line="咨询电话：0534-12345",
        )
    )


@pytest.fixture
def sim() -> Iterator[ReceiptPrinterSimulator]:
    with ReceiptPrinterSimulator(profile="kiosk-80mm-presenter") as simulator:
        yield simulator


@pytest.fixture
def printer(sim: ReceiptPrinterSimulator) -> Iterator[EscPosReceiptPrinter]:
    p = EscPosReceiptPrinter("127.0.0.1", sim.port, profile="kiosk-80mm-presenter", timeout=2)
    yield p
    p.close()


def test_paper_out_mid_job_then_reprint_after_refill(
    sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter
) -> None:
    assert printer.reprint_last() is False  # nothing pending
    sim.paper_out_after(4)
    with pytest.raises(MediaError) as info:
        printer.print_receipt(receipt())
    assert info.value.status is DeviceStatus.NO_MEDIA
    assert info.value.action is RequiredAction.CLEAR_BY_STAFF
    assert printer.pending_job is not None
    torn = sim.aborted
    assert len(torn) == 1 and len(torn[0].lines) == 4 and not torn[0].qr_payloads
    assert printer.status() is DeviceStatus.NO_MEDIA
    # Still out of paper: the reprint is refused and the job stays.
    with pytest.raises(MediaError):
        printer.reprint_last()
    assert printer.pending_job is not None
    sim.refill()  # staff add paper
    assert printer.reprint_last() is True
    assert printer.pending_job is None
    (done,) = sim.wait_for_receipts(1)
    assert done.complete
    assert done.text.splitlines()[0] == "【重打 REPRINT】"
    assert "受理编号：DZ-20261123-0007" in done.text
    assert "申 请 人：张*兰" in done.text
    image = Image.open(io.BytesIO(sim.render_png(done)))
    assert [c.data.decode() for c in zbar_decode(image)] == [URL]
    assert printer.reprint_last() is False


def test_offline_then_back(sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter) -> None:
    sim.unplug()
    assert printer.status() is DeviceStatus.OFFLINE
    with pytest.raises(DeviceNotFound) as info:
        printer.print_receipt(receipt())
    assert info.value.status is DeviceStatus.OFFLINE
    assert printer.last_status is DeviceStatus.OFFLINE
    assert printer.pending_job is not None
    sim.plug_in()
    assert printer.status() is DeviceStatus.READY
    assert printer.reprint_last() is True
    (done,) = sim.wait_for_receipts(1)
    assert done.complete and done.qr_payloads == [URL]


def test_receipt_not_taken_is_noted(
    sim: ReceiptPrinterSimulator, printer: EscPosReceiptPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    assert printer.receipt_in_exit() is False
    printer.print_receipt(receipt())
    sim.wait_for_receipts(1)
    assert printer.receipt_in_exit() is True
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="devices.printer.escpos_printer"):
        assert printer.wait_taken(timeout=0.5, poll=0.05) is False
    assert time.monotonic() - started >= 0.5
    assert "receipt not taken after" in caplog.text
    sim.take_receipt()
    assert printer.wait_taken(timeout=1, poll=0.05) is True


def test_presenter_query_needs_a_profile_with_the_sensor(sim: ReceiptPrinterSimulator) -> None:
    plain = EscPosReceiptPrinter("127.0.0.1", sim.port, timeout=2)
    with pytest.raises(NotImplementedError):
        plain.receipt_in_exit()
