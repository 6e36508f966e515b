"""Challenge liveness (MediaPipe face mesh), the external-verdict plug-in and FaceVerifier wiring."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from devices.base import DeviceTimeout, RequiredAction
from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import SimulatedCamera, media_path
from kiosk.identity.face import (
    Embedding,
    FaceBox,
    FaceReason,
    FaceVerifier,
    LivenessCheck,
    SequenceLivenessCheck,
)
from kiosk.identity.liveness import (
    LEFT_EYE,
    MOUTH,
    RIGHT_EYE,
    AllOf,
    Challenge,
    ChallengeLiveness,
    ExternalLivenessCheck,
    LivenessState,
    MeshLandmarker,
    measure,
)

Img = npt.NDArray[np.uint8]
Pts = npt.NDArray[np.float64]

pytestmark = pytest.mark.slow


def live(name: str) -> Img:
    img = cv2.imread(str(media_path(name)), cv2.IMREAD_COLOR)
    assert img is not None
    return fit_on_canvas(img, 640, 480)


@pytest.fixture(scope="module")
def mesh() -> MeshLandmarker:
    lm = MeshLandmarker()
    lm.load()
    return lm


@pytest.fixture(scope="module")
def base_pts(mesh: MeshLandmarker) -> Pts:
    pts = mesh.landmarks(live("biden_live.jpg"))
    assert pts is not None and pts.shape == (478, 2)
    return pts


# ---------------------------------------------------------------- synthetic landmark motions
def blink(pts: Pts, amount: float) -> Pts:
    """Close both eyes by ``amount`` (0 open .. 1 shut): lids move to the eye's mid line."""
    out = pts.copy()
    for eye in (RIGHT_EYE, LEFT_EYE):
        outer, t1, t2, inner, b1, b2 = eye
        mid_y = (pts[outer][1] + pts[inner][1]) / 2
        for i in (t1, t2, b1, b2):
            out[i][1] = pts[i][1] + (mid_y - pts[i][1]) * amount
    return out


def open_mouth(pts: Pts, gap_px: float) -> Pts:
    out = pts.copy()
    lower = pts[:, 1] > pts[MOUTH[3]][1] - 1  # lower lip, chin: everything below the inner lower lip
    out[lower, 1] += gap_px
    return out


def turn(pts: Pts, squeeze: float, left: bool) -> Pts:
    """Head turn as seen by the camera: the half of the face turning away is compressed towards
    the nose.  The person's left is the image's right in an unmirrored camera, so a turn to the
    left foreshortens the image-right half."""
    out = pts.copy()
    nx = pts[1][0]
    far = pts[:, 0] > nx if left else pts[:, 0] < nx
    out[far, 0] = nx + (pts[far, 0] - nx) * squeeze
    return out


def jitter(pts: Pts, rng: np.random.Generator) -> Pts:
    """A still photo moved in front of the camera: shift, scale, in-plane rotation, noise."""
    angle = float(rng.uniform(-0.1, 0.1))
    scale = float(rng.uniform(0.9, 1.1))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) * scale
    centre = pts.mean(axis=0)
    moved: Pts = (pts - centre) @ rot.T + centre + rng.uniform(-20, 20, size=2)
    return moved + rng.normal(0, 0.3, size=pts.shape)


def perform(pts: Pts, challenge: Challenge) -> list[Pts]:
    if challenge is Challenge.BLINK:
        return [blink(pts, a) for a in (0.3, 0.7, 0.9, 0.4, 0.0)]
    if challenge is Challenge.OPEN_MOUTH:
        width = float(np.linalg.norm(pts[MOUTH[0]] - pts[MOUTH[1]]))
        return [open_mouth(pts, width * g) for g in (0.1, 0.25, 0.45, 0.2)]
    left = challenge is Challenge.TURN_LEFT
    return [turn(pts, s, left) for s in (0.9, 0.75, 0.5, 0.8)]


