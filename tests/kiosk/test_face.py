"""FaceVerifier on the shared test photos (real dlib models)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import dlib
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


def card_roundtrip(img: Img) -> tuple[Img, int]:
    """What the ID-card path does: face-framed 102x126 crop, WebP <= 1024 bytes, decoded."""
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    rects = dlib.get_frontal_face_detector()(rgb, 1)
    assert len(rects) == 1
    r = rects[0]
    cx, cy = (r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2
    w = r.width() / 0.55
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
    assert max(same) < 0.57 and min(diff) > 0.65  # margin both sides


def test_descriptor_is_the_mean_of_the_face_and_its_mirror_image(verifier: FaceVerifier) -> None:
    """The terminal's descriptor averages the aligned face and its mirror image, so a mirrored
    photo of a face gives (nearly) the same descriptor; dlib's plain descriptor of the mirrored
    photo is further away."""
    plain = FaceVerifier(mirror_average=False)
    plain._models = verifier._models  # same models, only the descriptor differs
    for name in ("obama_live1.jpg", "biden_live.jpg"):
        img = live_frame(name)
        mirrored = np.ascontiguousarray(img[:, ::-1])
        averaged, averaged_m = emb(verifier, img), emb(verifier, mirrored)
        single, single_m = emb(plain, img), emb(plain, mirrored)
        assert averaged.distance(averaged_m) < 0.6 * single.distance(single_m), name  # 0.35-0.47 seen
        mean = Embedding((single.vector + single_m.vector) / 2)
        assert averaged.distance(mean) < 0.6 * single.distance(single_m), name  # 0.26-0.32 seen


def test_roc_target_holds_on_the_shared_pairs(verifier: FaceVerifier) -> None:
    """The issue's target on the pairs bench/face builds (13 shared photos x 6 variants): FAR <=
    0.1 % and FRR <= 3 % at the terminal's threshold, and the threshold lies inside the window
    where both hold."""
    from bench.face import roc

    result = roc(verifier, DEFAULT_THRESHOLD)
    assert result["genuine_pairs"] >= 400 and result["impostor_pairs"] >= 2000, result
    assert result["embedding_failed"] == [], result
    assert result["far"] <= 0.001 and result["frr"] <= 0.03, {k: result[k] for k in ("far", "frr")}
    lo, hi = result["target_window"]
    assert lo <= DEFAULT_THRESHOLD < hi


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
    assert result.frames_used == 1 and result.elapsed_ms > 0


def test_impostor_is_refused(verifier: FaceVerifier) -> None:
    """Card `business` (biden), camera shows obama."""
    reference, _ = card_roundtrip(load("biden_card.jpg"))
    frames = [live_frame("obama_live1.jpg"), live_frame("obama_live2.jpg")] * 2
    result = verifier.verify(reference, frames, timeout_s=10, max_frames=10)
    assert not result.matched
    assert result.reason is FaceReason.MISMATCH
    assert result.score > result.threshold
    assert result.frames_used == verifier.mismatch_after


def test_embeddings_run_in_the_worker_process_and_survive_its_death(verifier: FaceVerifier) -> None:
    """verify() embeds in a child process (dlib holds the GIL); the numbers are the same as on a
    thread.  A child killed mid-service: that check finishes on a thread, the next starts a new child."""
    reference, _ = card_roundtrip(load("obama_card.jpg"))
    frames = [live_frame("obama_live1.jpg")]
    in_process = verifier.verify(reference, frames, timeout_s=10, max_frames=5)
    worker = verifier._worker
    assert worker is not None and worker.started
    pids = worker.pids()
    assert len(pids) == 2 and os.getpid() not in pids  # the face and its mirror image at once
    peak = worker.peak_rss_mb()  # each child holds dlib's models: tens of MB at least
    assert peak is not None and 80 < peak < 2000, peak
    threaded = FaceVerifier(embed_process=False)
    threaded._models, threaded._analyser = verifier._get_models(), verifier._get_analyser()
    on_thread = threaded.verify(reference, frames, timeout_s=10, max_frames=5)
    assert in_process.matched and on_thread.matched
    assert abs(in_process.score - on_thread.score) < 1e-9

    os.kill(pids[0], signal.SIGKILL)
    time.sleep(0.3)  # the pool notices the dead child
    after_kill = verifier.verify(reference, frames, timeout_s=10, max_frames=5)
    assert after_kill.matched and abs(after_kill.score - on_thread.score) < 1e-9
    again = verifier.verify(reference, frames, timeout_s=30, max_frames=5)
    assert again.matched
    new_pids = verifier._worker.pids() if verifier._worker is not None else []
    assert new_pids and not set(new_pids) & set(pids)


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
