"""QR decoding from frames with zbar's charset guess undone; the camera QR reader."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import qrcode
from PIL import Image

from devices.barcode.qr import CameraQrReader, decode_qr, zbar_text
from devices.camera.opencv import OpenCvCamera


def _qr_image(payload: bytes, box_size: int = 6) -> Image.Image:
    qr = qrcode.QRCode(box_size=box_size, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(payload)  # bytes: one 8-bit byte segment, no ECI (what apps emit)
    qr.make(fit=True)
    img = qr.make_image().get_image()
    assert isinstance(img, Image.Image)
    return img.convert("L")


def _bgr(img: Image.Image) -> np.ndarray:
    return cv2.cvtColor(np.asarray(img), cv2.COLOR_GRAY2BGR)


def test_undoes_shift_jis_guess_on_known_payload() -> None:
    # "公" is E5 85 AC in UTF-8; zbar reads those bytes as Shift-JIS "蜈ｬ".
    assert zbar_text("蜈ｬ".encode()) == ("公", "shift_jis")
    assert zbar_text(b"eid:abc") == ("eid:abc", None)


def test_short_chinese_payloads_round_trip() -> None:
    payloads = ["公", "就", "为", "号", "出", "张桂兰", "李建国", "王晓明", "德州市", "身份码:张"]
    undone = 0
    for text in payloads:
        codes = decode_qr(_bgr(_qr_image(text.encode("utf-8"))))
        assert [c.text for c in codes] == [text]
        undone += codes[0].undone_charset is not None
    # The fix-up was really needed for some of them (zbar 0.23 guesses Shift-JIS).
    assert undone >= 5


def test_random_chinese_payloads_round_trip() -> None:
    rng = random.Random(20261123)
    undone = 0
    for n in [1, 2, 3, 4, 6, 10, 24] * 12:
        text = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(n))
        if rng.random() < 0.3:
            text = f"ID:{text}"
        codes = decode_qr(_qr_image(text.encode("utf-8"), box_size=3))
        assert len(codes) == 1 and codes[0].text == text, (text, codes)
        undone += codes[0].undone_charset is not None
    assert undone > 5


def test_genuine_shift_jis_payload_is_left_alone() -> None:
    codes = decode_qr(_qr_image("日本語テキスト".encode("shift_jis")))
    assert [c.text for c in codes] == ["日本語テキスト"]
    assert codes[0].undone_charset is None


def test_long_token_and_several_codes_in_one_frame() -> None:
    token = "kiosk-qr1." + "A1b2C3d4" * 20
    left, right = _qr_image(token.encode()), _qr_image("张桂兰".encode())
    canvas = Image.new("L", (left.width + right.width + 40, max(left.height, right.height) + 40), 255)
    canvas.paste(left, (10, 10))
    canvas.paste(right, (left.width + 30, 10))
    assert sorted(c.text for c in decode_qr(canvas)) == sorted([token, "张桂兰"])
    assert decode_qr(np.full((200, 200), 255, np.uint8)) == []


def test_camera_reader_reports_a_held_code_once(tmp_path: Path) -> None:
    path = tmp_path / "phone.png"
    _qr_image("电子身份:371402195203140022".encode()).save(path)
    reader = CameraQrReader(OpenCvCamera(path, width=640, height=480, seed=1), repeat_after=5.0)
    try:
        assert reader.read_code(5.0) == "电子身份:371402195203140022"
        assert reader.read_code(0.5) is None  # still in view: not reported twice
    finally:
        reader.close()