def run(liveness: ChallengeLiveness, frames: Iterator[Pts], dt: float = 1 / 15) -> LivenessState:
    t = 0.0
    for pts in frames:
        state = liveness.observe(pts, now=t)
        t += dt
        if state in (LivenessState.PASSED, LivenessState.FAILED):
            return state
    return liveness.state


def scripted(liveness: ChallengeLiveness, pts: Pts) -> Iterator[Pts]:
    """Baseline frames at rest, then whatever the screen asks for, then rest."""
    rng = np.random.default_rng(1)
    for _ in range(liveness.baseline_frames):
        yield pts + rng.normal(0, 0.3, size=pts.shape)
    while liveness.current is not None:
        challenge = liveness.current
        for frame in perform(pts, challenge):
            yield frame
            if liveness.current is not challenge:
                break
        else:
            for _ in range(3):
                yield pts


# ---------------------------------------------------------------- tests
def test_measures_respond_in_the_right_direction(base_pts: Pts) -> None:
    rest = measure(base_pts)
    assert measure(blink(base_pts, 0.9)).ear < 0.5 * rest.ear
    assert measure(open_mouth(base_pts, 30)).mar > rest.mar + 0.25
    assert measure(turn(base_pts, 0.5, left=True)).yaw > rest.yaw + 0.12
    assert measure(turn(base_pts, 0.5, left=False)).yaw < rest.yaw - 0.12


@pytest.mark.parametrize("seed", range(8))
def test_scripted_sequences_pass(base_pts: Pts, seed: int) -> None:
    liveness = ChallengeLiveness(rng=random.Random(seed), challenges=3)
    assert isinstance(liveness, SequenceLivenessCheck)
    assert len(set(liveness.sequence)) == 3
    assert run(liveness, scripted(liveness, base_pts)) is LivenessState.PASSED
    assert liveness.verdict() is True


def test_wrong_action_does_not_pass(base_pts: Pts) -> None:
    liveness = ChallengeLiveness(rng=random.Random(0), challenges=1, pool=[Challenge.TURN_LEFT])
    frames = (
        [base_pts] * 3
        + perform(base_pts, Challenge.TURN_RIGHT) * 20
        + perform(base_pts, Challenge.BLINK) * 20
    )
    assert run(liveness, iter(frames)) is LivenessState.FAILED
    assert liveness.verdict() is False


def test_still_photo_moved_in_front_of_camera_fails(base_pts: Pts) -> None:
    rng = np.random.default_rng(7)
    liveness = ChallengeLiveness(rng=random.Random(3), challenge_timeout_s=4.0)
    frames = (jitter(base_pts, rng) for _ in range(15 * 10))
    assert run(liveness, frames) is LivenessState.FAILED


def test_replayed_still_photo_fails_on_real_frames(mesh: MeshLandmarker, tmp_path: Path) -> None:
    """A still photo played by the (simulated) camera with shifts and sensor noise: the mesh runs
    on every real frame and no challenge is ever met, so FaceVerifier reports LIVENESS_FAILED."""
    clock = iter(np.arange(0.0, 1000.0, 0.5))  # each frame advances 0.5 s
    liveness = ChallengeLiveness(
        mesh, rng=random.Random(5), challenge_timeout_s=3.0, clock=lambda: next(clock)
    )
    verifier = FaceVerifier(liveness=liveness)
    sim = SimulatedCamera(tmp_path, [media_path("biden_live.jpg")])
    cam = sim.camera(seed=11)
    cam.open()
    reference = cv2.imread(str(media_path("biden_card.jpg")), cv2.IMREAD_COLOR)
    assert reference is not None

    def frames() -> Iterator[Img]:
        while True:
            yield cam.read_frame(timeout=1.0)

    try:
        result = verifier.verify(reference, frames(), timeout_s=60, max_frames=40)
    finally:
        cam.close()
    assert result.reason is FaceReason.LIVENESS_FAILED and not result.matched, result
    assert liveness.state is LivenessState.FAILED


