"""Bounded decoding of images that come from outside the terminal (decompression bombs).

A 300-byte JPEG may declare 20000×20000 pixels, which OpenCV decodes into 1.2 GB.  Images the
terminal did not make itself (the platform's reference photo, a card photo, anything a peer
sends) go through :func:`decode_image`: the size of the encoded bytes is capped, the dimensions
the header *declares* are read without decoding (JPEG SOFn, PNG IHDR, WebP VP8/VP8L/VP8X, BMP)
and refused above ``max_pixels`` or at zero, and only then is the image decoded; a decoded size
that differs from the declared one is refused too.  Every refusal is :class:`ImageRejected`, with
a reason that names no content.

:func:`check_frame` is the same guard for frames already in memory (a camera that delivers a 0×0
or a wrongly shaped frame).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

#: Defaults: an A4 page at 300 dpi is ~8.7 Mpx; a reference photo is far smaller.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_PIXELS = 12_000_000
#: The platform's reference photo (a passport-style portrait).
REFERENCE_PHOTO_MAX_PIXELS = 4_000_000
REFERENCE_PHOTO_MAX_BYTES = 4 * 1024 * 1024
#: The photo on an ID card is 102x126; a decoder may scale it, never to a poster.
CARD_PHOTO_MAX_PIXELS = 640 * 800
#: Longest side accepted whatever the pixel count (a 1×12,000,000 strip is no photo).
MAX_SIDE = 20_000

#: JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic variants).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class ImageRejected(ValueError):
    """The bytes are not an image this terminal decodes, or it is too large (declared or actual)."""


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    n = len(data)
    while pos < n:
        if data[pos] != 0xFF:
            raise ImageRejected("JPEG: marker expected")
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            break
        marker = data[pos]
        pos += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # no length
        if marker in (0xD9, 0xDA):
            raise ImageRejected("JPEG: no frame header before the scan")
        if pos + 2 > n:
            break
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2:
            raise ImageRejected("JPEG: bad segment length")
        if marker in _SOF:
            if pos + 7 > n:
                break
            height, width = struct.unpack_from(">HH", data, pos + 3)
            return width, height
        pos += length
    raise ImageRejected("JPEG: truncated before the frame header")


#: PNG bit depths allowed per colour type (PNG spec, table 11.1).
_PNG_DEPTHS = {0: {1, 2, 4, 8, 16}, 2: {8, 16}, 3: {1, 2, 4, 8}, 4: {8, 16}, 6: {8, 16}}


def _png_size(data: bytes) -> tuple[int, int]:
    """IHDR's size, after walking every chunk: a chunk may not claim more bytes than the file has
    (OpenCV's PNG reader allocates a chunk's announced length: 184 bytes claiming 2.8 GB did)."""
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise ImageRejected("PNG: no IHDR")
    width, height, depth, colour = struct.unpack_from(">IIBB", data, 16)
    if depth not in _PNG_DEPTHS.get(colour, set()) or data[26] != 0 or data[27] != 0 or data[28] > 1:
        raise ImageRejected("PNG: invalid header fields")
    pos = 8
    while True:
        if pos + 12 > len(data):
            raise ImageRejected("PNG: truncated chunk")
        (length,) = struct.unpack_from(">I", data, pos)
        kind = data[pos + 4 : pos + 8]
        if not kind.isalpha() or length > len(data) - pos - 12:
            raise ImageRejected("PNG: chunk longer than the file")
        pos += 12 + length
        if kind == b"IEND":
            return width, height


def _webp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 30:
        raise ImageRejected("WebP: truncated")
    chunk = data[12:16]
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageRejected("WebP: bad VP8 start code")
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise ImageRejected("WebP: bad VP8L signature")
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    raise ImageRejected("WebP: unknown chunk")


def _bmp_size(data: bytes) -> tuple[int, int]:
    if len(data) < 26:
        raise ImageRejected("BMP: truncated")
    width, height = struct.unpack_from("<ii", data, 18)
    return width, abs(height)


def image_dimensions(data: bytes) -> tuple[str, int, int]:
    """``(format, width, height)`` as the header declares them, without decoding.  ImageRejected
    for a format that is not JPEG, PNG, WebP or BMP, or a header that cannot be read."""
    if data[:3] == b"\xff\xd8\xff":
        return ("jpeg", *_jpeg_size(data))
    if data[:8] == _PNG_SIGNATURE:
        return ("png", *_png_size(data))
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ("webp", *_webp_size(data))
    if data[:2] == b"BM":
        return ("bmp", *_bmp_size(data))
    raise ImageRejected("not a JPEG, PNG, WebP or BMP image")


def check_dimensions(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageRejected(f"empty image ({width}x{height})")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        raise ImageRejected(f"image too large ({width}x{height}, limit {max_pixels} pixels)")


def decode_image(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_bytes: int = DEFAULT_MAX_BYTES
) -> npt.NDArray[np.uint8]:
    """Decode ``data`` to a BGR ``uint8`` array after checking its size and declared dimensions."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageRejected("image data must be bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise ImageRejected(f"image file too large ({len(data)} bytes, limit {max_bytes})")
    _, width, height = image_dimensions(data)
    check_dimensions(width, height, max_pixels)
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as err:
        raise ImageRejected("image does not decode") from err
    if image is None:
        raise ImageRejected("image does not decode")
    if image.shape[:2] != (height, width):
        raise ImageRejected("decoded size differs from the declared size")
    return np.ascontiguousarray(image, dtype=np.uint8)


def check_frame(frame: Any, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """A frame in memory as a BGR (or grey) ``uint8`` array, or ImageRejected: not an array, empty
    (0×0), wrongly shaped or too large."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ImageRejected("frame is not a uint8 array")
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
        raise ImageRejected(f"frame has shape {frame.shape}")
    check_dimensions(int(frame.shape[1]), int(frame.shape[0]), max_pixels)
    return frame


def decode_card_photo(
    raw: bytes, decode: Callable[[bytes], Any], *, max_pixels: int = CARD_PHOTO_MAX_PIXELS
) -> npt.NDArray[np.uint8] | None:
    """A card's photo block through the device's decoder (``PhotoDecoder.decode``), bounded: a block
    in a known image format (the simulator's WebP) is refused when its header declares more than
    ``max_pixels``, before the decoder runs; whatever the decoder returns is checked with
    :func:`check_frame`.  ``None`` when the decoder has no image or the result is refused."""
    known = raw[:3] == b"\xff\xd8\xff" or raw[:8] == _PNG_SIGNATURE or raw[:4] == b"RIFF" or raw[:2] == b"BM"
    if known:
        try:
            _, width, height = image_dimensions(raw)
            check_dimensions(width, height, max_pixels)
        except ImageRejected:
            return None
    image = decode(raw)
    if image is None:
        return None
    try:
        return check_frame(image, max_pixels=max_pixels)
    except ImageRejected:
        return None
