"""Fast per-frame analysis for the face check: BlazeFace + face mesh, no embedding.

The terminal's face check looks at every camera frame, but only to (a) tell the
citizen what to fix (the quality gates) and (b) follow the liveness challenges.
Neither needs the face embedder: :class:`FastFrameAnalyser` runs MediaPipe's BlazeFace
short-range detector (~2.5 ms on 640x480: face count, box and six key points)
and, on a single face, the 478-point face mesh (~10 ms per image; the
per-image mode is used so a frame's result never depends on earlier frames), and derives every
gate of :meth:`kiosk.identity.face.FaceVerifier.check_frame` from them.  The embedding (YuNet +
SFace, kiosk/identity/face_embedder.py) runs only on the few frames chosen for the 1:1 match
(see :meth:`kiosk.identity.face.FaceVerifier.verify`).

Gate definitions (same order and thresholds as :meth:`~kiosk.identity.face.FaceVerifier.check_frame`,
so the screen says the same things): too dark overall, no face, several faces, too small (box
side below ``min_face_px``), too near (box taller than ``max_face_frac`` of the frame, or cut by
its border), off centre, backlit, too dark (face), blurred (Laplacian variance over the face),
turned away (BlazeFace nose-tip key point off the eye midline over the inter-eye distance, limit
0.35: the demo citizens' slightly turned live photos measure up to 0.27), eyes closed (mesh eye
aspect ratio below ``closed_eye_ear``).  A frame that is not an image is "no face".

Frames and landmarks stay in memory; nothing is logged.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from kiosk.identity.face_embedder import as_bgr, usable_image
from kiosk.identity.face_types import FaceBox, FaceQuality, FrameCheck, box_quality
from kiosk.identity.keypoints import KeypointLandmarker, YuNetDetector, mediapipe_available
from kiosk.identity.liveness import MeshLandmarker, measure

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)


class BlazeFaceDetector:
    """MediaPipe BlazeFace (model inside the wheel).  Thread-safe, lazy.  ``model_selection`` 0 is
    the short-range model (faces within ~2 m, 128x128 input), 1 the full-range one (small faces)."""

    def __init__(self, min_confidence: float = 0.5, model_selection: int = 0) -> None:
        self.min_confidence = min_confidence
        self.model_selection = model_selection
        self._det: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            self._get()

    def _get(self) -> Any:
        if self._det is None:
            try:
                from kiosk.identity.mediapipe_solutions import solution

                face_detection = solution("face_detection")
            except ImportError as err:
                raise RuntimeError(f"mediapipe face detection unavailable: {err}") from err
            self._det = face_detection.FaceDetection(
                model_selection=self.model_selection, min_detection_confidence=self.min_confidence
            )
        return self._det

    def detect(self, rgb: npt.NDArray[Any]) -> list[tuple[tuple[float, float, float, float], Any, float]]:
        """Faces in an RGB frame, most confident first: ((xmin, ymin, width, height) in pixels,
        key points (6, 2) in pixels, score)."""
        h, w = rgb.shape[:2]
        with self._lock:
            result = self._get().process(rgb)
        out: list[tuple[tuple[float, float, float, float], Any, float]] = []
        for det in result.detections or ():
            rel = det.location_data.relative_bounding_box
            kps = np.array(
                [(k.x * w, k.y * h) for k in det.location_data.relative_keypoints], dtype=np.float64
            )
            box = (rel.xmin * w, rel.ymin * h, rel.width * w, rel.height * h)
            out.append((box, kps, float(det.score[0]) if det.score else 0.0))
        return sorted(out, key=lambda f: -f[2])


def yaw_from_keypoints(kps: Any) -> float:
    """Nose key point's horizontal offset from the eye midline over the inter-eye distance
    (BlazeFace key points 0, 1 = eyes, 2 = nose tip); ~0 facing the camera."""
    e1, e2, nose = kps[0], kps[1], kps[2]
    iod = max(1.0, float(np.hypot(e1[0] - e2[0], e1[1] - e2[1])))
    return float((nose[0] - (e1[0] + e2[0]) / 2) / iod)


class FastFrameAnalyser:
    """The quality gates on BlazeFace + mesh.  ``analyse`` returns a :class:`FrameCheck`
    without embedding; ``landmarks`` holds the mesh points when one face was found."""

    def __init__(
        self,
        *,
        min_face_px: int = 80,
        min_brightness: float = 40.0,
        min_sharpness: float = 25.0,
        max_face_frac: float = 0.7,
        centre_band: tuple[float, float, float, float] = (0.3, 0.7, 0.1, 0.85),
        max_yaw: float = 0.35,
        backlight_margin: float = 70.0,
        closed_eye_ear: float = 0.12,
        other_face_score: float = 0.8,
        mesh: MeshLandmarker | None = None,
        detector: BlazeFaceDetector | None = None,
        far_detector: BlazeFaceDetector | None = None,
    ) -> None:
        self.min_face_px = min_face_px
        self.min_brightness = min_brightness
        self.min_sharpness = min_sharpness
        self.max_face_frac = max_face_frac
        self.centre_band = centre_band
        self.max_yaw = max_yaw
        self.backlight_margin = backlight_margin
        self.closed_eye_ear = closed_eye_ear
        # a second detection counts as another person only above this score (BlazeFace sees
        # faces in background patterns at ~0.7; real second faces score > 0.9 on the test photos)
        self.other_face_score = other_face_score
        self.mesh: MeshLandmarker | KeypointLandmarker
        self.detector: BlazeFaceDetector | YuNetDetector
        self.far_detector: BlazeFaceDetector | YuNetDetector
        if not mediapipe_available():  # arm64: YuNet's box and five key points (keypoints.py)
            yunet = YuNetDetector()
            self.mesh = mesh if mesh is not None else KeypointLandmarker(yunet)
            self.detector = detector if detector is not None else yunet
            self.far_detector = far_detector if far_detector is not None else yunet
            return
        self.mesh = mesh if mesh is not None else MeshLandmarker()
        self.detector = detector if detector is not None else BlazeFaceDetector()
        # only asked when the short-range model sees nothing: is someone standing too far away?
        self.far_detector = far_detector if far_detector is not None else BlazeFaceDetector(model_selection=1)

    def load(self) -> None:
        self.detector.load()
        self.far_detector.load()
        self.mesh.load()

    def analyse(self, img_bgr: Frame) -> FrameCheck:
        """The quality verdict of one frame; a frame that is not an image (0x0, empty, not 8-bit)
        is :data:`FaceQuality.NO_FACE`, not an OpenCV error."""
        if not usable_image(img_bgr):
            return FrameCheck(FaceQuality.NO_FACE)
        img_bgr = as_bgr(img_bgr)
        grey = cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY)
        brightness = float(grey.mean())
        if brightness < self.min_brightness / 2:
            return FrameCheck(FaceQuality.TOO_DARK, brightness=brightness)
        rgb = np.ascontiguousarray(cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB))
        faces = self.detector.detect(rgb)
        if not faces:
            far = self.far_detector.detect(rgb)
            if len(far) == 1 and min(far[0][0][2], far[0][0][3]) < self.min_face_px:
                (x, y, bw, bh), _kps, _score = far[0]
                h, w = grey.shape
                box = FaceBox(max(0, int(x)), max(0, int(y)), min(w, int(x + bw)), min(h, int(y + bh)))
                return FrameCheck(FaceQuality.TOO_SMALL, faces=1, box=box, brightness=brightness)
            quality = FaceQuality.TOO_DARK if brightness < self.min_brightness else FaceQuality.NO_FACE
            return FrameCheck(quality, brightness=brightness)
        others = [f for f in faces[1:] if f[2] >= self.other_face_score]
        if others:
            return FrameCheck(FaceQuality.MULTIPLE_FACES, faces=1 + len(others), brightness=brightness)
        (x, y, bw, bh), kps, _score = faces[0]
        h, w = grey.shape
        box = FaceBox(max(0, int(x)), max(0, int(y)), min(w, int(x + bw)), min(h, int(y + bh)))
        # the mesh is what the liveness challenges watch: computed for every single-face frame
        pts = self.mesh.landmarks(img_bgr)

        def result(quality: FaceQuality, **kw: Any) -> FrameCheck:
            return FrameCheck(quality, faces=1, box=box, landmarks=pts, **kw)

        clipped = x < 0 or y < 0 or x + bw > w or y + bh > h
        failed, face_brightness, sharpness = box_quality(self, grey, box, clipped, brightness)
        if failed is not None:
            return result(failed, brightness=face_brightness, sharpness=sharpness)
        if abs(yaw_from_keypoints(kps)) > self.max_yaw:
            return result(FaceQuality.TURNED_AWAY, brightness=face_brightness, sharpness=sharpness)
        if pts is not None and measure(pts).ear < self.closed_eye_ear:
            return result(FaceQuality.EYES_CLOSED, brightness=face_brightness, sharpness=sharpness)
        return result(FaceQuality.OK, brightness=face_brightness, sharpness=sharpness)
