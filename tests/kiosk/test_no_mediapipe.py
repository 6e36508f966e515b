"""Without mediapipe (no aarch64 wheel) the face check falls back to YuNet's key points: a fresh
process whose sitecustomize makes ``import mediapipe`` fail as on an arm64 terminal
(tests/kiosk/no_mediapipe_run.py) checks frames, passes head-turn challenges on photos of a real
turned head (and fails them the wrong way round), matches the card, and fails a replayed photo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

BLOCKER = '''
import sys

class _NoMediapipe:
    """Makes mediapipe look not installed (arm64 has no wheel)."""

    def find_spec(self, name, path=None, target=None):
        if name == "mediapipe" or name.startswith("mediapipe."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoMediapipe())
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    site = tmp_path_factory.mktemp("nomp")
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "kiosk" / "no_mediapipe_run.py"),
            str(tmp_path_factory.mktemp("cam")),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_mediapipe_is_really_out_of_reach(run: dict[str, Any]) -> None:
    assert run["import_blocked"] and not run["mediapipe_available"]
    assert run["analyser"] == "YuNetDetector" and run["landmarks_shape"] == [5, 2]


def test_frames_are_checked_on_yunet(run: dict[str, Any]) -> None:
    assert run["frontal_quality"] == "ok"
    assert run["blank_quality"] == "no_face"


def test_real_head_turns_pass_and_the_card_matches(run: dict[str, Any]) -> None:
    assert run["pool"] == ["turn_left", "turn_right"]
    for turn in ("turn_left", "turn_right"):
        assert run[f"{turn}_matched"] and run[f"{turn}_live"] is True, run
        assert run[f"{turn}_wrong_way"] is False, run


def test_a_replayed_still_photo_fails(run: dict[str, Any]) -> None:
    assert run["still_reason"] == "liveness_failed" and run["still_state"] == "failed"
