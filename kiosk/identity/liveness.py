"""Liveness by randomised challenges, and the plug-in point for an external verdict.

:class:`ChallengeLiveness` asks the citizen for a short random sequence of
actions (blink, turn left, turn right, open mouth) and checks each one from
facial landmarks **against the person's own baseline** (the first frames, face
at rest), each within a time limit.  Landmarks come from MediaPipe's 478-point
face mesh (:class:`MeshLandmarker`, ``mediapipe==0.10.21``, Apache-2.0, model
inside the wheel) rather than dlib's 68-point model, whose iBUG 300-W training
data restricts commercial use.

Measures (all ratios, so they do not change when a photo is moved, scaled or
rotated in the image plane):

* eye aspect ratio (EAR): eyelid gap over eye width, both eyes averaged;
* mouth aspect ratio (MAR): inner-lip gap over mouth width;
* yaw: nose-tip offset from the cheek midpoint over the face width; positive
  when the person turns to **their** left (towards the image's right in an
  unmirrored camera image).

What it stops: a still photo held or replayed (still, shifted, scaled, moved
in front of the camera): its ratios do not change, so no challenge completes
and the time limit fails it.

What it does **not** stop: a video replay or a face animated on a screen that
performs the asked actions (the order is random, which only raises the bar),
a 3-D mask or a photo with cut-out eyes/mouth worn by someone who blinks or
opens the mouth, deep-fake video injected into the camera feed.  Terminals with
an infrared or binocular camera should feed that camera's verdict through
:class:`ExternalLivenessCheck` (alone, or with :class:`AllOf` together with the
challenges).

Landmarks and frames stay in memory; nothing is logged but the challenge names
and the outcome.
"""

from __future__ import annotations

import enum
import logging
import random
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from kiosk.identity.face import FaceBox, LivenessCheck, SequenceLivenessCheck

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]
    Landmarks = npt.NDArray[np.float64]  # (478, 2) pixel coordinates

logger = logging.getLogger(__name__)

# MediaPipe face-mesh indices (canonical topology).
RIGHT_EYE = (33, 160, 158, 133, 153, 144)  # subject's right eye: outer, top, top, inner, bottom, bottom
LEFT_EYE = (362, 385, 387, 263, 373, 380)
MOUTH = (78, 308, 13, 14)  # corners, inner upper lip, inner lower lip
NOSE_TIP = 1
CHEEKS = (234, 454)  # image-left and image-right face contour


class Challenge(enum.Enum):
    """An action asked of the citizen.  Values are stable identifiers (UI prompt keys)."""

    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    OPEN_MOUTH = "open_mouth"


@dataclass(frozen=True)
class FaceMeasures:
    ear: float
    mar: float
    yaw: float


def _dist(pts: Landmarks, a: int, b: int) -> float:
    return float(np.linalg.norm(pts[a] - pts[b]))


def _ear(pts: Landmarks, eye: tuple[int, int, int, int, int, int]) -> float:
    outer, t1, t2, inner, b1, b2 = eye
    width = max(_dist(pts, outer, inner), 1e-6)
    return (_dist(pts, t1, b2) + _dist(pts, t2, b1)) / (2.0 * width)


def measure(pts: Landmarks) -> FaceMeasures:
    """Eye/mouth aspect ratios and yaw from face-mesh landmarks (pixel coordinates).  Five key
    points (YuNet, without MediaPipe: kiosk/identity/keypoints.py) give the yaw only (ratios NaN),
    as the nose tip's offset from the eye midpoint over the eye distance: on the demo photos of
    turned heads 0.7 to 1.3 times the mesh's yaw, so the same turn threshold serves both."""
    if len(pts) == 5:
        e1, e2, nose = pts[0], pts[1], pts[2]
        iod = max(float(np.linalg.norm(e1 - e2)), 1e-6)
        yaw = (float(nose[0]) - float(e1[0] + e2[0]) / 2.0) / iod
        return FaceMeasures(float("nan"), float("nan"), yaw)
    ear = (_ear(pts, RIGHT_EYE) + _ear(pts, LEFT_EYE)) / 2.0
    left, right, top, bottom = MOUTH
    mar = _dist(pts, top, bottom) / max(_dist(pts, left, right), 1e-6)
    cl, cr = pts[CHEEKS[0]], pts[CHEEKS[1]]
    width = max(float(cr[0] - cl[0]), 1e-6)
    yaw = (float(pts[NOSE_TIP][0]) - float(cl[0] + cr[0]) / 2.0) / width
    return FaceMeasures(ear, mar, yaw)


