"""``OpenCvCamera``: the :class:`devices.interfaces.Camera` over ``cv2.VideoCapture``.

Sources:

* ``int`` — a device index (``/dev/videoN``), or a device path under ``/dev``
  (``/dev/video2``, or a stable name such as ``/dev/v4l/by-id/usb-…-video-index0``
  that survives a replug and keeps two cameras apart), opened with the V4L2
  backend.  A background thread grabs frames so :meth:`OpenCvCamera.read_frame`
  can honour its timeout even when the driver blocks.  ``exposure`` sets a manual
  exposure (the driver's units; V4L2: 100 µs) instead of the camera's automatic
  one.  A device whose image stops changing (a driver that hands out the same
  buffer again, a frozen USB camera: real sensors never deliver two identical
  frames) is reported after ``frozen_after_s`` as a :class:`DeviceError` with
  action RESET, and the grabber stops; :meth:`OpenCvCamera.close` +
  :meth:`OpenCvCamera.open` reopen it.
* a video file path (``.avi``, ``.mp4``, ...) — played through
  ``cv2.VideoCapture`` at the file's frame rate, rewound (reopened) at the end
  when ``loop`` is set.
* a still image path, a directory of images, or a list of image paths — the
  simulator mode: images are read with ``cv2.imread`` and "played" as frames
  at ~15 fps, centred on a ``width`` x ``height`` canvas, with a little shift
  and sensor noise so consecutive frames differ.  The directory is listed
  anew for each frame, so a simulator can "unplug" the camera by emptying the
  directory (no frames: ``DeviceTimeout``, action RETRY) or by removing it
  (``DeviceNotFound``).

The document camera is the same class with ``kind="document_camera"`` and a
high resolution (1536x2048), or ``width=None, height=None`` for the image's
own size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from devices.base import DeviceError, DeviceNotFound, DeviceStatus, DeviceTimeout, RequiredAction

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

FACE_CAMERA = "camera"
DOCUMENT_CAMERA = "document_camera"
#: Demo/simulator media shipped with the repository (see media/SOURCE.md).
MEDIA_DIR = Path(__file__).resolve().parent / "media"

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
VIDEO_EXTENSIONS = frozenset({".avi", ".mp4", ".mkv", ".mov", ".mjpg", ".mjpeg", ".webm"})

#: A device index that delivers no frame for this long is reported as stalled.
_GRAB_FAILURES_BEFORE_LOST = 30
#: A live device delivering the same image for this long (and at least _FROZEN_MIN_FRAMES
#: frames) is reported as frozen.
FROZEN_AFTER_S = 3.0
_FROZEN_MIN_FRAMES = 5
#: Decoded frames a frame-directory player keeps by content (the three demo citizens' faces and more).
_DECODED_KEPT = 8
#: Frames this small (a face camera's, not a document camera's 9 MB) are also kept for the whole
#: process, by content and canvas size, up to _SHARED_BYTES: a simulator presenting the same person
#: again opens a new player, which would otherwise decode the file again (~9 ms a frame).
_SHARED_FRAME_BYTES = 2 * 1024 * 1024
_SHARED_BYTES = 24 * 1024 * 1024
#: Jitter: whole-pixel shift of at most this much; noise: at most this much per channel.
_SHIFT = 2
_NOISE = 3
#: Noise is added a block of values at a time, each from its own window of the bank (which is
#: _NOISE_SLACK values longer than a block, so each block gets its own random offset).
_NOISE_BLOCK = 1 << 20
_NOISE_SLACK = 1 << 16


class _SharedFrames:
    """The process-wide cache of small decoded frames (least recently used out first)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._frames: dict[tuple[bytes, int | None, int | None], Frame] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, int | None, int | None]) -> Frame | None:
        with self._lock:
            frame = self._frames.pop(key, None)
            if frame is not None:
                self._frames[key] = frame
            return frame

    def put(self, key: tuple[bytes, int | None, int | None], frame: Frame) -> None:
        if frame.nbytes > _SHARED_FRAME_BYTES:
            return
        frame.flags.writeable = False  # shared between players: nobody may draw on it
        with self._lock:
            self._frames[key] = frame
            while sum(f.nbytes for f in self._frames.values()) > self._budget:
                del self._frames[next(iter(self._frames))]


