"""VendorPhotoDecoder: the vendor's WLT library through ctypes, and its degraded states."""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.idcard.photo import (
    PHOTO_HEIGHT,
    PHOTO_WIDTH,
    VENDOR_BMP_SIZE,
    SimulatorPhotoDecoder,
    VendorPhotoDecoder,
    bmp_to_bgr,
)
from devices.interfaces import PhotoDecoder

#: A stand-in vendor library with the documented signature: writes a 102x126 24-bit BMP
#: whose pixel (x, y) is B=x, G=y, R=src[0]; returns 1, or -1 when src[1] == 0xEE.
FAKE_VENDOR_C = r"""
#include <string.h>
static void put32(unsigned char *p, unsigned v) { p[0]=v; p[1]=v>>8; p[2]=v>>16; p[3]=v>>24; }
int unpack(char *src, char *dst, int bmpSave) {
    unsigned char *d = (unsigned char *)dst;
    const int w = 102, h = 126, row = 308;
    if ((unsigned char)src[1] == 0xEE) return -1;
    memset(d, 0, 38862);
    d[0] = 'B'; d[1] = 'M'; put32(d + 2, 38862); put32(d + 10, 54); put32(d + 14, 40);
    put32(d + 18, w); put32(d + 22, h); d[26] = 1; d[28] = 24; put32(d + 34, row * h);
    for (int y = 0; y < h; y++) {
        unsigned char *line = d + 54 + (h - 1 - y) * row;   /* bottom-up */
        for (int x = 0; x < w; x++) {
            line[3 * x] = x; line[3 * x + 1] = y; line[3 * x + 2] = (unsigned char)src[0];
        }
    }
    return bmpSave == 0 ? 1 : 2;
}
"""


@pytest.fixture(scope="module")
def fake_vendor_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc") or shutil.which("cc")
    assert gcc is not None, "a C compiler is needed to build the stand-in vendor library"
    work = tmp_path_factory.mktemp("vendor")
    source = work / "wlt.c"
    source.write_text(FAKE_VENDOR_C)
    library = work / "libwlt.so"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def test_decodes_through_vendor_library(fake_vendor_lib: Path) -> None:
    decoder = VendorPhotoDecoder(fake_vendor_lib)
    assert isinstance(decoder, PhotoDecoder)
    assert decoder.available and decoder.reason == "ok"
    image = decoder.decode(bytes([77]) + bytes(1023))
    assert image is not None
    assert image.shape == (PHOTO_HEIGHT, PHOTO_WIDTH, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [0, 0, 77]  # top-left after flipping the bottom-up rows
    assert image[125, 101].tolist() == [101, 125, 77]
    assert image[10, 20].tolist() == [20, 10, 77]


def test_vendor_failure_code_and_wrong_block_size(fake_vendor_lib: Path) -> None:
    decoder = VendorPhotoDecoder(fake_vendor_lib)
    assert decoder.decode(bytes([1, 0xEE]) + bytes(1022)) is None  # unpack returned -1
    assert decoder.decode(bytes(100)) is None
    # a library returning another success code is configurable
    assert VendorPhotoDecoder(fake_vendor_lib, bmp_save=1).decode(bytes(1024)) is None
    assert VendorPhotoDecoder(fake_vendor_lib, bmp_save=1, success_code=2).decode(bytes(1024)) is not None


def test_absent_library_path(tmp_path: Path) -> None:
    path = tmp_path / "libwlt.so"
    decoder = VendorPhotoDecoder(path)
    assert not decoder.available
    assert decoder.reason == f"vendor photo library not found: {path}"
    assert decoder.decode(bytes(1024)) is None
    unconfigured = VendorPhotoDecoder(None)
    assert not unconfigured.available and "library configured" in unconfigured.reason


def test_library_without_unpack_symbol() -> None:
    libc = ctypes.util.find_library("c")  # e.g. "libc.so.6"
    assert libc is not None
    ctypes.CDLL(libc)  # loaded into this process: its real path is in /proc/self/maps
    maps = Path("/proc/self/maps").read_text().split()
    candidates = sorted({Path(p) for p in maps if p.startswith("/") and Path(p).name == libc})
    assert candidates, f"{libc} not mapped"
    decoder = VendorPhotoDecoder(candidates[0])
    assert not decoder.available
    assert "has no symbol 'unpack'" in decoder.reason
    assert decoder.decode(bytes(1024)) is None


def test_unloadable_file(tmp_path: Path) -> None:
    junk = tmp_path / "libjunk.so"
    junk.write_bytes(b"not an ELF file")
    decoder = VendorPhotoDecoder(junk)
    assert not decoder.available and decoder.reason.startswith("cannot load vendor photo library")


def test_bmp_to_bgr_matches_opencv_bmp() -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(PHOTO_HEIGHT, PHOTO_WIDTH, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".bmp", image)
    assert ok and len(buf) == VENDOR_BMP_SIZE  # the size vendors document
    assert np.array_equal(bmp_to_bgr(buf.tobytes()), image)
    with pytest.raises(ValueError, match="too short"):
        bmp_to_bgr(buf.tobytes()[:1000])


def test_simulator_decoder_still_declines_wlt() -> None:
    assert SimulatorPhotoDecoder().decode(bytes(1024)) is None
