"""The card's 1024-byte photo block.

Real cards hold a vendor-compressed WLT image that only the licensed decoder library
can open.  Simulated cards hold a 102x126 WebP (the ID photo size) zero-padded to
1024 bytes; :class:`SimulatorPhotoDecoder` opens those and returns ``None`` for
anything else, so the kiosk treats a real WLT block as "no decoder available".
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast

import cv2
import numpy as np
from cv2.data import haarcascades

if TYPE_CHECKING:
    from devices.interfaces import Frame

logger = logging.getLogger(__name__)

PHOTO_BLOCK_SIZE: Final = 1024
PHOTO_WIDTH: Final = 102
PHOTO_HEIGHT: Final = 126
_QUALITIES: Final = (90, 80, 70, 60, 50, 40, 30, 25, 20, 15, 10, 8, 6, 4, 2, 1)


def _face_box(image: Frame) -> tuple[int, int, int, int] | None:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cascade = cv2.CascadeClassifier(str(Path(haarcascades) / "haarcascade_frontalface_default.xml"))
    min_side = max(24, min(grey.shape[:2]) // 10)
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: int(f[2]) * int(f[3]))
    return int(x), int(y), int(w), int(h)


def crop_id_photo(image: Frame) -> Frame:
    """Head-and-shoulders crop at the ID photo aspect (102:126), resized to 102x126.

    Centred on the largest face found (OpenCV's bundled Haar cascade); a
    top-biased centre crop when no face is found.
    """
    height, width = image.shape[:2]
    aspect = PHOTO_WIDTH / PHOTO_HEIGHT
    box = _face_box(image)
    if box is not None:
        x, y, w, h = box
        crop_w = min(width, int(w * 1.9))
        crop_h = int(crop_w / aspect)
        if crop_h > height:
            crop_h = height
            crop_w = int(crop_h * aspect)
        cx = x + w // 2
        top = y - int(h * 0.45)
    else:
        crop_w = min(width, int(height * aspect))
        crop_h = int(crop_w / aspect)
        cx = width // 2
        top = (height - crop_h) // 4
    left = min(max(0, cx - crop_w // 2), width - crop_w)
    top = min(max(0, top), height - crop_h)
    cropped = image[top : top + crop_h, left : left + crop_w]
    resized = cv2.resize(cropped, (PHOTO_WIDTH, PHOTO_HEIGHT), interpolation=cv2.INTER_AREA)
    return cast("Frame", resized)


def encode_photo_block(image: Frame) -> bytes:
    """Crop/resize ``image`` (BGR) to 102x126 and WebP-encode it into a zero-padded 1024-byte block.

    Uses the highest WebP quality that fits.  Raises ``ValueError`` when even the
    lowest quality does not fit.
    """
    photo = crop_id_photo(image)
    for quality in _QUALITIES:
        ok, buf = cv2.imencode(".webp", photo, [cv2.IMWRITE_WEBP_QUALITY, quality])
        if not ok:
            raise ValueError("WebP encoding failed")
        data = buf.tobytes()
        if len(data) <= PHOTO_BLOCK_SIZE:
            logger.debug("photo block: webp quality %d, %d bytes", quality, len(data))
            return data + bytes(PHOTO_BLOCK_SIZE - len(data))
    raise ValueError("photo does not fit the 1024-byte block even at the lowest quality")


def load_photo_block(path: Path) -> bytes:
    """:func:`encode_photo_block` of the image file at ``path``."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return encode_photo_block(cast("Frame", image))


class SimulatorPhotoDecoder:
    """:class:`devices.interfaces.PhotoDecoder` for simulator cards (WebP in the block)."""

    def decode(self, photo_raw: bytes) -> Frame | None:
        if len(photo_raw) < 12 or photo_raw[:4] != b"RIFF" or photo_raw[8:12] != b"WEBP":
            return None  # a real WLT block or garbage: not ours to decode
        size = int.from_bytes(photo_raw[4:8], "little") + 8
        if size > len(photo_raw):
            return None
        image = cv2.imdecode(np.frombuffer(photo_raw[:size], dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return None
        return cast("Frame", image)


# ------------------------------------------------------------------ vendor WLT decoder
#: Output buffer vendors document for ``unpack``: a 102x126 24-bit BMP, rows padded to 4 bytes
#: (54-byte header + 126 * 308 = 38862 bytes).
VENDOR_BMP_SIZE: Final = 38862
_BMP_HEADER: Final = 54
_BMP_ROW: Final = (PHOTO_WIDTH * 3 + 3) // 4 * 4


def bmp_to_bgr(buf: bytes) -> Frame:
    """The BGR image of the 102x126 24-bit bottom-up BMP in ``buf`` (as ``unpack`` writes it).

    Raises ``ValueError`` when the buffer is too short or not such a BMP.
    """
    if len(buf) < _BMP_HEADER + _BMP_ROW * PHOTO_HEIGHT:
        raise ValueError(f"photo buffer is {len(buf)} bytes, too short for 102x126 BGR")
    if buf[:2] == b"BM":
        offset = int.from_bytes(buf[10:14], "little")
        width = int.from_bytes(buf[18:22], "little", signed=True)
        height = int.from_bytes(buf[22:26], "little", signed=True)
        bits = int.from_bytes(buf[28:30], "little")
        if width != PHOTO_WIDTH or abs(height) != PHOTO_HEIGHT or bits != 24:
            raise ValueError(f"unexpected BMP geometry {width}x{height}x{bits}")
    else:  # headerless variants put the pixel rows first
        offset, height = 0, PHOTO_HEIGHT
    rows = np.frombuffer(buf, dtype=np.uint8, count=_BMP_ROW * PHOTO_HEIGHT, offset=offset)
    image = rows.reshape(PHOTO_HEIGHT, _BMP_ROW)[:, : PHOTO_WIDTH * 3].reshape(PHOTO_HEIGHT, PHOTO_WIDTH, 3)
    if height > 0:  # bottom-up
        image = image[::-1]
    return cast("Frame", np.ascontiguousarray(image))


class VendorPhotoDecoder:
    """:class:`devices.interfaces.PhotoDecoder` over the reader vendor's WLT library (ctypes).

    The library must export ``int unpack(char *src, char *dst, int bmpSave)`` taking the
    1024-byte WLT block and filling a :data:`VENDOR_BMP_SIZE`-byte BMP buffer; it returns
    ``success_code`` (1 for the common libraries) on success.  When the library cannot be
    loaded or lacks the symbol, :attr:`available` is ``False``, :attr:`reason` says why and
    :meth:`decode` returns ``None`` (the kiosk then uses the platform's reference photo).
    """

    def __init__(
        self,
        library_path: str | Path | None,
        *,
        symbol: str = "unpack",
        bmp_save: int = 0,
        success_code: int = 1,
    ) -> None:
        self.library_path = None if library_path is None else str(library_path)
        self.bmp_save = bmp_save
        self.success_code = success_code
        self._lock = threading.Lock()  # vendor libraries are rarely re-entrant
        self._unpack: Callable[[bytes, ctypes.Array[ctypes.c_char], int], int] | None = None
        self.available = False
        self.reason = ""
        if self.library_path is None:
            self.reason = "no vendor photo library configured"
        elif not Path(self.library_path).exists():
            self.reason = f"vendor photo library not found: {self.library_path}"
        else:
            try:
                library = ctypes.CDLL(self.library_path)
            except OSError as err:
                self.reason = f"cannot load vendor photo library {self.library_path}: {err}"
            else:
                try:
                    function = getattr(library, symbol)
                except AttributeError:
                    self.reason = f"vendor photo library {self.library_path} has no symbol {symbol!r}"
                else:
                    function.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int)
                    function.restype = ctypes.c_int
                    self._unpack = function
                    self.available = True
                    self.reason = "ok"
        if not self.available:
            logger.warning("photo decoder unavailable: %s", self.reason)

    def decode(self, photo_raw: bytes) -> Frame | None:
        unpack = self._unpack
        if unpack is None:
            return None
        if len(photo_raw) != PHOTO_BLOCK_SIZE:
            logger.warning("photo block is %d bytes, expected %d", len(photo_raw), PHOTO_BLOCK_SIZE)
            return None
        dst = ctypes.create_string_buffer(VENDOR_BMP_SIZE)
        with self._lock:
            result = unpack(photo_raw, dst, self.bmp_save)
        if result != self.success_code:
            logger.warning("vendor unpack failed with code %d", result)
            return None
        try:
            return bmp_to_bgr(dst.raw)
        except ValueError as err:
            logger.warning("vendor unpack output unusable: %s", err)
            return None