def warp_turn(img: Img, mesh: MeshLandmarker, left: bool, squeeze: float = 0.5) -> Img:
    """Synthesise a head turn in the image: compress one half of the face towards the nose
    (``left``: the image-left half, i.e. a turn to the person's right)."""
    pts = mesh.landmarks(img)
    assert pts is not None
    nx = int(pts[1][0])
    h, w = img.shape[:2]
    out = np.full_like(img, 0)
    if left:
        part = cv2.resize(img[:, :nx], (int(nx * squeeze), h), interpolation=cv2.INTER_AREA)
        out[:, nx:] = img[:, nx:]
        out[:, nx - part.shape[1] : nx] = part
    else:
        part = cv2.resize(img[:, nx:], (int((w - nx) * squeeze), h), interpolation=cv2.INTER_AREA)
        out[:, :nx] = img[:, :nx]
        out[:, nx : nx + part.shape[1]] = part
    return out


def test_warped_real_frames_pass_turn_challenges(mesh: MeshLandmarker) -> None:
    """Real pixels through the mesh: turns synthesised by warping a real face pass, and
    the whole verify (match + liveness) succeeds."""
    frontal = live("biden_live.jpg")
    turned = {
        Challenge.TURN_LEFT: warp_turn(frontal, mesh, left=False),
        Challenge.TURN_RIGHT: warp_turn(frontal, mesh, left=True),
    }
    liveness = ChallengeLiveness(
        mesh, rng=random.Random(2), pool=[Challenge.TURN_LEFT, Challenge.TURN_RIGHT], challenges=2
    )
    verifier = FaceVerifier(liveness=liveness)
    reference = cv2.imread(str(media_path("biden_card.jpg")), cv2.IMREAD_COLOR)
    assert reference is not None

    def frames() -> Iterator[Img]:
        for _ in range(3):
            yield frontal
        for _ in range(4):
            challenge = liveness.current
            if challenge is None:
                yield frontal
                continue
            yield turned[challenge]
            yield frontal

    result = verifier.verify(reference, frames(), timeout_s=30, max_frames=20)
    assert result.matched and result.reason is FaceReason.MATCHED, result
    assert liveness.verdict() is True


def test_external_verdict_plug_in(base_pts: Pts) -> None:
    ir = ExternalLivenessCheck()
    assert isinstance(ir, LivenessCheck) and isinstance(ir, SequenceLivenessCheck)
    frame = np.zeros((4, 4, 3), np.uint8)
    assert ir.verdict() is None and ir.is_live(frame, None)  # type: ignore[arg-type]
    ir.set_verdict(False)
    assert not ir.is_live(frame, None)  # type: ignore[arg-type]
    ir.set_verdict(True)
    challenges = ChallengeLiveness(rng=random.Random(1), challenges=1)
    both = AllOf(ir, challenges)
    assert both.verdict() is None  # challenges not done yet
    run(challenges, scripted(challenges, base_pts))
    assert both.verdict() is True
    ir.set_verdict(False)
    assert both.verdict() is False


def test_external_attack_verdict_fails_verify() -> None:
    verifier = FaceVerifier(liveness=ExternalLivenessCheck(lambda: False))
    reference = cv2.imread(str(media_path("kit_card.jpg")), cv2.IMREAD_COLOR)
    assert reference is not None
    result = verifier.verify(reference, [live("kit_live.jpg")], timeout_s=10, max_frames=3)
    assert result.reason is FaceReason.LIVENESS_FAILED and not result.matched


def test_camera_that_stops_delivering_frames_is_reported(tmp_path: Path) -> None:
    """verify passes the camera's DeviceTimeout (with its required action) up to the session."""
    sim = SimulatedCamera(tmp_path, [media_path("biden_live.jpg")])
    cam = sim.camera(seed=1)
    cam.open()
    reference = cv2.imread(str(media_path("obama_card.jpg")), cv2.IMREAD_COLOR)  # impostor: no early match
    assert reference is not None

    def frames() -> Iterator[Img]:
        for n in range(100):
            if n == 2:
                sim.stall()
            yield cam.read_frame(timeout=0.5)

    verifier = FaceVerifier(mismatch_after=50)
    try:
        with pytest.raises(DeviceTimeout) as info:
            verifier.verify(reference, frames(), timeout_s=30, max_frames=100)
    finally:
        cam.close()
    assert info.value.action is RequiredAction.RETRY