_SHARED = _SharedFrames(_SHARED_BYTES)
_NOISE_BANK: tuple[Frame, Frame, Frame] | None = None
_NOISE_LOCK = threading.Lock()


def _noise_bank() -> tuple[Frame, Frame, Frame]:
    """_NOISE_BLOCK + _NOISE_SLACK values of noise uniform in -_NOISE.._NOISE, drawn once for the
    process (a new camera per citizen would otherwise draw a frame's worth again, ~3 ms; 3.4 MB
    kept), as its positive part, 255 minus that, and its negative part: adding the noise is then
    saturating uint8 operations in place, exactly clip(frame + noise, 0, 255), without int16
    copies of the frame (a document camera's would be 19 MB)."""
    global _NOISE_BANK
    with _NOISE_LOCK:
        if _NOISE_BANK is None:
            rng = np.random.default_rng(0x5EED)
            noise = rng.integers(-_NOISE, _NOISE + 1, size=_NOISE_BLOCK + _NOISE_SLACK, dtype=np.int16)
            plus = np.maximum(noise, 0).astype(np.uint8)
            bank = (plus, (255 - plus).astype(np.uint8), np.maximum(-noise, 0).astype(np.uint8))
            for part in bank:
                part.flags.writeable = False
            _NOISE_BANK = bank
        return _NOISE_BANK


#: V4L2 values of ``CAP_PROP_AUTO_EXPOSURE`` (OpenCV passes them through): manual, aperture priority.
_V4L2_EXPOSURE_MANUAL = 1
_V4L2_EXPOSURE_AUTO = 3

CameraSource = int | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


def is_device_path(source: object) -> bool:
    """A camera device node given by path: under ``/dev`` (``/dev/video0``, ``/dev/v4l/by-id/…``)."""
    return isinstance(source, Path) and source.parts[:2] == ("/", "dev")


def fit_on_canvas(img: npt.NDArray[Any], width: int, height: int, fill: int = 0) -> Frame:
    """Scale ``img`` to fit inside ``width`` x ``height`` (keeping aspect) and centre it."""
    h, w = img.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(img, (nw, nh), interpolation=interp) if (nw, nh) != (w, h) else img
    canvas = np.full((height, width, 3), fill, dtype=np.uint8)
    x0, y0 = (width - nw) // 2, (height - nh) // 2
    canvas[y0 : y0 + nh, x0 : x0 + nw] = resized
    return canvas


