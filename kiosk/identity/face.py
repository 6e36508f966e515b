"""Face verification: the live camera against the ID-card photo (1:1).

dlib's HOG frontal face detector finds the face, the 5-point shape predictor
aligns it and dlib's ResNet model (weights from ``face_recognition_models``)
turns it into a 128-d embedding.  ``score`` in :class:`FaceResult` is the
**Euclidean distance** between the card embedding and the best live frame's
embedding: smaller is more alike; it is a match when ``distance <= threshold``.

Descriptor: the mean of dlib's descriptors of the aligned face chip and of its mirror image
(:meth:`FaceVerifier._describe`), which narrows the spread of genuine pairs with the low-resolution
card photo.  Threshold :data:`DEFAULT_THRESHOLD` (0.594): the middle of the range of thresholds in
which FAR <= 0.1 % and FRR <= 3 % both hold on the pairs of the shared test photos
(``shared/testdata/faces``, every photo also as the 102x126 WebP card block, dim, bright and low
resolution; ``bench/face``): FAR 0.042 %, FRR 1.85 % there.  Chosen on the pairs it is measured on:
docs/face-check.md says what that does and does not show.  Re-measure before tuning it
(``bench/face``, ``tests/kiosk/test_face.py``).

Quality gates (:meth:`FaceVerifier.check_frame`, in this order): too dark
overall, no face, several faces, too small (too far), too near (face taller
than ``max_face_frac`` of the frame or cut by its border), off centre (face
centre outside the middle band), backlit (face much darker than a bright
background), too dark (face), blurred, turned away (nose off the eye midline
on dlib's 5 points, ``max_yaw``), eyes closed (only with an ``eye_probe``,
e.g. :class:`kiosk.identity.liveness.MeshLandmarker`).

Per frame vs per decision: :meth:`FaceVerifier.verify` (what the terminal runs) looks at
every frame only through the fast analyser (:mod:`kiosk.identity.face_analysis`: BlazeFace + the
478-point mesh, the same gates as above, ~10 ms), which is also what the liveness challenges
read; the dlib embedding (two ~155 ms descriptor passes, run at once) happens in two worker
processes (:mod:`kiosk.identity.face_worker`), for the card photo at the start and for the first compliant
frame seen once the liveness decision is in (a face is compared only when it is live).  Processes,
not a thread: dlib's descriptor call
holds the GIL (measured: the mesh went from 7 ms to 220 ms per frame while an embedding ran in
another thread, and the GUI stalled 92-200 ms), so only a process runs it truly beside the frame
analysis and the GUI, on the second core.  ``embed_process=False`` embeds on a thread (and a
dead worker process falls back to that for the check in progress).
:meth:`FaceVerifier.check_frame` is the dlib version of the gates (kept as the reference the
fast gates are tested against).

Liveness: :class:`LivenessCheck` is the per-frame hook (``is_live``),
:class:`NoLivenessCheck` accepts every frame.  Challenge liveness (blink / turn / open mouth
against the person's own baseline) and the plug-in for an external infrared/binocular verdict
live in :mod:`kiosk.identity.liveness`; a check that also has ``reset()`` and ``verdict()``
(:class:`SequenceLivenessCheck`) makes :meth:`FaceVerifier.verify` keep reading frames after a
match until the liveness decision is in.  The terminal chooses the check from ``[face]
liveness`` (kiosk/config.py; terminal/runtime.py ``build_liveness``) and passes it to ``verify``.

Embeddings stay in memory only; nothing here writes or logs images, boxes of
named people or embeddings.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import cv2
import numpy as np

from kiosk.identity.face_worker import EmbedWorker, EmbedWorkerLost, shared_worker

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.594
#: Grey-level spread below which a card photo is taken as blank (no whole-image fallback).
_MIN_CARD_CONTRAST = 20.0


class FaceQuality(enum.Enum):
    """Why a frame (or the card photo) can or cannot be used.  Values are stable identifiers."""

    OK = "ok"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    TOO_SMALL = "too_small"  # too far from the camera
    TOO_NEAR = "too_near"
    OFF_CENTRE = "off_centre"
    TURNED_AWAY = "turned_away"
    EYES_CLOSED = "eyes_closed"
    TOO_DARK = "too_dark"
    BACKLIT = "backlit"
    BLURRED = "blurred"


class FaceReason(enum.Enum):
    """Outcome of :meth:`FaceVerifier.verify`.  Values are stable identifiers."""

    MATCHED = "matched"
    MISMATCH = "mismatch"  # usable frames, none close enough
    BAD_REFERENCE = "bad_reference"  # no usable face in the card photo
    NO_USABLE_FRAME = "no_usable_frame"  # frames ran out (max_frames) without a usable face
    TIMEOUT = "timeout"  # time ran out before a decision
    LIVENESS_FAILED = "liveness_failed"


@dataclass(frozen=True, eq=False)
class Embedding:
    """A 128-d face descriptor.  Kept in memory only; never logged."""

    vector: npt.NDArray[np.float64] = field(repr=False)

    def distance(self, other: Embedding) -> float:
        return float(np.linalg.norm(self.vector - other.vector))

    def __repr__(self) -> str:
        return "Embedding(<128-d>)"


@dataclass(frozen=True)
class FaceBox:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class FrameCheck:
    """Quality verdict for one frame; ``embedding`` only when ``quality`` is OK."""

    quality: FaceQuality
    faces: int = 0
    box: FaceBox | None = None
    brightness: float = 0.0  # mean grey level 0..255 (of the face when one was found)
    sharpness: float = 0.0  # variance of the Laplacian over the face
    embedding: Embedding | None = field(default=None, repr=False)
    # face-mesh points (478, 2) when the fast analyser found one face (kiosk/identity/face_analysis.py)
    landmarks: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class FaceResult:
    """Outcome of a verification.  ``score`` is the best (smallest) Euclidean distance seen,
    ``math.inf`` when no frame was usable; matched iff ``score <= threshold``."""

    matched: bool
    score: float
    threshold: float
    frames_used: int  # frames examined
    elapsed_ms: int
    reason: FaceReason
    last_quality: FaceQuality | None = None  # for prompting the citizen ("move closer", ...)
    #: The compared frame closest to the reference, cropped to head and shoulders, as JPEG: the
    #: case's evidence of who stood at the terminal (an attachment, sealed on the way; kept in the
    #: session's memory only until then).  None when no frame was compared.
    best_frame: bytes | None = field(default=None, repr=False)


def face_chip(rgb: npt.NDArray[Any], shape: Any) -> npt.NDArray[np.uint8]:
    """dlib's aligned 150x150 face chip, padding 0.25 (what ``compute_face_descriptor(img, shape)``
    extracts itself)."""
    import dlib

    chip: npt.NDArray[np.uint8] = dlib.get_face_chip(rgb, shape, size=150, padding=0.25)
    return chip


def mirror(chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The chip mirrored left-right (contiguous, as dlib wants it)."""
    return np.ascontiguousarray(chip[:, ::-1])