class MeshLandmarker:
    """MediaPipe face mesh (478 points).  Thread-safe; loads on first use.

    ``static_image_mode=True`` runs detection on every frame (deterministic, used in
    tests and the bench); ``False`` tracks between video frames (faster)."""

    def __init__(self, *, static_image_mode: bool = True, closed_eye_ear: float = 0.12) -> None:
        self.static_image_mode = static_image_mode
        self.closed_eye_ear = closed_eye_ear
        self._mesh: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        with self._lock:
            self._get()

    def _get(self) -> Any:
        if self._mesh is None:
            try:
                from kiosk.identity.mediapipe_solutions import solution

                face_mesh = solution("face_mesh")
            except ImportError as err:
                raise RuntimeError(f"mediapipe face mesh unavailable: {err}") from err
            self._mesh = face_mesh.FaceMesh(
                static_image_mode=self.static_image_mode,
                max_num_faces=1,
                refine_landmarks=True,
                min_detection_confidence=0.5,
            )
        return self._mesh

    def landmarks(self, frame: Frame) -> Landmarks | None:
        """Landmarks of the (first) face in a BGR frame, in pixels, or None."""
        rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        with self._lock:
            result = self._get().process(rgb)
        faces = result.multi_face_landmarks
        if not faces:
            return None
        h, w = frame.shape[:2]
        pts = np.array([(p.x * w, p.y * h) for p in faces[0].landmark], dtype=np.float64)
        return pts

    def eyes_closed(self, frame: Frame, box: FaceBox) -> bool:
        """:class:`kiosk.identity.face.EyeProbe`: both eyes' aspect ratio below ``closed_eye_ear``."""
        pts = self.landmarks(frame)
        return pts is not None and measure(pts).ear < self.closed_eye_ear


def default_landmarker() -> MeshLandmarker:
    """MediaPipe's mesh, or YuNet's five key points where MediaPipe is not installed (arm64)."""
    from kiosk.identity.keypoints import KeypointLandmarker, mediapipe_available

    if mediapipe_available():
        return MeshLandmarker()
    return KeypointLandmarker()  # type: ignore[return-value]  # the same landmarks() interface


class LivenessState(enum.Enum):
    BASELINE = "baseline"
    CHALLENGE = "challenge"
    PASSED = "passed"
    FAILED = "failed"


