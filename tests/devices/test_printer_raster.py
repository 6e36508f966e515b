"""Chinese per printer profile: native GB18030 text vs raster (GS v 0) text, decoded by the simulator."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from PIL import Image, ImageChops
from pyzbar.pyzbar import decode as zbar_decode

from devices.interfaces import ReceiptDoc
from devices.printer import EscPosReceiptPrinter
from devices.printer.codec import CHINESE_MODE_ON, EscPosCodec, RasterImage, render_text_raster, wrap
from devices.printer.profiles import get_profile
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.outputs.render import ReceiptData, build_receipt, mask_id_number, mask_name

URL = "https://zwfw.example.gov.cn/progress/DZ-20261123-0009"


def receipt() -> ReceiptDoc:
    return build_receipt(
        ReceiptData(
            hall_name="德州市德城区政务服务中心",
            item_name="城乡居民基本养老保险参保登记",
            case_id="DZ-20261123-0009",
            decision="reject",
            reasons=("身份证件已过期 / ID card expired",),
            applicant_name_masked=mask_name("王晓明"),
            id_number_masked=mask_id_number("371428197911020016"),
            submitted_at=dt.datetime(2026, 11, 23, 9, 30),
            pickup_text="",
            progress_url=URL,
            contact_line="咨询电话：0534-12345（工作日）",
        )
    )


@pytest.fixture(params=["generic-80mm", "generic-80mm-raster"])
def profile_sim(request: pytest.FixtureRequest) -> Iterator[tuple[str, ReceiptPrinterSimulator]]:
    with ReceiptPrinterSimulator(profile=request.param) as sim:
        yield request.param, sim


def test_native_mode_text_and_punctuation_decode() -> None:
    data = EscPosCodec(get_profile("generic-80mm")).encode(receipt())
    assert CHINESE_MODE_ON in data and b"\x1dv0" not in data
    with ReceiptPrinterSimulator() as sim:
        printer = EscPosReceiptPrinter("127.0.0.1", sim.port, timeout=2)
        printer.print_receipt(receipt())
        (done,) = sim.wait_for_receipts(1)
    assert "不予受理理由：" in done.text
    assert "1. 身份证件已过期 / ID card expired" in done.text
    assert "咨询电话：0534-12345（工作日）" in done.text  # full-width punctuation, not "?"
    assert "?" not in done.text


def test_raster_mode_images_match_rendered_text(profile_sim: tuple[str, ReceiptPrinterSimulator]) -> None:
    name, sim = profile_sim
    profile = get_profile(name)
    printer = EscPosReceiptPrinter("127.0.0.1", sim.port, profile=name, timeout=2)
    printer.print_receipt(receipt())
    (done,) = sim.wait_for_receipts(1)
    assert not sim.unknown_commands
    images = [line for line in done.lines if line.kind == "image"]
    if profile.text_mode == "native":
        assert not images and "受理编号：DZ-20261123-0009" in done.text
    else:
        assert done.text == ""  # no text on the wire at all
        expected = [
            render_text_raster(piece, width_dots=profile.width_dots, bold=line.bold, double=line.double)
            for line in receipt().lines
            if line.kind == "text"
            for piece in wrap(line.text, profile.width_chars // (2 if line.double else 1))
        ]
        decoded = [RasterImage(im.image_width_bytes, im.image_height, im.image_data) for im in images]
        assert decoded == expected  # every row of every image, bit for bit
        # The decoded image really is the text: the rendering shows ink where the glyphs are.
        first = decoded[0].to_pil()
        assert first.getextrema() == (0, 255)
        assert ImageChops.difference(first, expected[0].to_pil()).getbbox() is None
    page = Image.open(io.BytesIO(sim.render_png(done)))
    assert [c.data.decode() for c in zbar_decode(page)] == [URL]