#: JPEG quality of :attr:`FaceResult.best_frame`.
EVIDENCE_JPEG_QUALITY = 90


def evidence_jpeg(frame: Frame, box: FaceBox) -> bytes | None:
    """``frame`` cut to the face in ``box`` grown by 60 % of its size on each side (the head and
    shoulders, as on an ID photo; not the room behind), JPEG-encoded.  None if it cannot be."""
    h, w = frame.shape[:2]
    mx, my = int(box.width * 0.6), int(box.height * 0.6)
    crop = frame[
        max(0, box.top - my) : min(h, box.bottom + my), max(0, box.left - mx) : min(w, box.right + mx)
    ]
    if crop.size == 0:
        return None
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, EVIDENCE_JPEG_QUALITY])
    return buf.tobytes() if ok else None


@runtime_checkable
class LivenessCheck(Protocol):
    """Hook for presentation-attack detection (photo, screen, mask).  Not implemented yet."""

    def is_live(self, frame: Frame, box: FaceBox) -> bool: ...


@runtime_checkable
class SequenceLivenessCheck(LivenessCheck, Protocol):
    """A liveness check decided over several frames (challenges).  ``is_live`` returns
    False only on a definite failure; ``verdict()`` is None while undecided."""

    def reset(self) -> None: ...

    def verdict(self) -> bool | None: ...


