"""Serial barcode scanner driver against the pty simulator; camera QR decoding with the second decoder."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import pytest
import qrcode
from pyzbar import pyzbar

from devices.barcode import SerialBarcodeReader
from devices.barcode.qr import decode_qr
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


# ---- camera QR decoding: the second decoder (zxing-cpp) for what zbar misses ----


def _qr_gray(payload: bytes, box_size: int = 6) -> np.ndarray:
    qr = qrcode.QRCode(box_size=box_size, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)  # one 8-bit byte segment without ECI, as phone apps emit them
    qr.make(fit=True)
    img = qr.make_image().get_image().convert("L")
    return np.asarray(img, dtype=np.uint8)


def _on_camera_frame(code: np.ndarray, angle: float = 8.0) -> np.ndarray:
    """The code shown on a phone screen in front of the camera: a dark frame, turned slightly."""
    frame = np.full((720, 960), 35, dtype=np.uint8)
    h, w = code.shape
    y, x = (720 - h) // 2, (960 - w) // 2
    frame[y : y + h, x : x + w] = code
    m = cv2.getRotationMatrix2D((480, 360), angle, 1.0)
    turned = cv2.warpAffine(frame, m, (960, 720), borderValue=35)
    return np.asarray(cv2.cvtColor(turned, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def test_inverted_qr_code_is_read_by_the_second_decoder() -> None:
    payload = "eid:身份码:李建国:0f3a9c"
    dark = 255 - _qr_gray(payload.encode("utf-8"))  # light modules on a dark ground
    frame = _on_camera_frame(dark)
    # zbar alone does not see it ...
    assert pyzbar.decode(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), symbols=[pyzbar.ZBarSymbol.QRCODE]) == []
    # ... the reader does, with the UTF-8 payload intact (no charset guess to undo on this path)
    codes = decode_qr(frame)
    assert [(c.text, c.decoder, c.undone_charset) for c in codes] == [(payload, "zxing", None)]
    left, top, width, height = codes[0].rect
    assert 250 < left < 480 and 100 < top < 360 and width > 100 and height > 100


def test_dark_on_light_code_still_read_by_zbar_with_its_charset_guess_undone() -> None:
    frame = _on_camera_frame(_qr_gray("公".encode()))
    codes = decode_qr(frame)
    assert [(c.text, c.decoder, c.undone_charset) for c in codes] == [("公", "zbar", "shift_jis")]


def test_short_chinese_inverted_payloads_round_trip() -> None:
    for text in ["公", "就", "张桂兰", "德州市", "身份码:张"]:
        codes = decode_qr(_on_camera_frame(255 - _qr_gray(text.encode("utf-8")), angle=-5.0))
        assert [(c.text, c.decoder) for c in codes] == [(text, "zxing")]


def test_frame_without_a_code_gives_nothing() -> None:
    frame = _on_camera_frame(np.full((200, 200), 200, dtype=np.uint8))
    assert decode_qr(frame) == []
