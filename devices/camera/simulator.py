"""Simulated camera sources for the demo and tests.

A simulated camera is a *source* that the real :class:`OpenCvCamera` plays, so
the whole camera stack runs unchanged against it:

* :func:`write_video` writes an MJPG ``.avi`` from image files (each centred on
  a 640x480 canvas, shown for ``seconds_per_image``).
* :class:`SimulatedCamera` keeps a frame directory that ``OpenCvCamera``
  plays; :meth:`SimulatedCamera.stall` empties it (the camera stops
  delivering frames: ``DeviceTimeout``), :meth:`SimulatedCamera.unplug`
  removes it (``DeviceNotFound``) and :meth:`SimulatedCamera.replug` restores
  it.
* :func:`document_source` writes a rendered document page for the document
  camera.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from devices.camera.opencv import DOCUMENT_CAMERA, FACE_CAMERA, MEDIA_DIR, OpenCvCamera, fit_on_canvas

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

#: Live-camera photos of the demo citizens (keys as in devices/idcard/sim_cards.py).
LIVE_MEDIA: dict[str, tuple[str, ...]] = {
    "senior": ("obama_live1.jpg", "obama_live2.jpg"),
    "business": ("biden_live.jpg",),
    "expired": ("kit_live.jpg",),
}
#: ID-card photos (full resolution, before the card's 102x126 reduction).
CARD_MEDIA: dict[str, str] = {
    "senior": "obama_card.jpg",
    "business": "biden_card.jpg",
    "expired": "kit_card.jpg",
}


def media_path(name: str) -> Path:
    """Path of a file shipped in ``devices/camera/media``."""
    path = MEDIA_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"no simulator media {name!r}")
    return path


def write_video(
    images: Sequence[str | os.PathLike[str]],
    out_path: str | os.PathLike[str],
    size: tuple[int, int] = (640, 480),
    fps: float = 15.0,
    seconds_per_image: float = 1.0,
) -> Path:
    """Write an MJPG ``.avi`` playing ``images`` centred on a ``size`` canvas; returns the path."""
    out = Path(out_path)
    width, height = size
    fourcc = cv2.VideoWriter.fourcc(*"MJPG")
    writer = cv2.VideoWriter(str(out), fourcc, fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"cannot write video {out}")
    per_image = max(1, round(fps * seconds_per_image))
    try:
        for src in images:
            img = cv2.imread(str(src), cv2.IMREAD_COLOR)
            if img is None:
                raise OSError(f"cannot read image {src}")
            frame = fit_on_canvas(img, width, height)
            for _ in range(per_image):
                writer.write(frame)
    finally:
        writer.release()
    return out


@functools.lru_cache(maxsize=32)
def _frame_png(src: str, _stamp: int, size: tuple[int, int] | None) -> bytes:
    """``src`` fitted on the camera's canvas, as PNG (kept: a bench puts the same few people in
    front of the camera thousands of times)."""
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot read image {src}")
    frame = fit_on_canvas(img, *size) if size is not None else img
    ok, png = cv2.imencode(".png", frame)
    if not ok:
        raise OSError(f"cannot encode image {src}")
    return bytes(png)


class SimulatedCamera:
    """A frame directory an ``OpenCvCamera`` plays, with fault injection (stall, unplug)."""

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        images: Sequence[str | os.PathLike[str]],
        size: tuple[int, int] | None = (640, 480),
    ) -> None:
        self.frames_dir = Path(workdir) / "frames"
        self._stash = Path(workdir) / "unplugged"
        self._images = [Path(p) for p in images]
        self._size = size
        self._populate()

    def _populate(self) -> None:
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        for i, src in enumerate(self._images):
            stamp = src.stat().st_mtime_ns if src.exists() else 0  # an edited image is read again
            (self.frames_dir / f"{i:03d}.png").write_bytes(_frame_png(str(src), stamp, self._size))

    def camera(self, kind: str = FACE_CAMERA, seed: int | None = None) -> OpenCvCamera:
        """An ``OpenCvCamera`` playing this source."""
        w, h = self._size if self._size is not None else (None, None)
        return OpenCvCamera(self.frames_dir, width=w, height=h, kind=kind, seed=seed)

    def stall(self) -> None:
        """The camera stays attached but stops delivering frames."""
        self._stash.mkdir(parents=True, exist_ok=True)
        for p in self.frames_dir.iterdir():
            p.replace(self._stash / p.name)
        logger.info("simulated camera stalled")

    def unplug(self) -> None:
        """The camera vanishes."""
        shutil.rmtree(self.frames_dir, ignore_errors=True)
        logger.info("simulated camera unplugged")

    def replug(self) -> None:
        """Attach it again, delivering frames."""
        if self._stash.is_dir():
            shutil.rmtree(self._stash)
        self._populate()


def document_source(page_bgr: Frame, workdir: str | os.PathLike[str], name: str = "document.png") -> Path:
    """Write a rendered document page where a document camera can play it; returns the path."""
    path = Path(workdir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), page_bgr):
        raise OSError(f"cannot write {path}")
    return path


def document_camera(
    page_path: str | os.PathLike[str], size: tuple[int, int] | None = (1536, 2048)
) -> OpenCvCamera:
    """The document camera playing a page image (at ``size``, or the image's own size if ``None``)."""
    w, h = size if size is not None else (None, None)
    return OpenCvCamera(page_path, width=w, height=h, kind=DOCUMENT_CAMERA)