@runtime_checkable
class LandmarkLivenessCheck(SequenceLivenessCheck, Protocol):
    """A sequence check that reads the face-mesh points the frame analyser already computed
    (``None`` when the frame had no single face), instead of running its own landmarker."""

    def is_live_landmarks(self, landmarks: Any) -> bool: ...


@dataclass(frozen=True)
class FaceProgress:
    """What the face screen shows and says while :meth:`FaceVerifier.verify` runs."""

    quality: FaceQuality | None  # the current frame's quality gate
    challenge: str | None  # the liveness challenge asked now (kiosk.identity.liveness.Challenge value)
    frames: int  # frames examined so far


@runtime_checkable
class FrameAnalyser(Protocol):
    """Per-frame quality gates without the embedding (kiosk/identity/face_analysis.py)."""

    def load(self) -> None: ...

    def analyse(self, img_bgr: Frame) -> FrameCheck: ...


@runtime_checkable
class EyeProbe(Protocol):
    """Tells whether the eyes of the face in ``box`` are closed (landmark based)."""

    def eyes_closed(self, frame: Frame, box: FaceBox) -> bool: ...


class NoLivenessCheck:
    """Accepts every frame: **no liveness detection is done**.  A placeholder, not a check."""

    def is_live(self, frame: Frame, box: FaceBox) -> bool:
        return True


class GateSettings(Protocol):
    """The quality-gate thresholds both frame analysers carry (FaceVerifier, FastFrameAnalyser)."""

    min_face_px: int
    max_face_frac: float
    centre_band: tuple[float, float, float, float]
    min_brightness: float
    backlight_margin: float
    min_sharpness: float


def box_quality(
    g: GateSettings, grey: npt.NDArray[Any], box: FaceBox, clipped: bool, brightness: float
) -> tuple[FaceQuality | None, float, float]:
    """The gates that need only the face box: too small, too near, off centre, backlit, too dark,
    blurred.  Returns (the first failing gate or None, brightness to report, sharpness); the
    brightness is the frame's until the face itself was measured, then the face's."""
    h, w = grey.shape
    if min(box.width, box.height) < g.min_face_px:
        return FaceQuality.TOO_SMALL, brightness, 0.0
    if clipped or box.height > g.max_face_frac * h:
        return FaceQuality.TOO_NEAR, brightness, 0.0
    cx, cy = (box.left + box.right) / 2 / w, (box.top + box.bottom) / 2 / h
    x0, x1, y0, y1 = g.centre_band
    if not (x0 <= cx <= x1 and y0 <= cy <= y1):
        return FaceQuality.OFF_CENTRE, brightness, 0.0
    face = grey[box.top : box.bottom, box.left : box.right]
    face_brightness = float(face.mean()) if face.size else brightness
    if face_brightness < g.min_brightness * 2.5:
        outside = np.ones(grey.shape, dtype=bool)
        outside[box.top : box.bottom, box.left : box.right] = False
        background = float(grey[outside].mean()) if outside.any() else 0.0
        if background - face_brightness >= g.backlight_margin:
            return FaceQuality.BACKLIT, face_brightness, 0.0
    if face_brightness < g.min_brightness:
        return FaceQuality.TOO_DARK, face_brightness, 0.0
    sharpness = float(cv2.Laplacian(face, cv2.CV_64F).var()) if face.size else 0.0
    if sharpness < g.min_sharpness:
        return FaceQuality.BLURRED, face_brightness, sharpness
    return None, face_brightness, sharpness


