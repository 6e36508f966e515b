"""The face check's data types and plug-in protocols (shared by the verifier, the frame analyser,
the liveness checks and the session service).

:class:`FaceQuality` is a frame's quality gate, :class:`FaceReason` the outcome of a verification,
:class:`FaceResult` what the session stores, :class:`FrameCheck` one frame's verdict;
:func:`box_quality` holds the gates that need only a face box (both analysers use it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import cv2
import numpy as np

from kiosk.identity.face_embedder import Embedding

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]


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
    """Outcome of a verification.  ``score`` is the smallest cosine distance seen between the card
    photo's embedding and the mean embedding of a window of live frames
    (:meth:`kiosk.identity.face.FaceVerifier.verify`), ``math.inf`` when no frame was compared;
    matched iff ``score <= threshold``."""

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
