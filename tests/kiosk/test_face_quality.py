"""Every quality gate fires on a constructed frame, in both implementations: FaceVerifier.check_frame
(YuNet over the whole frame, real models) and the terminal's per-frame FastFrameAnalyser (BlazeFace + mesh)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import media_path
from kiosk.identity.face import FaceQuality, FaceVerifier, FrameCheck
from kiosk.identity.face_analysis import FastFrameAnalyser
from kiosk.identity.liveness import MeshLandmarker

FACES = Path("/work/shared/testdata/faces")
Img = npt.NDArray[np.uint8]

pytestmark = pytest.mark.slow


def load(name: str) -> Img:
    path = FACES / name if (FACES / name).is_file() else media_path(name)
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None
    return img


class _Checker:
    """Either gate implementation behind one ``check_frame``."""

    def __init__(self, fn: Callable[[Img], FrameCheck]) -> None:
        self.check_frame = fn


@pytest.fixture(scope="module")
def dlib_verifier() -> FaceVerifier:
    fv = FaceVerifier(eye_probe=MeshLandmarker())
    fv.load()
    return fv


@pytest.fixture(scope="module")
def fast_analyser() -> FastFrameAnalyser:
    analyser = FastFrameAnalyser()
    analyser.load()
    return analyser


@pytest.fixture(params=["dlib", "fast"])
def verifier(
    request: pytest.FixtureRequest, dlib_verifier: _Checker, fast_analyser: FastFrameAnalyser
) -> _Checker:
    if request.param == "dlib":
        return _Checker(dlib_verifier.check_frame)
    return _Checker(fast_analyser.analyse)


@pytest.fixture(scope="module")
def frontal() -> Img:
    return fit_on_canvas(load("biden_live.jpg"), 640, 480)  # face centred, frontal, 187 px


def shifted(img: Img, dx: int, dy: int) -> Img:
    m = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def test_compliant_frame_is_ok(verifier: _Checker, frontal: Img) -> None:
    check = verifier.check_frame(frontal)
    assert check.quality is FaceQuality.OK
    assert check.embedding is not None or check.landmarks is not None  # dlib embeds, fast gives the mesh


@pytest.mark.parametrize("name", ["obama_live1.jpg", "obama_live2.jpg", "biden_live.jpg", "kit_live.jpg"])
def test_demo_citizens_live_photos_are_compliant(fast_analyser: FastFrameAnalyser, name: str) -> None:
    """No false "several faces" / "turned away" on the demo photos (BlazeFace sees a face-like
    pattern in obama_live1's background at 0.7; the photos are turned by up to 0.27)."""
    assert fast_analyser.analyse(fit_on_canvas(load(name), 640, 480)).quality is FaceQuality.OK


def test_no_face_and_several_faces(verifier: _Checker, frontal: Img) -> None:
    assert verifier.check_frame(np.full((480, 640, 3), 128, np.uint8)).quality is FaceQuality.NO_FACE
    two = fit_on_canvas(load("examples_two_people.jpg"), 640, 480)
    assert verifier.check_frame(two).quality is FaceQuality.MULTIPLE_FACES


def test_too_far_and_too_near(verifier: _Checker, frontal: Img) -> None:
    small = cv2.resize(frontal, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    far = np.full_like(frontal, int(frontal.mean()))
    far[: small.shape[0], : small.shape[1]] = small
    far = shifted(far, (640 - small.shape[1]) // 2, (480 - small.shape[0]) // 2)
    assert verifier.check_frame(far).quality is FaceQuality.TOO_SMALL
    box = verifier.check_frame(frontal).box
    assert box is not None
    cx, cy = (box.left + box.right) // 2, (box.top + box.bottom) // 2
    half = int(box.height * 0.65)  # face fills ~75 % of the frame height
    crop = frontal[max(0, cy - half) : cy + half, max(0, cx - half * 4 // 3) : cx + half * 4 // 3]
    near = cv2.resize(crop, (640, 480), interpolation=cv2.INTER_CUBIC)
    assert verifier.check_frame(near).quality is FaceQuality.TOO_NEAR


def test_off_centre(verifier: _Checker, frontal: Img) -> None:
    assert verifier.check_frame(shifted(frontal, 180, 0)).quality is FaceQuality.OFF_CENTRE
    assert verifier.check_frame(shifted(frontal, -180, 0)).quality is FaceQuality.OFF_CENTRE


def test_turned_away(verifier: _Checker) -> None:
    """Synthesised head turn: squeeze the image-left half of the face towards the nose."""
    frame = fit_on_canvas(load("kit_live.jpg"), 640, 480)
    check = verifier.check_frame(frame)
    assert check.quality is FaceQuality.OK and check.box is not None
    nx = (check.box.left + check.box.right) // 2
    h = frame.shape[0]
    squeezed = cv2.resize(frame[:, :nx], (int(nx * 0.3), h), interpolation=cv2.INTER_AREA)
    turned = np.full_like(frame, 70)
    turned[:, nx:] = frame[:, nx:]
    turned[:, nx - squeezed.shape[1] : nx] = squeezed
    turned = shifted(turned, -(nx - squeezed.shape[1]) // 2, 0)
    assert verifier.check_frame(turned).quality is FaceQuality.TURNED_AWAY


def test_eyes_closed(verifier: _Checker, frontal: Img) -> None:
    """Eyes painted over with skin from the cheeks: the mesh sees closed lids."""
    lm = MeshLandmarker()
    pts = lm.landmarks(frontal)
    assert pts is not None
    closed = frontal.copy()
    skin = frontal[int(pts[205][1]) - 4 : int(pts[205][1]) + 4, int(pts[205][0]) - 4 : int(pts[205][0]) + 4]
    colour = tuple(int(c) for c in skin.reshape(-1, 3).mean(axis=0))
    for eye in ((33, 133, 159, 145), (362, 263, 386, 374)):
        x0, x1 = sorted((int(pts[eye[0]][0]), int(pts[eye[1]][0])))
        y0, y1 = int(pts[eye[2]][1]) - 6, int(pts[eye[3]][1]) + 4
        cv2.rectangle(closed, (x0 - 3, y0), (x1 + 3, y1), colour, -1)
        cv2.line(closed, (x0, (y0 + y1) // 2 + 2), (x1, (y0 + y1) // 2 + 2), (40, 40, 60), 2)
    closed = cv2.GaussianBlur(closed, (3, 3), 0)
    assert verifier.check_frame(closed).quality is FaceQuality.EYES_CLOSED


def test_too_dark_backlit_blurred(verifier: _Checker, frontal: Img) -> None:
    assert verifier.check_frame((frontal * 0.2).astype(np.uint8)).quality is FaceQuality.TOO_DARK
    box = verifier.check_frame(frontal).box
    assert box is not None
    backlit = np.full_like(frontal, 245)
    face = frontal[box.top - 40 : box.bottom + 40, box.left - 40 : box.right + 40]
    backlit[box.top - 40 : box.bottom + 40, box.left - 40 : box.right + 40] = (face * 0.45).astype(np.uint8)
    assert verifier.check_frame(backlit).quality is FaceQuality.BACKLIT
    assert verifier.check_frame(cv2.GaussianBlur(frontal, (0, 0), 4)).quality is FaceQuality.BLURRED