def yaw_from_five_points(shape: Any) -> float:
    """Horizontal nose offset from the eye midline over the inter-eye distance (dlib's
    5-point model: parts 0-1 one eye, 2-3 the other, 4 the nose).  ~0 when facing the
    camera; |value| grows as the head turns."""
    p = [(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)]
    e1 = ((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2)
    e2 = ((p[2][0] + p[3][0]) / 2, (p[2][1] + p[3][1]) / 2)
    iod = max(1.0, float(np.hypot(e1[0] - e2[0], e1[1] - e2[1])))
    return (p[4][0] - (e1[0] + e2[0]) / 2) / iod


class FaceModelError(RuntimeError):
    """The face models could not be loaded (package missing or file unreadable)."""


@dataclass(frozen=True)
class _Models:
    detector: Any
    shape_predictor: Any
    recogniser: Any


_T = TypeVar("_T")
#: What is done with a found face: (models, RGB image, dlib rectangle) -> embedding or chip.
_Finish = Callable[[_Models, "npt.NDArray[Any]", Any], _T]


class FaceVerifier:
    """1:1 face verification.  Models load lazily and thread-safely; :meth:`load` warms up."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        min_face_px: int = 80,
        min_brightness: float = 40.0,
        min_sharpness: float = 25.0,
        frame_upsample: int = 1,
        mismatch_after: int = 3,
        liveness: LivenessCheck | None = None,
        max_face_frac: float = 0.7,
        centre_band: tuple[float, float, float, float] = (0.3, 0.7, 0.1, 0.85),
        max_yaw: float = 0.28,
        backlight_margin: float = 70.0,
        eye_probe: EyeProbe | None = None,
        analyser: FrameAnalyser | None = None,
        mirror_average: bool = True,
        embed_process: bool = True,
    ) -> None:
        self.threshold = threshold
        #: descriptor = mean of the aligned face chip's and its mirror image's descriptors
        #: (see :meth:`_describe`); False gives dlib's plain single descriptor.
        self.mirror_average = mirror_average
        self.min_face_px = min_face_px
        self.min_brightness = min_brightness
        self.min_sharpness = min_sharpness
        self.frame_upsample = frame_upsample
        self.mismatch_after = mismatch_after
        self.liveness: LivenessCheck = liveness if liveness is not None else NoLivenessCheck()
        self.max_face_frac = max_face_frac
        self.centre_band = centre_band  # x_min, x_max, y_min, y_max of the face centre (fractions)
        self.max_yaw = max_yaw  # |nose offset from the eye midline| / inter-eye distance
        self.backlight_margin = backlight_margin
        self.eye_probe = eye_probe
        self._models: _Models | None = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # dlib objects are not documented as thread-safe
        self._analyser = analyser
        self._pool: ThreadPoolExecutor | None = None
        #: :meth:`verify` embeds in a worker process (kiosk/identity/face_worker.py): dlib holds the GIL,
        #: on a thread it would stall the GUI and the frame analysis.  False: on a thread.
        self.embed_process = embed_process
        self._worker: EmbedWorker | None = None

    # ------------------------------------------------------------ models
    def load(self) -> None:
        """Load the models now (safe to call from a background thread, idempotent): the frame
        analyser here, dlib in the worker process (here when ``embed_process`` is off or the
        worker cannot start)."""
        worker = self._get_worker()
        if worker is None:
            self._get_models()
        else:
            try:
                worker.start()
            except EmbedWorkerLost as err:
                logger.error("face worker process did not start (%s): embedding on a thread", err)
                self._get_models()
        self._get_analyser().load()

    def _get_worker(self) -> EmbedWorker | None:
        if not self.embed_process:
            return None
        with self._load_lock:
            if self._worker is None:
                self._worker = shared_worker(self.mirror_average)
            return self._worker

    def worker_peak_rss_mb(self) -> float | None:
        """Peak resident memory of the embedding worker processes (benchmarks), None without any."""
        return self._worker.peak_rss_mb() if self._worker is not None else None

    def close(self) -> None:
        """Stop the worker process (shared by the process's verifiers, see
        :func:`kiosk.identity.face_worker.shared_worker`) and thread; a later :meth:`verify` starts them
        again."""
        with self._load_lock:
            worker, self._worker = self._worker, None
            pool, self._pool = self._pool, None
        if worker is not None:
            worker.close()
        if pool is not None:
            pool.shutdown(wait=True)

    def _get_analyser(self) -> FrameAnalyser:
        with self._load_lock:
            if self._analyser is None:
                from kiosk.identity.face_analysis import (
                    FastFrameAnalyser,  # imports kiosk.identity.liveness (cycle)
                )

                self._analyser = FastFrameAnalyser(
                    min_face_px=self.min_face_px,
                    min_brightness=self.min_brightness,
                    min_sharpness=self.min_sharpness,
                    max_face_frac=self.max_face_frac,
                    centre_band=self.centre_band,
                    backlight_margin=self.backlight_margin,
                )
            return self._analyser

    def _get_pool(self) -> ThreadPoolExecutor:
        with self._load_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-embed")
            return self._pool

    @property
    def loaded(self) -> bool:
        return self._models is not None or (self._worker is not None and self._worker.started)

    def _get_models(self) -> _Models:
        models = self._models
        if models is not None:
            return models
        with self._load_lock:
            if self._models is None:
                start = time.perf_counter()
                try:
                    import dlib
                    import face_recognition_models as frm

                    self._models = _Models(
                        detector=dlib.get_frontal_face_detector(),
                        shape_predictor=dlib.shape_predictor(frm.pose_predictor_five_point_model_location()),
                        recogniser=dlib.face_recognition_model_v1(frm.face_recognition_model_location()),
                    )
                except (ImportError, RuntimeError) as err:
                    raise FaceModelError(f"cannot load face models: {err}") from err
                logger.info("face models loaded in %.0f ms", (time.perf_counter() - start) * 1000)
            return self._models

    def _embed(self, models: _Models, rgb: npt.NDArray[Any], rect: Any) -> Embedding:
        return self._describe(models, rgb, models.shape_predictor(rgb, rect))

    @staticmethod
    def _chip(models: _Models, rgb: npt.NDArray[Any], rect: Any) -> npt.NDArray[np.uint8]:
        return face_chip(rgb, models.shape_predictor(rgb, rect))

    def describe_chip(self, chip: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
        """dlib's descriptor of one aligned face chip (one ResNet pass)."""
        models = self._get_models()
        with self._run_lock:
            return np.asarray(models.recogniser.compute_face_descriptor(chip), dtype=np.float64)

    def _describe(self, models: _Models, rgb: npt.NDArray[Any], shape: Any) -> Embedding:
        """The face descriptor for the 5-point ``shape`` in ``rgb``.

        With :attr:`mirror_average` (the default): dlib's aligned 150x150 chip (padding 0.25, what
        ``compute_face_descriptor(img, shape)`` extracts itself) and its left-right mirror image are
        both described and the two descriptors averaged.  A face and its mirror image are the same
        person, so the average keeps identity and cancels part of what comes from one side's
        lighting, a slightly turned head or an off-centre alignment; on the shared pairs it lowered
        the false rejections at FAR <= 0.1 % from 2.55 % to 1.4 % (docs/face-check.md).  It costs a
        second ResNet pass (~155 ms with dlib-bin's wheel, which has no BLAS)."""
        if not self.mirror_average:
            return Embedding(
                np.asarray(models.recogniser.compute_face_descriptor(rgb, shape), dtype=np.float64)
            )
        chip = face_chip(rgb, shape)
        mirrored = mirror(chip)
        # two calls, not one batch of two: each call holds the GIL throughout, so between the two
        # the frame analysis and the GUI get their turn (and the batch was not faster here)
        first = np.asarray(models.recogniser.compute_face_descriptor(chip), dtype=np.float64)
        second = np.asarray(models.recogniser.compute_face_descriptor(mirrored), dtype=np.float64)
        return Embedding((first + second) / 2)

    # ------------------------------------------------------------ reference
    def embed_reference(self, img_bgr: Frame) -> Embedding | FaceQuality:
        """Embedding of the ID-card photo, or the :class:`FaceQuality` saying why not.

        A card photo is tiny (102x126): it is upscaled before detecting; when the
        detector still finds nothing on a small portrait image, the whole image
        is taken as the face rectangle (ID photos are framed on the face)."""
        return self._reference(img_bgr, self._embed)

    def reference_chip(self, img_bgr: Frame) -> npt.NDArray[np.uint8] | FaceQuality:
        """The aligned 150x150 face chip of the card photo (what :meth:`embed_reference` describes)."""
        return self._reference(img_bgr, self._chip)

    def _reference(self, img_bgr: Frame, finish: _Finish[_T]) -> _T | FaceQuality:
        """Find the card photo's face; ``finish`` aligns it and describes it (or cuts the chip)."""
        import dlib

        models = self._get_models()
        if img_bgr.size == 0:
            return FaceQuality.NO_FACE
        h, w = img_bgr.shape[:2]
        scale = 1.0
        img: npt.NDArray[Any] = img_bgr
        if max(h, w) < 400:
            scale = 400 / max(h, w)
            img = cv2.resize(img_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        rgb = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        with self._run_lock:
            rects = list(models.detector(rgb, 1))
            if rects:
                rect = max(rects, key=lambda r: r.width() * r.height())
                return finish(models, rgb, rect)
            contrast = float(cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY).std())
            if scale > 1.0 and 0.6 <= w / h <= 1.0 and contrast >= _MIN_CARD_CONTRAST:
                logger.info("card photo: no face detected, using the whole image as the face")
                ih, iw = rgb.shape[:2]
                return finish(models, rgb, dlib.rectangle(0, 0, iw - 1, ih - 1))
        return FaceQuality.NO_FACE

    def embed_region(self, img_bgr: Frame, box: FaceBox) -> Embedding | None:
        """Embedding of the face in ``box`` (found by the fast analyser): dlib's detector runs on a
        crop around the box scaled so the face is ~140 px (upsample 0, ~15 ms instead of ~125 ms
        on the whole frame upsampled), then the 5-point alignment and the ResNet descriptor.
        None when dlib finds no face there."""
        return self._region(img_bgr, box, self._embed)

    def region_chip(self, img_bgr: Frame, box: FaceBox) -> npt.NDArray[np.uint8] | None:
        """The aligned 150x150 face chip of the face in ``box`` (what :meth:`embed_region` describes)."""
        return self._region(img_bgr, box, self._chip)

    def _region(self, img_bgr: Frame, box: FaceBox, finish: _Finish[_T]) -> _T | None:
        """Find the face in ``box``; ``finish`` aligns it and describes it (or cuts the chip)."""
        models = self._get_models()
        h, w = img_bgr.shape[:2]
        mx, my = box.width // 2, box.height // 2
        crop: npt.NDArray[Any] = img_bgr[
            max(0, box.top - my) : min(h, box.bottom + my), max(0, box.left - mx) : min(w, box.right + mx)
        ]
        if crop.size == 0:
            return None
        side = min(box.width, box.height)
        if 0 < side < 140:
            f = 140 / side
            crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        rgb = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        with self._run_lock:
            rects = list(models.detector(rgb, 0))
            if not rects:
                return None
            rect = max(rects, key=lambda r: r.width() * r.height())
            return finish(models, rgb, rect)

    # ------------------------------------------------------------ frames
    def check_frame(self, img_bgr: Frame) -> FrameCheck:
        """Quality gate for one live frame; computes the embedding when the frame is usable."""
        models = self._get_models()
        grey = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY)
        brightness = float(grey.mean())
        if brightness < self.min_brightness / 2:
            return FrameCheck(FaceQuality.TOO_DARK, brightness=brightness)
        rgb = np.ascontiguousarray(cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB))
        with self._run_lock:
            rects = list(models.detector(rgb, self.frame_upsample))
            if not rects:
                quality = FaceQuality.TOO_DARK if brightness < self.min_brightness else FaceQuality.NO_FACE
                return FrameCheck(quality, brightness=brightness)
            if len(rects) > 1:
                return FrameCheck(FaceQuality.MULTIPLE_FACES, faces=len(rects), brightness=brightness)
            rect = rects[0]
            h, w = grey.shape
            box = FaceBox(
                max(0, rect.left()), max(0, rect.top()), min(w, rect.right()), min(h, rect.bottom())
            )
            clipped = rect.left() < 0 or rect.top() < 0 or rect.right() > w or rect.bottom() > h
            failed, brightness, sharpness = box_quality(self, grey, box, clipped, brightness)
            if failed is not None:
                return FrameCheck(failed, faces=1, box=box, brightness=brightness, sharpness=sharpness)
            shape = models.shape_predictor(rgb, rect)
            if abs(yaw_from_five_points(shape)) > self.max_yaw:
                return FrameCheck(
                    FaceQuality.TURNED_AWAY, faces=1, box=box, brightness=brightness, sharpness=sharpness
                )
            emb = self._describe(models, rgb, shape)
        if self.eye_probe is not None and self.eye_probe.eyes_closed(img_bgr, box):
            return FrameCheck(
                FaceQuality.EYES_CLOSED, faces=1, box=box, brightness=brightness, sharpness=sharpness
            )
        return FrameCheck(
            FaceQuality.OK, faces=1, box=box, brightness=brightness, sharpness=sharpness, embedding=emb
        )

    # ------------------------------------------------------------ verify
    def verify(
        self,
        reference_img: Frame | Embedding,
        frames: Iterable[Frame],
        timeout_s: float,
        max_frames: int,
        *,
        liveness: LivenessCheck | None = None,
        on_progress: Callable[[FaceProgress], None] | None = None,
    ) -> FaceResult:
        """Compare live ``frames`` with the card photo until a decision, ``max_frames`` frames or
        ``timeout_s`` seconds.  Errors raised by the frame iterable (e.g. a camera's
        ``DeviceError``) propagate to the caller.

        Work per frame is only the fast analyser (BlazeFace + mesh, ~10 ms): the quality gate
        and the liveness challenges.  dlib runs in the worker process (or on a worker thread), and
        only where it can change the outcome:

        * the card photo's embedding starts at once, while the first frames are read;
        * no frame is embedded while the liveness decision is pending: a face that is not
          (yet) live is never compared, so a match cannot come from a photo shown before a
          live impostor does the challenges;
        * once live (at once with ``off`` or an IR camera's verdict): the first compliant frame
          is embedded and compared; a match decides, ``mismatch_after`` mismatches end it.

        ``liveness`` overrides the verifier's own check for this call; ``on_progress`` gets the
        quality gate and the current challenge of each frame (for the screen and the voice)."""
        start = time.monotonic()

        def elapsed_ms() -> int:
            return int((time.monotonic() - start) * 1000)

        check_live: LivenessCheck = liveness if liveness is not None else self.liveness
        sequence = isinstance(check_live, SequenceLivenessCheck)
        if isinstance(check_live, SequenceLivenessCheck):
            check_live.reset()
        analyser = self._get_analyser()
        pool = self._get_pool()
        worker = self._get_worker()
        ref: Embedding | FaceQuality | None = reference_img if isinstance(reference_img, Embedding) else None
        ref_future: Future[Embedding | FaceQuality] | None = None
        if not isinstance(reference_img, Embedding):
            if worker is not None:
                try:
                    ref_future = worker.reference(reference_img)
                except EmbedWorkerLost as err:
                    logger.error("face worker lost (%s): embedding on a thread", err)
                    worker = None
            if ref_future is None:
                ref_future = pool.submit(self.embed_reference, reference_img)

        best = float("inf")
        best_frame: tuple[Frame, FaceBox] | None = None  # the compared frame closest to the card
        used = 0
        embedded = 0
        mismatches = 0
        compliant = 0  # frames that passed every quality gate
        last: FaceQuality | None = None
        reason: FaceReason | None = None

        def result(why: FaceReason) -> FaceResult:
            evidence = evidence_jpeg(*best_frame) if best_frame is not None else None
            out = FaceResult(
                why is FaceReason.MATCHED, best, self.threshold, used, elapsed_ms(), why, last, evidence
            )
            logger.info(
                "face verify: %s distance=%.3f frames=%d in %d ms", why.value, best, used, out.elapsed_ms
            )
            return out

        def reference(wait: bool) -> Embedding | FaceQuality | None:
            nonlocal ref, worker
            if ref is None and ref_future is not None and (wait or ref_future.done()):
                if worker is None:
                    ref = ref_future.result()
                else:
                    try:
                        ref = worker.result(ref_future)
                    except EmbedWorkerLost as err:
                        logger.error("face worker lost (%s): embedding on a thread", err)
                        worker = None
                        assert not isinstance(reference_img, Embedding)
                        ref = pool.submit(self.embed_reference, reference_img).result()
            return ref

        def embed_live(frame: Frame, box: FaceBox) -> Embedding | None:
            nonlocal worker
            if worker is not None:
                try:
                    return worker.region(frame, box)
                except EmbedWorkerLost as err:
                    logger.error("face worker lost (%s): embedding on a thread", err)
                    worker = None
            return pool.submit(self.embed_region, frame, box).result()

        for frame in frames:
            if time.monotonic() - start > timeout_s:
                reason = FaceReason.TIMEOUT
                break
            used += 1
            if isinstance(reference(wait=False), FaceQuality):
                return result(FaceReason.BAD_REFERENCE)
            check = analyser.analyse(frame)
            last = check.quality
            one_face = check.faces == 1 and check.box is not None
            if isinstance(check_live, LandmarkLivenessCheck):
                # challenges (turns, blinks) need the frames the quality gates refuse too
                ok = check_live.is_live_landmarks(check.landmarks if one_face else None)
            elif check.box is not None and (one_face if sequence else check.quality is FaceQuality.OK):
                ok = check_live.is_live(frame, check.box)
            else:
                ok = True
            live: bool | None = (
                check_live.verdict() if isinstance(check_live, SequenceLivenessCheck) else True
            )
            if not ok or live is False:
                return result(FaceReason.LIVENESS_FAILED)
            if on_progress is not None:
                current = getattr(check_live, "current", None)
                on_progress(FaceProgress(check.quality, getattr(current, "value", None), used))
            if check.quality is FaceQuality.OK and check.box is not None:
                compliant += 1
            if check.quality is FaceQuality.OK and check.box is not None and live is True:
                emb = embed_live(frame, check.box)
                got = reference(wait=True)
                if not isinstance(got, Embedding):
                    return result(FaceReason.BAD_REFERENCE)
                if emb is not None:  # None: dlib found no face where BlazeFace did; next frame
                    embedded += 1
                    distance = got.distance(emb)
                    if distance < best:
                        best, best_frame = (
                            distance,
                            (frame.copy(), check.box),
                        )  # a camera may reuse its buffer
                    if best <= self.threshold:
                        reason = FaceReason.MATCHED
                        break
                    mismatches += 1
                    if mismatches >= self.mismatch_after:
                        reason = FaceReason.MISMATCH
                        break
            if used >= max_frames:
                break
        else:
            if time.monotonic() - start > timeout_s:
                reason = FaceReason.TIMEOUT
        if reason is None or reason is FaceReason.TIMEOUT:
            if embedded and (reason is None or mismatches >= self.mismatch_after):
                reason = FaceReason.MISMATCH  # usable frames, none close enough
            elif sequence and compliant and not embedded:
                # a usable face was there, but the liveness decision never came
                reason = FaceReason.LIVENESS_FAILED
            elif reason is None:
                reason = FaceReason.NO_USABLE_FRAME
        return result(reason)