class _ImagePlayer:
    """Plays still images as a camera: paced, jittered, listed from disk on every frame."""

    def __init__(
        self,
        source: Path | list[Path],
        width: int | None,
        height: int | None,
        fps: float,
        loop: bool,
        jitter: bool,
        seed: int | None,
    ) -> None:
        self._source = source
        self._width = width
        self._height = height
        self._period = 1.0 / fps
        self._loop = loop
        self._jitter = jitter
        self._rng = np.random.default_rng(seed)
        self._index = 0
        self._next_due = 0.0
        self._cache: dict[Path, tuple[float, Frame]] = {}
        #: Frames decoded from file contents (a few, most recent last): a file written again with
        #: the same image (a simulator presenting the same person anew) is not decoded again.
        self._decoded: dict[bytes, Frame] = {}

    def _paths(self, device: str) -> list[Path]:
        src = self._source
        if isinstance(src, list):
            present = [p for p in src if p.is_file()]
            if not present:
                raise DeviceNotFound("none of the image files exists", device=device)
            return present
        if src.is_dir():
            return sorted(p for p in src.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if src.is_file():
            return [src]
        raise DeviceNotFound("image source is gone", device=device)

    def _load(self, path: Path) -> Frame | None:
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return None
        hit = self._cache.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        digest = hashlib.blake2b(data, digest_size=16).digest()
        frame = self._decoded.pop(digest, None)
        shared_key = (digest, self._width, self._height)
        if frame is None:
            frame = _SHARED.get(shared_key)
        if frame is None:
            img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                return None
            frame = np.asarray(img, dtype=np.uint8)
            if self._width is not None and self._height is not None:
                frame = fit_on_canvas(frame, self._width, self._height)
            _SHARED.put(shared_key, frame)
        self._decoded[digest] = frame
        while len(self._decoded) > _DECODED_KEPT:
            del self._decoded[next(iter(self._decoded))]
        self._cache[path] = (mtime, frame)
        return frame

    def _perturb(self, frame: Frame) -> Frame:
        if not self._jitter:
            return frame.copy()
        # a whole-pixel shift with the edge pixels repeated (what warpAffine with BORDER_REPLICATE
        # gives for an integer translation), cut from the frame with a replicated border
        dx, dy = (int(v) for v in self._rng.integers(-_SHIFT, _SHIFT + 1, size=2))
        h, w = frame.shape[:2]
        padded = cv2.copyMakeBorder(frame, _SHIFT, _SHIFT, _SHIFT, _SHIFT, cv2.BORDER_REPLICATE)
        shifted = padded[_SHIFT - dy : _SHIFT - dy + h, _SHIFT - dx : _SHIFT - dx + w]
        out = np.ascontiguousarray(shifted)
        flat = out.reshape(-1)
        plus, headroom, minus = _noise_bank()
        for start in range(0, flat.size, _NOISE_BLOCK):  # a window of the bank per block of values
            part = flat[start : start + _NOISE_BLOCK]
            at = int(self._rng.integers(0, _NOISE_SLACK))
            window = slice(at, at + part.size)
            np.minimum(part, headroom[window], out=part)  # saturating add: min(v, 255 - n) + n
            np.add(part, plus[window], out=part)
            np.maximum(part, minus[window], out=part)  # saturating subtract: max(v, n) - n
            np.subtract(part, minus[window], out=part)
        return out

    def read(self, timeout: float, device: str) -> Frame:
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if now < self._next_due:
                if self._next_due > deadline:
                    time.sleep(max(0.0, deadline - now))
                    raise DeviceTimeout(f"no frame within {timeout:.2f} s", device=device)
                time.sleep(self._next_due - now)
            paths = self._paths(device)
            if paths and (self._loop or self._index < len(paths)):
                path = paths[self._index % len(paths)]
                frame = self._load(path)
                if frame is not None:
                    self._index += 1
                    self._next_due = max(self._next_due + self._period, time.monotonic())
                    return self._perturb(frame)
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"no frame within {timeout:.2f} s", device=device)
            time.sleep(min(self._period, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        self._cache.clear()
        self._decoded.clear()


class _CapturePlayer:
    """``cv2.VideoCapture`` read by a grabber thread into a one-frame slot."""

    def __init__(
        self,
        source: int | Path,
        width: int | None,
        height: int | None,
        loop: bool,
        device: str,
        *,
        exposure: float | None = None,
        frozen_after_s: float | None = None,
    ) -> None:
        self._source = source
        self._width = width
        self._height = height
        self._loop = loop
        self._device = device
        self._exposure = exposure
        self._frozen_after_s = frozen_after_s
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0
        self._taken = 0
        self._error: DeviceError | None = None
        self._stop = threading.Event()
        self._cap = self._open_capture()
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self._period = 1.0 / fps if isinstance(self._source, Path) and 1.0 <= fps <= 120.0 else 0.0
        self._thread = threading.Thread(target=self._run, name=f"camera-{device}", daemon=True)
        self._thread.start()

    @property
    def is_device(self) -> bool:
        return isinstance(self._source, int) or is_device_path(self._source)

    def _open_capture(self) -> cv2.VideoCapture:
        src = self._source
        if not self.is_device:
            assert isinstance(src, Path)
            if not src.is_file():
                raise DeviceNotFound("video file is gone", device=self._device)
            cap = cv2.VideoCapture(str(src))
        else:
            if isinstance(src, Path) and not src.exists():
                raise DeviceNotFound("camera device is not there", device=self._device)
            cap = cv2.VideoCapture(src if isinstance(src, int) else str(src), cv2.CAP_V4L2)
            if cap.isOpened():
                self._configure(cap)
        if not cap.isOpened():
            cap.release()
            raise DeviceNotFound(f"cannot open camera source {self._describe()}", device=self._device)
        return cap

    def _configure(self, cap: cv2.VideoCapture) -> None:
        """Resolution and exposure of a live device.  A driver that refuses a setting is logged,
        not fatal: the quality gates still judge every frame (too dark, backlit, blurred)."""
        wanted: list[tuple[str, int, float]] = []
        if self._width is not None and self._height is not None:
            wanted += [("width", cv2.CAP_PROP_FRAME_WIDTH, self._width)]
            wanted += [("height", cv2.CAP_PROP_FRAME_HEIGHT, self._height)]
        if self._exposure is None:
            wanted += [("auto exposure", cv2.CAP_PROP_AUTO_EXPOSURE, _V4L2_EXPOSURE_AUTO)]
        else:
            wanted += [("manual exposure", cv2.CAP_PROP_AUTO_EXPOSURE, _V4L2_EXPOSURE_MANUAL)]
            wanted += [("exposure", cv2.CAP_PROP_EXPOSURE, self._exposure)]
        for name, prop, value in wanted:
            if not cap.set(prop, value):
                logger.warning("camera %s: the driver refused %s = %s", self._device, name, value)

    def _describe(self) -> str:
        src = self._source
        return f"index {src}" if isinstance(src, int) else (str(src) if self.is_device else "file")

    def _device_present(self) -> bool:
        src = self._source
        if isinstance(src, Path):
            return src.exists() if self.is_device else src.is_file()
        node = Path(f"/dev/video{src}")
        return node.exists() if Path("/dev").is_dir() else True

    def _publish(self, frame: Frame | None, error: DeviceError | None) -> None:
        with self._cond:
            if frame is not None:
                self._frame = frame
                self._seq += 1
            if error is not None:
                self._error = error
            self._cond.notify_all()

    def _run(self) -> None:
        failures = 0
        next_due = time.monotonic()
        last_sig: bytes | None = None
        same_since = 0.0
        same_frames = 0
        while not self._stop.is_set():
            ok, img = self._cap.read()
            if ok and img is not None:
                failures = 0
                frame = np.asarray(img, dtype=np.uint8)
                if self._frozen_after_s is not None:
                    sig = frame[::7, ::7].tobytes()  # ~1/50 of the pixels: any sensor noise shows
                    now = time.monotonic()
                    if sig != last_sig:
                        last_sig, same_since, same_frames = sig, now, 0
                    else:
                        same_frames += 1
                        if same_frames >= _FROZEN_MIN_FRAMES and now - same_since >= self._frozen_after_s:
                            logger.warning(
                                "camera %s: the same image for %.1f s", self._device, now - same_since
                            )
                            self._publish(
                                None,
                                DeviceError(
                                    f"camera image frozen (unchanged for {now - same_since:.1f} s)",
                                    device=self._device,
                                    action=RequiredAction.RESET,
                                ),
                            )
                            return
                self._publish(frame, None)
                if self._period:
                    next_due += self._period
                    self._stop.wait(max(0.0, next_due - time.monotonic()))
                continue
            if isinstance(self._source, Path):
                if not self._loop:
                    logger.info("video source ended")
                    return  # no more frames: readers time out
                self._cap.release()
                try:
                    self._cap = self._open_capture()
                except DeviceNotFound as err:
                    self._publish(None, err)
                    return
                next_due = time.monotonic()
                continue
            failures += 1
            if not self._device_present():
                self._publish(None, DeviceNotFound("camera device vanished", device=self._device))
                return
            if failures >= _GRAB_FAILURES_BEFORE_LOST:
                logger.warning("camera %s: %d failed grabs", self._device, failures)
                failures = 0
            self._stop.wait(0.05)

    def read(self, timeout: float, device: str) -> Frame:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if self._seq > self._taken and self._frame is not None:
                    self._taken = self._seq
                    return self._frame.copy()
                if self._error is not None:
                    raise self._error
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeviceTimeout(f"no frame within {timeout:.2f} s", device=device)
                self._cond.wait(remaining)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._cap.release()


class OpenCvCamera:
    """A camera (face or document) over OpenCV; see the module docstring for the sources."""

    def __init__(
        self,
        source: CameraSource,
        width: int | None = 640,
        height: int | None = 480,
        kind: str = FACE_CAMERA,
        loop: bool = True,
        fps: float = 15.0,
        jitter: bool = True,
        seed: int | None = None,
        exposure: float | None = None,
        frozen_after_s: float | None = FROZEN_AFTER_S,
    ) -> None:
        """``exposure``: manual exposure of a device source (None: the camera's automatic
        exposure).  ``frozen_after_s``: report a device whose image does not change for this long
        (None: never); video files and images are never reported frozen (a still scene is not a
        fault there)."""
        self.kind = kind
        self._source = source
        self._width = width
        self._height = height
        self._loop = loop
        self._fps = fps
        self._jitter = jitter
        self._seed = seed
        self._exposure = exposure
        self._frozen_after_s = frozen_after_s
        self._player: _ImagePlayer | _CapturePlayer | None = None
        self._status = DeviceStatus.OFFLINE
        self._lock = threading.Lock()

    def _make_player(self) -> _ImagePlayer | _CapturePlayer:
        src = self._source
        if isinstance(src, int) or (isinstance(src, (str, os.PathLike)) and is_device_path(Path(src))):
            device = src if isinstance(src, int) else Path(src)
            return _CapturePlayer(
                device,
                self._width,
                self._height,
                self._loop,
                self.kind,
                exposure=self._exposure,
                frozen_after_s=self._frozen_after_s,
            )
        if isinstance(src, (str, os.PathLike)):
            path = Path(src)
            if path.suffix.lower() in VIDEO_EXTENSIONS:
                return _CapturePlayer(path, self._width, self._height, self._loop, self.kind)
            if not path.exists():
                raise DeviceNotFound("camera source does not exist", device=self.kind)
            if path.is_file() and path.suffix.lower() not in IMAGE_EXTENSIONS:
                raise DeviceError(
                    f"unsupported camera source type {path.suffix!r}",
                    device=self.kind,
                    action=RequiredAction.MAINTENANCE,
                )
            return _ImagePlayer(
                path, self._width, self._height, self._fps, self._loop, self._jitter, self._seed
            )
        paths = [Path(p) for p in src]
        if not paths:
            raise DeviceNotFound("empty image list", device=self.kind)
        return _ImagePlayer(paths, self._width, self._height, self._fps, self._loop, self._jitter, self._seed)

    def open(self) -> None:
        with self._lock:
            if self._player is not None:
                return
            try:
                self._player = self._make_player()
            except DeviceError as err:
                self._status = err.status
                raise
            self._status = DeviceStatus.READY
            logger.info("camera %s opened", self.kind)

    def status(self) -> DeviceStatus:
        return self._status

    def read_frame(self, timeout: float) -> Frame:
        """The next frame (BGR uint8).  Raises ``DeviceTimeout``/``DeviceNotFound`` when none comes."""
        player = self._player
        if player is None:
            raise DeviceNotFound("camera is not open", device=self.kind, action=RequiredAction.RESET)
        try:
            frame = player.read(timeout, self.kind)
        except DeviceError as err:
            self._status = err.status
            logger.warning("camera %s: %s", self.kind, err)
            raise
        self._status = DeviceStatus.READY
        return frame

    def close(self) -> None:
        with self._lock:
            player, self._player = self._player, None
        if player is not None:
            player.close()
        self._status = DeviceStatus.OFFLINE