class ChallengeLiveness:
    """Randomised challenge-response liveness (a :class:`kiosk.identity.face.SequenceLivenessCheck`).

    Feed frames with :meth:`is_live` (what :class:`kiosk.identity.face.FaceVerifier` does) or
    landmark arrays with :meth:`observe`.  ``current`` is the challenge to prompt."""

    def __init__(
        self,
        landmarker: MeshLandmarker | None = None,
        *,
        challenges: int = 2,
        pool: Sequence[Challenge] | None = None,
        baseline_frames: int = 3,
        challenge_timeout_s: float = 5.0,
        blink_drop: float = 0.6,
        blink_recover: float = 0.85,
        mouth_rise: float = 0.25,
        turn_delta: float = 0.12,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.landmarker = landmarker
        if pool is None:  # every challenge on MediaPipe's mesh, the head turns without it
            from kiosk.identity.keypoints import default_challenge_pool

            pool = default_challenge_pool()
        self.n_challenges = min(challenges, len(pool))
        self.pool = tuple(pool)
        self.baseline_frames = baseline_frames
        self.challenge_timeout_s = challenge_timeout_s
        self.blink_drop = blink_drop
        self.blink_recover = blink_recover
        self.mouth_rise = mouth_rise
        self.turn_delta = turn_delta
        self._rng = rng if rng is not None else random.SystemRandom()
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self.sequence: tuple[Challenge, ...] = tuple(self._rng.sample(self.pool, self.n_challenges))
        self.state = LivenessState.BASELINE
        self._samples: list[FaceMeasures] = []
        self._baseline: FaceMeasures | None = None
        self._step = 0
        self._step_started = 0.0
        self._blink_closed = False

    @property
    def current(self) -> Challenge | None:
        if self.state is LivenessState.CHALLENGE:
            return self.sequence[self._step]
        return None

    def verdict(self) -> bool | None:
        if self.state is LivenessState.PASSED:
            return True
        if self.state is LivenessState.FAILED:
            return False
        return None

    def is_live(self, frame: Frame, box: FaceBox) -> bool:
        if self.landmarker is None:
            self.landmarker = default_landmarker()
        pts = self.landmarker.landmarks(frame)
        if pts is None:
            return self.state is not LivenessState.FAILED and not self._timed_out(self._clock())
        return self.observe(pts) is not LivenessState.FAILED

    def is_live_landmarks(self, landmarks: Landmarks | None) -> bool:
        """:class:`kiosk.identity.face.LandmarkLivenessCheck`: the mesh points the frame analyser already
        has (None: no single face in this frame; only the time limit advances)."""
        if landmarks is None:
            return self.state is not LivenessState.FAILED and not self._timed_out(self._clock())
        return self.observe(landmarks) is not LivenessState.FAILED

    def _timed_out(self, now: float) -> bool:
        if self.state is LivenessState.CHALLENGE and now - self._step_started > self.challenge_timeout_s:
            logger.info("liveness: challenge %s timed out", self.sequence[self._step].value)
            self.state = LivenessState.FAILED
        return self.state is LivenessState.FAILED

    def observe(self, pts: Landmarks, now: float | None = None) -> LivenessState:
        """Advance with one frame's landmarks; returns the new state."""
        t = self._clock() if now is None else now
        if self.state in (LivenessState.PASSED, LivenessState.FAILED):
            return self.state
        m = measure(pts)
        if self.state is LivenessState.BASELINE:
            self._samples.append(m)
            if len(self._samples) >= self.baseline_frames:
                self._baseline = FaceMeasures(
                    statistics.median(s.ear for s in self._samples),
                    statistics.median(s.mar for s in self._samples),
                    statistics.median(s.yaw for s in self._samples),
                )
                self.state = LivenessState.CHALLENGE
                self._step_started = t
            return self.state
        if self._timed_out(t):
            return self.state
        if self._done(self.sequence[self._step], m):
            logger.info("liveness: challenge %s done", self.sequence[self._step].value)
            self._step += 1
            self._step_started = t
            self._blink_closed = False
            if self._step >= len(self.sequence):
                self.state = LivenessState.PASSED
        return self.state

    def _done(self, challenge: Challenge, m: FaceMeasures) -> bool:
        base = self._baseline
        assert base is not None
        if challenge is Challenge.BLINK:
            if m.ear < self.blink_drop * base.ear:
                self._blink_closed = True
                return False
            return self._blink_closed and m.ear >= self.blink_recover * base.ear
        if challenge is Challenge.OPEN_MOUTH:
            return m.mar - base.mar >= self.mouth_rise
        if challenge is Challenge.TURN_LEFT:
            return m.yaw - base.yaw >= self.turn_delta
        return base.yaw - m.yaw >= self.turn_delta


class ExternalLivenessCheck:
    """Plug-in point for an infrared / binocular camera's own liveness verdict.

    ``verdict_source()`` returns True (live), False (attack) or None (no verdict yet);
    ``set_verdict`` lets a device driver push it instead.  Undecided counts as not yet
    live: :meth:`is_live` fails only on an explicit False."""

    def __init__(self, verdict_source: Callable[[], bool | None] | None = None) -> None:
        self._source = verdict_source
        self._pushed: bool | None = None

    def set_verdict(self, live: bool | None) -> None:
        self._pushed = live

    def reset(self) -> None:
        self._pushed = None

    def verdict(self) -> bool | None:
        if self._source is not None:
            return self._source()
        return self._pushed

    def is_live(self, frame: Frame, box: FaceBox) -> bool:
        return self.verdict() is not False


class AllOf:
    """Live only when every check says so (e.g. IR camera verdict and challenges)."""

    def __init__(self, *checks: LivenessCheck) -> None:
        self.checks = checks

    def reset(self) -> None:
        for c in self.checks:
            if isinstance(c, SequenceLivenessCheck):
                c.reset()

    def verdict(self) -> bool | None:
        verdicts = [c.verdict() if isinstance(c, SequenceLivenessCheck) else True for c in self.checks]
        if any(v is False for v in verdicts):
            return False
        return True if all(v is True for v in verdicts) else None

    def is_live(self, frame: Frame, box: FaceBox) -> bool:
        return all([c.is_live(frame, box) for c in self.checks])
