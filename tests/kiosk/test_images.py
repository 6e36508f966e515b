"""Issue 17, decompression bombs: a 300-byte JPEG declaring 20000x20000 decoded to 1.2 GB on the
reference-photo path.  kiosk.images reads the declared size first and refuses before decoding."""

from __future__ import annotations

import struct
import time
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest

from kiosk.images import (
    REFERENCE_PHOTO_MAX_PIXELS,
    ImageRejected,
    check_frame,
    decode_image,
    image_dimensions,
)


def _encode(ext: str, w: int = 64, h: int = 48) -> bytes:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, : w // 2] = (10, 200, 30)
    ok, buf = cv2.imencode(ext, img)
    assert ok
    return buf.tobytes()


def _jpeg_declaring(w: int, h: int) -> bytes:
    """A small JPEG whose frame header claims ``w`` x ``h`` (the rest of the stream is a real 8x8's)."""
    real = _encode(".jpg", 8, 8)
    i = real.index(b"\xff\xc0")
    return real[: i + 5] + struct.pack(">HH", h, w) + real[i + 9 :]


def _png_declaring(w: int, h: int) -> bytes:
    raw = zlib.compress(b"\x00" * (1 + 3) * 1)  # one row of one pixel; the rest is "missing"
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.mark.parametrize("ext", [".jpg", ".png", ".webp", ".bmp"])
def test_real_images_decode_with_their_declared_size(ext: str) -> None:
    data = _encode(ext)
    fmt, w, h = image_dimensions(data)
    assert (w, h) == (64, 48) and fmt == {".jpg": "jpeg"}.get(ext, ext[1:])
    image = decode_image(data)
    assert image.shape == (48, 64, 3) and image.dtype == np.uint8


def test_lossless_webp_and_progressive_jpeg_headers() -> None:
    ok, buf = cv2.imencode(".webp", np.zeros((30, 70, 3), np.uint8), [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert ok and image_dimensions(buf.tobytes())[1:] == (70, 30)
    ok, buf = cv2.imencode(".jpg", np.zeros((30, 70, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert ok and decode_image(buf.tobytes()).shape == (30, 70, 3)


@pytest.mark.parametrize("bomb", [_jpeg_declaring(20000, 20000), _png_declaring(20000, 20000)])
def test_a_bomb_is_refused_before_decoding(bomb: bytes) -> None:
    assert len(bomb) < 1000
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ImageRejected, match="too large"):
            decode_image(bomb, max_pixels=REFERENCE_PHOTO_MAX_PIXELS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 0.5 and peak < 1_000_000


def test_what_opencv_alone_would_do_with_the_bomb() -> None:
    """The unbounded decoder accepts the declared size (the reason for the guard): OpenCV allocates
    the declared frame for a JPEG of a few hundred bytes (kept small here: 4000x4000)."""
    image = cv2.imdecode(np.frombuffer(_jpeg_declaring(4000, 4000), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (4000, 4000, 3)
    with pytest.raises(ImageRejected):
        decode_image(_jpeg_declaring(4000, 4000), max_pixels=REFERENCE_PHOTO_MAX_PIXELS)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "not a JPEG"),
        (b"GIF89a" + b"\x00" * 40, "not a JPEG"),
        (b"\xff\xd8\xff\xd9", "no frame header"),
        (b"\xff\xd8\xff\xe0\x00", "truncated"),
        (_jpeg_declaring(0, 10), "empty"),
        (_png_declaring(1, 0), "empty"),
        (_png_declaring(30000, 1), "too large"),
        (_encode(".png")[:30], "PNG"),
        (_encode(".png")[:-12], "truncated chunk"),  # no IEND
        (_encode(".jpg")[:-40], "does not decode"),
    ],
)
def test_malformed_images_are_typed_refusals(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected, match=reason):
        decode_image(data)


def test_byte_limit() -> None:
    data = _encode(".png")
    with pytest.raises(ImageRejected, match="file too large"):
        decode_image(data, max_bytes=len(data) - 1)


def test_frames_in_memory() -> None:
    frame = np.zeros((10, 20, 3), np.uint8)
    assert check_frame(frame) is frame
    for bad in (np.zeros((0, 0, 3), np.uint8), np.zeros((10, 20, 2), np.uint8), np.zeros((4, 4)), None):
        with pytest.raises(ImageRejected):
            check_frame(bad)


def test_a_chunk_claiming_more_than_the_file_is_refused() -> None:
    """Found by tests/fuzz: OpenCV's PNG reader allocated the 2.8 GB a corrupted chunk length
    announced (184 bytes in, 2.7 GB of RSS)."""
    png = _encode(".png")
    bomb = png[:33] + struct.pack(">I", 0xA123F919) + b"zzzz" + png[33:]
    tracemalloc.start()
    try:
        with pytest.raises(ImageRejected, match="chunk longer than the file"):
            decode_image(bomb)
        assert tracemalloc.get_traced_memory()[1] < 1_000_000
    finally:
        tracemalloc.stop()
    bad_depth = bytearray(png)
    bad_depth[25] = 0xC1  # colour type
    with pytest.raises(ImageRejected, match="header"):
        decode_image(bytes(bad_depth))


def test_card_photo_through_the_device_decoder_is_bounded() -> None:
    from devices.idcard.photo import SimulatorPhotoDecoder
    from devices.idcard.sim_cards import sim_card
    from kiosk.images import decode_card_photo

    decoder = SimulatorPhotoDecoder()
    block = sim_card("senior").photo_block()
    photo = decode_card_photo(block, decoder.decode)
    assert photo is not None and photo.shape == (126, 102, 3)
    # The same block declaring 16000x16000 (VP8L header) is refused before OpenCV sees it.
    assert block[12:16] in (b"VP8 ", b"VP8L", b"VP8X")
    big = bytearray(block)
    if block[12:16] == b"VP8 ":
        big[26:30] = struct.pack("<HH", 16000, 16000)
    elif block[12:16] == b"VP8L":
        big[21:25] = ((16000 - 1) | (16000 - 1) << 14).to_bytes(4, "little")
    else:
        big[24:30] = (16000 - 1).to_bytes(3, "little") * 2
    calls: list[bytes] = []
    assert decode_card_photo(bytes(big), lambda raw: calls.append(raw)) is None and calls == []
    # A decoder that returns an empty frame (0x0) gives None, not an OpenCV error later.
    assert decode_card_photo(b"WLT...", lambda raw: np.zeros((0, 0, 3), np.uint8)) is None
    assert decode_card_photo(b"WLT...", lambda raw: None) is None
