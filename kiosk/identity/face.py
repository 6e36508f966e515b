"""Face verification: the live camera against the ID-card photo (1:1).

The embedder is SFace (OpenCV Zoo) with the YuNet detector, run by OpenCV
(:mod:`kiosk.identity.face_embedder`: models pinned by SHA-256).  ``score`` in :class:`FaceResult`
is the **cosine distance** ``1 - cos`` between the card photo's embedding and the mean embedding
of the live frames compared: smaller is more alike; it is a match when ``distance <= threshold``.

Decision (:meth:`FaceVerifier.verify`): the card photo is embedded at once (upsampled 4x with
Lanczos, YuNet's five key points align it); once the person is live, the first ``live_frames`` (3)
frames that pass every quality gate are embedded and their embeddings averaged, and the mean is
compared with the card's, once.  Averaging several frames evens out what one frame's alignment,
noise and expression put into the embedding.  ``mismatch_after`` (1) is how many such windows are
compared before the answer is a mismatch: each further window is another try for an impostor.

Threshold :data:`DEFAULT_THRESHOLD`: chosen on one half of the test identities (split by a hash of
the identity, ``bench/face``) and reported on the other half; docs/face-check.md gives both, with
the confidence bound of the false-acceptance rate and what the figures do not show.  Re-measure
before tuning it (``bench/face``, ``tests/kiosk/test_face_roc.py``).

Quality gates (:meth:`FaceVerifier.check_frame`, in this order): too dark overall, no face,
several faces, too small (too far), too near (face taller than ``max_face_frac`` of the frame or
cut by its border), off centre, backlit, too dark (face), blurred, turned away (YuNet's nose key
point off the eye midline, ``max_yaw``), eyes closed (only with an ``eye_probe``, e.g.
:class:`kiosk.identity.liveness.MeshLandmarker`).

Per frame vs per decision: :meth:`FaceVerifier.verify` looks at every frame only through the fast
analyser (:mod:`kiosk.identity.face_analysis`: BlazeFace + the 478-point mesh, the same gates,
~10 ms), which is also what the liveness challenges read; the embedding (YuNet on a crop around
the face + SFace, ~25-60 ms) runs for the card photo at the start, on a thread while the first
frames are read, and for the live frames once the liveness decision is in (a face is compared
only when it is live).  OpenCV releases the GIL while it runs, so the GUI and the frame analysis
go on beside it.  :meth:`FaceVerifier.check_frame` is the whole-frame version of the gates on
YuNet (a reference the fast gates are tested against).

A frame that is not an image (``None``, 0x0, empty, not 8-bit) is skipped, not an error: a camera
that hands over an empty buffer costs a frame, never the check.

Liveness: :class:`LivenessCheck` is the per-frame hook (``is_live``), :class:`NoLivenessCheck`
accepts every frame.  Challenge liveness and the plug-in for an external infrared/binocular
verdict live in :mod:`kiosk.identity.liveness`; a check that also has ``reset()`` and
``verdict()`` (:class:`SequenceLivenessCheck`) makes :meth:`FaceVerifier.verify` keep reading
frames until the liveness decision is in.

Embeddings stay in memory only; nothing here writes or logs images, boxes of named people or
embeddings.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import cv2
import numpy as np

from kiosk.identity.face_embedder import (
    Embedding,
    FaceModelError,
    SFaceEmbedder,
    as_bgr,
    usable_image,
    yaw_from_yunet,
)
from kiosk.identity.face_types import (
    EVIDENCE_JPEG_QUALITY,
    EyeProbe,
    FaceBox,
    FaceProgress,
    FaceQuality,
    FaceReason,
    FaceResult,
    FrameAnalyser,
    FrameCheck,
    GateSettings,
    LandmarkLivenessCheck,
    LivenessCheck,
    NoLivenessCheck,
    SequenceLivenessCheck,
    box_quality,
    evidence_jpeg,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

__all__ = [
    "DEFAULT_THRESHOLD",
    "EVIDENCE_JPEG_QUALITY",
    "Embedding",
    "EyeProbe",
    "FaceBox",
    "FaceModelError",
    "FaceProgress",
    "FaceQuality",
    "FaceReason",
    "FaceResult",
    "FaceVerifier",
    "FrameAnalyser",
    "FrameCheck",
    "GateSettings",
    "LandmarkLivenessCheck",
    "LivenessCheck",
    "NoLivenessCheck",
    "SequenceLivenessCheck",
    "box_quality",
    "evidence_jpeg",
]

logger = logging.getLogger(__name__)

#: Cosine distance of SFace embeddings (card photo vs the mean of ``live_frames`` live frames) at
#: or below which the faces are taken as one person.  Chosen on the threshold half of the test
#: identities (bench/face ``chosen_on``), see docs/face-check.md.
DEFAULT_THRESHOLD = 0.608
#: A second YuNet face counts as another person only at or above this score.
_OTHER_FACE_SCORE = 0.8


class FaceVerifier:
    """1:1 face verification.  Models load lazily and thread-safely; :meth:`load` warms up."""

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        min_face_px: int = 80,
        min_brightness: float = 40.0,
        min_sharpness: float = 25.0,
        live_frames: int = 3,
        mismatch_after: int = 1,
        liveness: LivenessCheck | None = None,
        max_face_frac: float = 0.7,
        centre_band: tuple[float, float, float, float] = (0.3, 0.7, 0.1, 0.85),
        max_yaw: float = 0.35,
        backlight_margin: float = 70.0,
        eye_probe: EyeProbe | None = None,
        analyser: FrameAnalyser | None = None,
        embedder: SFaceEmbedder | None = None,
    ) -> None:
        if live_frames < 1 or mismatch_after < 1:
            raise ValueError("live_frames and mismatch_after must be at least 1")
        self.threshold = threshold
        self.min_face_px = min_face_px
        self.min_brightness = min_brightness
        self.min_sharpness = min_sharpness
        #: live frames whose embeddings are averaged for one comparison
        self.live_frames = live_frames
        #: comparisons (windows of ``live_frames``) before the answer is a mismatch
        self.mismatch_after = mismatch_after
        self.liveness: LivenessCheck = liveness if liveness is not None else NoLivenessCheck()
        self.max_face_frac = max_face_frac
        self.centre_band = centre_band  # x_min, x_max, y_min, y_max of the face centre (fractions)
        self.max_yaw = max_yaw  # |nose offset from the eye midline| / inter-eye distance
        self.backlight_margin = backlight_margin
        self.eye_probe = eye_probe
        self.embedder = embedder if embedder is not None else SFaceEmbedder()
        self._load_lock = threading.Lock()
        self._analyser = analyser
        self._pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------ models
    def load(self) -> None:
        """Load the models now (safe from a background thread, idempotent): the embedder (its
        files checked against their pinned SHA-256) and the frame analyser."""
        self.embedder.load()
        self._get_analyser().load()

    @property
    def loaded(self) -> bool:
        return self.embedder.loaded

    def unload(self) -> None:
        """Drop the embedder's networks while nobody is at the terminal (the frame analyser
        stays); the next :meth:`load` or embedding loads them again."""
        self.embedder.unload()

    def worker_peak_rss_mb(self) -> float | None:
        """Peak memory of embedding worker processes: None, the embedder runs in this process
        (kept for the benchmarks that report it)."""
        return None

    def close(self) -> None:
        """Stop the embedding thread (a later :meth:`verify` starts it again)."""
        with self._load_lock:
            pool, self._pool = self._pool, None
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

    # ------------------------------------------------------------ embeddings
    def embed_reference(self, img_bgr: Frame) -> Embedding | FaceQuality:
        """Embedding of the ID-card photo (or a platform reference photo), or the
        :class:`FaceQuality` saying why not (:data:`FaceQuality.NO_FACE`: no face found, or not an
        image).  A small photo (the card's 102x126) is upsampled before detection and alignment
        (:meth:`kiosk.identity.face_embedder.SFaceEmbedder.prepare_card`)."""
        if not usable_image(img_bgr):
            return FaceQuality.NO_FACE
        found = self.embedder.embed_photo(img_bgr)
        return found if found is not None else FaceQuality.NO_FACE

    def embed_region(self, img_bgr: Frame, box: FaceBox) -> Embedding | None:
        """Embedding of the face in ``box`` of a live frame (found by the fast analyser), None when
        YuNet finds no face there."""
        return self.embedder.embed_region(img_bgr, (box.left, box.top, box.right, box.bottom))

    # ------------------------------------------------------------ frames
    def check_frame(self, img_bgr: Frame) -> FrameCheck:
        """Quality gate for one live frame on YuNet over the whole frame; computes the embedding
        when the frame is usable.  A frame that is not an image is :data:`FaceQuality.NO_FACE`."""
        if not usable_image(img_bgr):
            return FrameCheck(FaceQuality.NO_FACE)
        img = as_bgr(img_bgr)
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        brightness = float(grey.mean())
        if brightness < self.min_brightness / 2:
            return FrameCheck(FaceQuality.TOO_DARK, brightness=brightness)
        faces = sorted(self.embedder.detect(img), key=lambda f: -float(f[14]))
        if not faces:
            quality = FaceQuality.TOO_DARK if brightness < self.min_brightness else FaceQuality.NO_FACE
            return FrameCheck(quality, brightness=brightness)
        others = [f for f in faces[1:] if float(f[14]) >= _OTHER_FACE_SCORE]
        if others:
            return FrameCheck(FaceQuality.MULTIPLE_FACES, faces=1 + len(others), brightness=brightness)
        face = faces[0]
        h, w = grey.shape
        x, y, bw, bh = (float(v) for v in face[:4])
        box = FaceBox(max(0, int(x)), max(0, int(y)), min(w, int(x + bw)), min(h, int(y + bh)))
        clipped = x < 0 or y < 0 or x + bw > w or y + bh > h
        failed, brightness, sharpness = box_quality(self, grey, box, clipped, brightness)
        if failed is not None:
            return FrameCheck(failed, faces=1, box=box, brightness=brightness, sharpness=sharpness)
        if abs(yaw_from_yunet(face)) > self.max_yaw:
            return FrameCheck(
                FaceQuality.TURNED_AWAY, faces=1, box=box, brightness=brightness, sharpness=sharpness
            )
        if self.eye_probe is not None and self.eye_probe.eyes_closed(img, box):
            return FrameCheck(
                FaceQuality.EYES_CLOSED, faces=1, box=box, brightness=brightness, sharpness=sharpness
            )
        emb = self.embedder.describe(img, face)
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
        ``DeviceError``) propagate to the caller; a frame that is not an image is skipped.

        Work per frame is only the fast analyser (BlazeFace + mesh, ~10 ms): the quality gate
        and the liveness challenges.  The embeddings run only where they can change the outcome:

        * the card photo's embedding starts at once on a thread, while the first frames are read;
        * no frame is embedded while the liveness decision is pending: a face that is not
          (yet) live is never compared, so a match cannot come from a photo shown before a
          live impostor does the challenges;
        * once live (at once with ``off`` or an IR camera's verdict): the next ``live_frames``
          compliant frames are embedded, their mean is compared with the card's; within the
          threshold decides a match, ``mismatch_after`` windows beyond it a mismatch.  When the
          frames end first (``max_frames``, time, camera), the frames embedded so far decide.

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
        ref: Embedding | FaceQuality | None = reference_img if isinstance(reference_img, Embedding) else None
        ref_future: Future[Embedding | FaceQuality] | None = None
        if not isinstance(reference_img, Embedding):
            ref_future = self._get_pool().submit(self.embed_reference, reference_img)

        best = float("inf")
        best_frame: tuple[Frame, FaceBox] | None = None  # the compared frame closest to the card
        window: list[tuple[Embedding, Frame, FaceBox]] = []
        used = 0
        compared = 0  # windows compared
        embedded = 0
        compliant = 0  # frames that passed every quality gate
        skipped = 0  # frames that were not images
        last: FaceQuality | None = None
        reason: FaceReason | None = None

        def result(why: FaceReason) -> FaceResult:
            evidence = evidence_jpeg(*best_frame) if best_frame is not None else None
            out = FaceResult(
                why is FaceReason.MATCHED, best, self.threshold, used, elapsed_ms(), why, last, evidence
            )
            logger.info(
                "face verify: %s distance=%.3f frames=%d embedded=%d skipped=%d in %d ms",
                why.value,
                best,
                used,
                embedded,
                skipped,
                out.elapsed_ms,
            )
            return out

        def reference(wait: bool) -> Embedding | FaceQuality | None:
            nonlocal ref
            if ref is None and ref_future is not None and (wait or ref_future.done()):
                ref = ref_future.result()
            return ref

        def compare(got: Embedding) -> bool:
            """Compare the window's mean with the card; True when it decides a match."""
            nonlocal best, best_frame, compared, window
            distance = got.distance(Embedding.mean([e for e, _, _ in window]))
            compared += 1
            if distance < best:
                # the window's frame closest to the card, as the case's evidence
                closest = min(window, key=lambda item: got.distance(item[0]))
                best, best_frame = distance, (closest[1], closest[2])
            window = []
            return distance <= self.threshold

        for frame in frames:
            if time.monotonic() - start > timeout_s:
                reason = FaceReason.TIMEOUT
                break
            if not usable_image(frame):
                skipped += 1
                if skipped >= max_frames:
                    break
                continue
            frame = as_bgr(frame)
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
                emb = self.embed_region(frame, check.box)
                got = reference(wait=True)
                if not isinstance(got, Embedding):
                    return result(FaceReason.BAD_REFERENCE)
                if emb is not None:  # None: YuNet found no face where BlazeFace did; next frame
                    embedded += 1
                    window.append((emb, frame.copy(), check.box))  # a camera may reuse its buffer
                    if len(window) >= self.live_frames:
                        if compare(got):
                            reason = FaceReason.MATCHED
                            break
                        if compared >= self.mismatch_after:
                            reason = FaceReason.MISMATCH
                            break
            if used >= max_frames:
                break
        else:
            if time.monotonic() - start > timeout_s:
                reason = FaceReason.TIMEOUT
        if reason is None or reason is FaceReason.TIMEOUT:
            got = reference(wait=True) if window else None
            if window and isinstance(got, Embedding) and compare(got):
                reason = FaceReason.MATCHED  # the frames ended before a full window: those decide
            elif embedded:
                reason = FaceReason.MISMATCH  # usable frames, none close enough
            elif sequence and compliant:
                # a usable face was there, but the liveness decision never came
                reason = FaceReason.LIVENESS_FAILED
            elif reason is None:
                reason = FaceReason.NO_USABLE_FRAME
        return result(reason)
