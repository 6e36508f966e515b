"""FaceVerifier on the demo citizens' photos (real YuNet + SFace models, real frame analyser)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import SimulatedCamera, media_path
from kiosk.identity.face import (
    DEFAULT_THRESHOLD,
    Embedding,
    FaceQuality,
    FaceReason,
    FaceVerifier,
    LivenessCheck,
    NoLivenessCheck,
)
from kiosk.identity.face_embedder import SFaceEmbedder

FACES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "faces"
if not FACES.is_dir():
    FACES = Path("/work/shared/testdata/faces")

Img = npt.NDArray[np.uint8]
CITIZENS = {  # card photo, live photos (devices/camera/media)
    "senior": ("obama_card.jpg", ("obama_live1.jpg", "obama_live2.jpg")),
    "business": ("biden_card.jpg", ("biden_live.jpg",)),
    "expired": ("kit_card.jpg", ("kit_live.jpg",)),
}

pytestmark = pytest.mark.slow


def load(name: str) -> Img:
    img = cv2.imread(str(media_path(name)), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def live_frame(name: str) -> Img:
    return fit_on_canvas(load(name), 640, 480)


_DETECTOR = SFaceEmbedder()


def card_roundtrip(img: Img) -> tuple[Img, int]:
    """What the ID-card path does: face-framed 102x126 crop, WebP <= 1024 bytes, decoded."""
    faces = _DETECTOR.detect(img)
    assert len(faces) == 1
    x, y, fw, fh = (float(v) for v in faces[0][:4])
    cx, cy = x + fw / 2, y + fh / 2
    w = fw / 0.55
    h = w * 126 / 102
    sx, sy = 102 / w, 126 / h
    m = np.float32([[sx, 0, -(cx - w / 2) * sx], [0, sy, -(cy - h / 2) * sy]])
    small = cv2.warpAffine(img, m, (102, 126), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    for q in range(95, 0, -5):
        ok, buf = cv2.imencode(".webp", small, [cv2.IMWRITE_WEBP_QUALITY, q])
        assert ok
        if len(buf) <= 1024:
            break
    assert len(buf) <= 1024
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert out is not None and out.shape == (126, 102, 3)
    return out, len(buf)


@pytest.fixture(scope="module")
def verifier() -> FaceVerifier:
    fv = FaceVerifier()
    t = threading.Thread(target=fv.load)  # background warm-up
    t.start()
    t.join()
    assert fv.loaded
    return fv


def emb(fv: FaceVerifier, img: Img) -> Embedding:
    e = fv.embed_reference(img)
    assert isinstance(e, Embedding), e
    return e


def test_threshold_separates_shared_pairs(verifier: FaceVerifier) -> None:
    """Every same-person pair is within the threshold, every different-person pair beyond it."""
    cards = {k: emb(verifier, load(c)) for k, (c, _) in CITIZENS.items()}
    degraded = {k: emb(verifier, card_roundtrip(load(c))[0]) for k, (c, _) in CITIZENS.items()}
    lives: dict[str, list[Embedding]] = {}
    for k, (_, live_names) in CITIZENS.items():
        for name in live_names:
            check = verifier.check_frame(live_frame(name))
            assert check.quality is FaceQuality.OK and check.embedding is not None
            lives.setdefault(k, []).append(check.embedding)
    same, diff = [], []
    for ref in (cards, degraded):
        for k, e in ref.items():
            for k2, les in lives.items():
                (same if k == k2 else diff).extend(e.distance(x) for x in les)
    assert max(same) <= DEFAULT_THRESHOLD < min(diff), (sorted(same), sorted(diff))
    assert max(same) < DEFAULT_THRESHOLD - 0.1 and min(diff) > DEFAULT_THRESHOLD + 0.05  # margins


@pytest.mark.parametrize("citizen", sorted(CITIZENS))
def test_same_person_matches_with_degraded_card(verifier: FaceVerifier, citizen: str) -> None:
    card, live_names = CITIZENS[citizen]
    reference, size = card_roundtrip(load(card))
    assert size <= 1024
    frames = [live_frame(n) for n in live_names]
    result = verifier.verify(reference, frames, timeout_s=10, max_frames=5)
    assert result.matched, result
    assert result.reason is FaceReason.MATCHED
    assert result.score <= result.threshold == DEFAULT_THRESHOLD
    # the frames ran out before a full window of live_frames: the ones seen decide
    assert result.frames_used == min(len(frames), verifier.live_frames) and result.elapsed_ms > 0


def test_impostor_is_refused(verifier: FaceVerifier) -> None:
    """Card `business` (biden), camera shows obama."""
    reference, _ = card_roundtrip(load("biden_card.jpg"))
    frames = [live_frame("obama_live1.jpg"), live_frame("obama_live2.jpg")] * 2
    result = verifier.verify(reference, frames, timeout_s=10, max_frames=10)
    assert not result.matched
    assert result.reason is FaceReason.MISMATCH
    assert result.score > result.threshold
    # one window of live_frames averaged, compared once (mismatch_after = 1)
    assert result.frames_used == verifier.live_frames * verifier.mismatch_after == 3


def test_check_frame_quality_codes(verifier: FaceVerifier) -> None:
    assert verifier.check_frame(np.full((480, 640, 3), 128, np.uint8)).quality is FaceQuality.NO_FACE
    two = cv2.imread(str(FACES / "examples_two_people.jpg"), cv2.IMREAD_COLOR)
    check = verifier.check_frame(two)
    assert check.quality is FaceQuality.MULTIPLE_FACES and check.faces == 2
    frame = live_frame("kit_live.jpg")
    assert verifier.check_frame((frame * 0.2).astype(np.uint8)).quality is FaceQuality.TOO_DARK
    assert verifier.check_frame(cv2.GaussianBlur(frame, (0, 0), 4)).quality is FaceQuality.BLURRED
    tiny = np.full((480, 640, 3), 90, np.uint8)
    small = cv2.resize(frame, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    tiny[100 : 100 + small.shape[0], 100 : 100 + small.shape[1]] = small
    assert verifier.check_frame(tiny).quality is FaceQuality.TOO_SMALL
    ok = verifier.check_frame(frame)
    assert ok.quality is FaceQuality.OK and ok.embedding is not None and "128" in repr(ok.embedding)
    assert abs(float(np.linalg.norm(ok.embedding.vector)) - 1.0) < 1e-9  # normalised: cosine distance


def test_bad_reference_and_no_usable_frames(verifier: FaceVerifier) -> None:
    blank = np.full((126, 102, 3), 200, np.uint8)
    result = verifier.verify(blank, [live_frame("kit_live.jpg")], timeout_s=5, max_frames=3)
    assert result.reason is FaceReason.BAD_REFERENCE and not result.matched
    reference, _ = card_roundtrip(load("kit_card.jpg"))
    grey = [np.full((480, 640, 3), 128, np.uint8)] * 5
    result = verifier.verify(reference, grey, timeout_s=5, max_frames=3)
    assert result.reason is FaceReason.NO_USABLE_FRAME and result.frames_used == 3
    assert result.last_quality is FaceQuality.NO_FACE


def test_timeout(verifier: FaceVerifier) -> None:
    reference = emb(verifier, load("kit_card.jpg"))

    def endless() -> Iterator[Img]:
        while True:
            yield np.full((480, 640, 3), 128, np.uint8)

    result = verifier.verify(reference, endless(), timeout_s=0.5, max_frames=10_000)
    assert result.reason is FaceReason.TIMEOUT and not result.matched
    assert 500 <= result.elapsed_ms < 3000


def test_verify_from_simulated_camera(verifier: FaceVerifier, tmp_path: Path) -> None:
    sim = SimulatedCamera(tmp_path, [media_path("biden_live.jpg")])
    cam = sim.camera(seed=3)
    cam.open()
    reference, _ = card_roundtrip(load("biden_card.jpg"))

    def frames() -> Iterator[Img]:
        while True:
            yield cam.read_frame(timeout=1.0)

    try:
        result = verifier.verify(reference, frames(), timeout_s=10, max_frames=10)
    finally:
        cam.close()
    assert result.matched, result


def test_liveness_hook_is_called(verifier: FaceVerifier) -> None:
    class Refuse:
        def is_live(self, frame: Img, box: object) -> bool:
            return False

    assert isinstance(NoLivenessCheck(), LivenessCheck)
    strict = FaceVerifier(liveness=Refuse())  # type: ignore[arg-type]
    reference, _ = card_roundtrip(load("kit_card.jpg"))
    result = strict.verify(reference, [live_frame("kit_live.jpg")], timeout_s=10, max_frames=3)
    assert result.reason is FaceReason.LIVENESS_FAILED and not result.matched


# ------------------------------------------------------------------ frames that are not images
EMPTY_FRAMES: list[object] = [
    None,
    np.zeros((0, 0, 3), np.uint8),
    np.zeros((0, 640, 3), np.uint8),
    np.zeros((480, 0), np.uint8),
    np.zeros((480, 640, 3), np.float32),  # not 8-bit
    np.zeros((480, 640, 2), np.uint8),  # no such colour layout
]


@pytest.mark.parametrize(
    "bad", EMPTY_FRAMES, ids=lambda b: "none" if b is None else str(getattr(b, "shape", b))
)
def test_a_frame_that_is_no_image_is_no_face_not_an_opencv_error(verifier: FaceVerifier, bad: object) -> None:
    """A camera that hands over a 0x0 or empty buffer: every entry point says "no face" instead of
    raising cv2.error (issue 17, item 10)."""
    assert verifier.check_frame(bad).quality is FaceQuality.NO_FACE  # type: ignore[arg-type]
    assert verifier._get_analyser().analyse(bad).quality is FaceQuality.NO_FACE  # type: ignore[arg-type]
    assert verifier.embed_reference(bad) is FaceQuality.NO_FACE  # type: ignore[arg-type]
    assert verifier.embedder.embed_region(bad, (10, 10, 100, 100)) is None  # type: ignore[arg-type]
    assert len(verifier.embedder.detect(bad)) == 0  # type: ignore[arg-type]


def test_empty_frames_are_skipped_by_verify(verifier: FaceVerifier) -> None:
    """Empty frames between real ones cost nothing but themselves; only empty frames end as "no
    usable frame" (not an exception), counted against ``max_frames``."""
    reference, _ = card_roundtrip(load("biden_card.jpg"))
    good = live_frame("biden_live.jpg")
    mixed = [EMPTY_FRAMES[0], EMPTY_FRAMES[1], good, EMPTY_FRAMES[2], good, good]
    result = verifier.verify(reference, mixed, timeout_s=10, max_frames=10)  # type: ignore[arg-type]
    assert result.matched and result.reason is FaceReason.MATCHED, result
    assert result.frames_used == 3  # the three real frames
    only_empty = [np.zeros((0, 0, 3), np.uint8)] * 50
    result = verifier.verify(reference, only_empty, timeout_s=10, max_frames=5)
    assert result.reason is FaceReason.NO_USABLE_FRAME and not result.matched
    assert result.frames_used == 0


def test_grey_and_bgra_frames_are_converted(verifier: FaceVerifier) -> None:
    frame = live_frame("kit_live.jpg")
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)
    for img in (grey, bgra):
        check = verifier.check_frame(img)
        assert check.quality is FaceQuality.OK and check.embedding is not None


def test_several_live_frames_are_averaged(verifier: FaceVerifier) -> None:
    """The decision compares the card with the mean of the window's embeddings (not the best
    single frame): the reported score is the distance to that mean."""
    reference, _ = card_roundtrip(load("obama_card.jpg"))
    ref = emb(verifier, reference)
    frames = [live_frame("obama_live1.jpg"), live_frame("obama_live2.jpg"), live_frame("obama_live1.jpg")]
    singles = []
    for f in frames:
        check = verifier._get_analyser().analyse(f)
        assert check.box is not None
        e = verifier.embed_region(f, check.box)
        assert e is not None
        singles.append(e)
    result = verifier.verify(ref, frames, timeout_s=10, max_frames=10)
    assert result.matched and result.frames_used == 3
    assert abs(result.score - ref.distance(Embedding.mean(singles))) < 1e-9
    assert result.score != min(ref.distance(e) for e in singles)
