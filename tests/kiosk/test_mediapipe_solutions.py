"""MediaPipe's face solutions load without the rest of MediaPipe (kiosk/identity/mediapipe_solutions.py):
in a fresh interpreter the liveness face mesh and the face detector find a real face, while
matplotlib, the other solutions and the Tasks API stay unimported; after a full ``import
mediapipe`` the same call hands out the package's own module."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.models,
    pytest.mark.skipif(
        importlib.util.find_spec("mediapipe") is None,
        reason="mediapipe is not installed (no aarch64 wheel): tests/kiosk/test_no_mediapipe.py covers that",
    ),
]

RUN = """
import json, sys
import cv2
from devices.camera.simulator import media_path
if sys.argv[1] == "full":
    import mediapipe
    face_detection, face_mesh = mediapipe.solutions.face_detection, mediapipe.solutions.face_mesh
else:
    from kiosk.identity.mediapipe_solutions import solution
    face_detection, face_mesh = solution("face_detection"), solution("face_mesh")
frame = cv2.cvtColor(cv2.imread(str(media_path("obama_live1.jpg")), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
mesh = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True)
faces = mesh.process(frame).multi_face_landmarks or []
scores = [
    [round(d.score[0], 4) for d in face_detection.FaceDetection(model_selection=m).process(frame).detections or []]
    for m in (0, 1)
]
print(json.dumps({
    "mesh_points": [len(f.landmark) for f in faces],
    "nose": [round(faces[0].landmark[1].x, 4), round(faces[0].landmark[1].y, 4)] if faces else None,
    "detection_scores": scores,
    "matplotlib": "matplotlib" in sys.modules,
    "hands": "mediapipe.python.solutions.hands" in sys.modules,
    "tasks": "mediapipe.tasks.python" in sys.modules,
}))
"""

FULL_FIRST = """
import json
import mediapipe
from kiosk.identity.mediapipe_solutions import solution
print(json.dumps({"same": solution("face_mesh") is mediapipe.solutions.face_mesh}))
"""


def _run(code: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_the_face_solutions_give_the_same_answers_without_the_rest_of_mediapipe() -> None:
    light, full = _run(RUN, "light"), _run(RUN, "full")
    assert light["mesh_points"] == [478] and light["detection_scores"] != [[], []]
    # the same landmarks and detections (with the options' messages registered, non-maximum
    # suppression runs: without them the short-range detector reported 11 faces here, not 2)
    assert {k: light[k] for k in ("mesh_points", "nose", "detection_scores")} == {
        k: full[k] for k in ("mesh_points", "nose", "detection_scores")
    }
    assert (light["matplotlib"], light["hands"], light["tasks"]) == (False, False, False)
    assert full["matplotlib"]  # what the light import saves


def test_after_a_full_import_the_package_module_is_used() -> None:
    assert _run(FULL_FIRST) == {"same": True}
