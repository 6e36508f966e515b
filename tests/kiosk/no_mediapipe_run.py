"""The face check in a process where mediapipe cannot be imported (as on arm64), run by
tests/kiosk/test_no_mediapipe.py; prints what happened as one JSON line."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator

import cv2
import numpy as np

from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import SimulatedCamera, media_path
from kiosk.identity.face import FaceReason, FaceVerifier
from kiosk.identity.keypoints import KeypointLandmarker, mediapipe_available
from kiosk.identity.liveness import Challenge, ChallengeLiveness


def live(name: str) -> np.ndarray:
    img = cv2.imread(str(media_path(name)), cv2.IMREAD_COLOR)
    assert img is not None
    return fit_on_canvas(img, 640, 480)


def main() -> int:
    out: dict[str, object] = {"mediapipe_available": mediapipe_available()}
    try:
        import mediapipe  # noqa: F401

        out["import_blocked"] = False
    except ImportError:
        out["import_blocked"] = True
    frontal = live("biden_live.jpg")
    reference = cv2.imread(str(media_path("biden_card.jpg")), cv2.IMREAD_COLOR)
    pts = KeypointLandmarker().landmarks(frontal)
    assert pts is not None
    out["landmarks_shape"] = list(pts.shape)
    # the frame analyser's gates on YuNet
    verifier = FaceVerifier(liveness=ChallengeLiveness(rng=random.Random(2)))
    out["frontal_quality"] = verifier.check_frame(frontal).quality.value
    out["blank_quality"] = verifier.check_frame(np.full((480, 640, 3), 128, np.uint8)).quality.value
    out["analyser"] = type(verifier._get_analyser().detector).__name__
    out["pool"] = [c.value for c in ChallengeLiveness().pool]  # the default: head turns only
    # real head turns: the two photos of one person, turned one way and the other (a 3-D turn;
    # five key points do not move so on a flat photo tilted in front of the camera)
    card = cv2.imread(str(media_path("obama_card.jpg")), cv2.IMREAD_COLOR)
    one, other = live("obama_live1.jpg"), live("obama_live2.jpg")
    for challenge, start, end in ((Challenge.TURN_LEFT, other, one), (Challenge.TURN_RIGHT, one, other)):
        liveness = ChallengeLiveness(rng=random.Random(2), pool=[challenge], challenges=1)
        frames = iter([start] * 3 + [end] * 3)
        result = FaceVerifier(liveness=liveness).verify(card, frames, timeout_s=30, max_frames=6)
        out[f"{challenge.value}_matched"] = result.matched and result.reason is FaceReason.MATCHED
        out[f"{challenge.value}_live"] = liveness.verdict()
        # the wrong way round does not pass
        ticks = iter(np.arange(0.0, 100.0, 0.5))  # each frame advances 0.5 s
        wrong = ChallengeLiveness(
            rng=random.Random(2),
            pool=[challenge],
            challenges=1,
            challenge_timeout_s=1.0,
            clock=ticks.__next__,
        )
        FaceVerifier(liveness=wrong).verify(card, iter([end] * 3 + [start] * 5), timeout_s=30, max_frames=8)
        out[f"{challenge.value}_wrong_way"] = wrong.verdict()
    # a still photo replayed by the camera fails the challenges
    clock = iter(np.arange(0.0, 1000.0, 0.5))
    still = ChallengeLiveness(rng=random.Random(5), challenge_timeout_s=3.0, clock=lambda: next(clock))
    sim = SimulatedCamera(__import__("pathlib").Path(sys.argv[1]), [media_path("biden_live.jpg")])
    cam = sim.camera(seed=11)
    cam.open()

    def replay() -> Iterator[np.ndarray]:
        while True:
            yield cam.read_frame(timeout=1.0)

    try:
        replayed = FaceVerifier(liveness=still).verify(reference, replay(), timeout_s=60, max_frames=40)
    finally:
        cam.close()
    out["still_reason"] = replayed.reason.value
    out["still_state"] = still.state.value
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