def test_face_swap_after_match_is_refused() -> None:
    """Only a face seen once the liveness verdict is in is compared: the holder's photo shown
    before the verdict does not count, the face there when it comes (another person) → MISMATCH."""
    shown: list[str] = []
    ir = ExternalLivenessCheck(lambda: True if shown and shown[-1] == "obama" else None)
    verifier = FaceVerifier(liveness=ir)
    reference = cv2.imread(str(media_path("biden_card.jpg")), cv2.IMREAD_COLOR)
    assert reference is not None

    def frames() -> Iterator[Img]:
        for who, name in (
            ("biden", "biden_live.jpg"),
            ("biden", "biden_live.jpg"),
            ("obama", "obama_live1.jpg"),
        ):
            shown.append(who)
            yield live(name)

    result = verifier.verify(reference, frames(), timeout_s=30, max_frames=10)
    assert result.reason is FaceReason.MISMATCH and not result.matched, result
    assert result.score > result.threshold  # obama's distance: biden's frames were never compared


def test_same_face_through_the_verdict_is_matched() -> None:
    """Control for the test above: the same face before and after the verdict is MATCHED."""
    shown: list[str] = []
    ir = ExternalLivenessCheck(lambda: True if len(shown) >= 3 else None)
    verifier = FaceVerifier(liveness=ir)
    reference = cv2.imread(str(media_path("biden_card.jpg")), cv2.IMREAD_COLOR)
    assert reference is not None

    def frames() -> Iterator[Img]:
        for _ in range(5):
            shown.append("biden")
            yield live("biden_live.jpg")

    result = verifier.verify(reference, frames(), timeout_s=30, max_frames=10)
    assert result.reason is FaceReason.MATCHED and result.matched, result
    assert result.frames_used == 2 + verifier.live_frames  # compared: the frames from the verdict on


def test_embeddings_run_on_one_window_of_a_challenge_sequence(mesh: MeshLandmarker) -> None:
    """Per frame only BlazeFace + mesh: the embedding runs on ``live_frames`` frames, the first
    compliant ones after the challenges, however long the person takes."""
    from devices.camera.face_actions import close_eyes, open_mouth, turn_head

    embedded: list[int] = []

    class Counting(FaceVerifier):
        def embed_region(self, img_bgr: Img, box: FaceBox) -> Embedding | None:
            embedded.append(1)
            return super().embed_region(img_bgr, box)

    frontal = live("biden_live.jpg")
    pts = mesh.landmarks(frontal)
    assert pts is not None
    actions = {
        Challenge.TURN_LEFT: [turn_head(frontal, int(pts[1][0]), person_left=True)],
        Challenge.TURN_RIGHT: [turn_head(frontal, int(pts[1][0]), person_left=False)],
        Challenge.BLINK: [close_eyes(frontal, pts), frontal],
        Challenge.OPEN_MOUTH: [open_mouth(frontal, pts)],
    }
    liveness = ChallengeLiveness(rng=random.Random(4), challenges=2)
    verifier = Counting()
    reference = cv2.imread(str(media_path("biden_card.jpg")), cv2.IMREAD_COLOR)
    assert reference is not None

    def slow_person() -> Iterator[Img]:
        for _ in range(8):  # stands still a while before acting on each prompt
            yield frontal
        while liveness.current is not None:
            challenge = liveness.current
            for _ in range(6):
                yield frontal
            for frame in actions[challenge] * 3:
                yield frame
                if liveness.current is not challenge:
                    break
        for _ in range(20):
            yield frontal

    result = verifier.verify(reference, slow_person(), timeout_s=60, max_frames=200, liveness=liveness)
    assert result.matched and result.reason is FaceReason.MATCHED, result
    assert result.frames_used >= 20
    assert len(embedded) == verifier.live_frames == 3, len(embedded)
