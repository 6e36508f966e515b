"""Liveness switched on in the terminal: the face step through the session's face service and the face screen.

The citizen in front of the (simulated) camera is scripted: a test person watches the prompts
the service publishes and shows the camera what a person answering them would look like (real
photo frames with the head turned, the eyes painted shut or the mouth opened:
devices/camera/face_actions.py).  Everything else is the terminal's own path: the OpenCvCamera
playing the frame directory, BlazeFace + face mesh per frame, ChallengeLiveness, the SFace match
against the card photo, the session machine, the screen.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtWidgets import QApplication

from devices.camera.face_actions import close_eyes, open_mouth, turn_head
from devices.camera.opencv import fit_on_canvas
from devices.camera.simulator import media_path
from kiosk.config import FaceConfig, SessionConfig, TerminalConfig
from kiosk.identity.face import FaceReason, NoLivenessCheck
from kiosk.identity.face_prompts import FacePrompt
from kiosk.identity.liveness import ChallengeLiveness, ExternalLivenessCheck, MeshLandmarker
from kiosk.session.events import FaceGuidance
from kiosk.session.machine import Step
from terminal.app import KioskUi, make_app
from terminal.demo import DemoDriver
from terminal.runtime import SimulatorBench, Terminal, build_terminal
from ui.screens import FaceScreen

Img = npt.NDArray[np.uint8]

pytestmark = pytest.mark.slow

ITEM = "business-registration"  # citizen "business": card photo biden_card, camera biden_live


class ScriptedPerson:
    """Stands in front of the simulated face camera and does what the screen asks.

    ``answers``: how many challenges the person performs (None: all); after that the person
    stands still, like a photo.  Reacts synchronously to the service's ``face_prompt`` events,
    i.e. before the camera's next frame is read."""

    def __init__(self, bench: SimulatorBench, mesh: MeshLandmarker, answers: int | None = None) -> None:
        self.bench = bench
        self.answers = answers
        frontal = fit_on_canvas(cv2.imread(str(media_path("biden_live.jpg")), cv2.IMREAD_COLOR), 640, 480)
        pts = mesh.landmarks(frontal)
        assert pts is not None
        nose_x = int(pts[1][0])
        self.rest = [frontal]
        self.actions = {
            "face.challenge.turn_left": [turn_head(frontal, nose_x, person_left=True)],
            "face.challenge.turn_right": [turn_head(frontal, nose_x, person_left=False)],
            "face.challenge.blink": [close_eyes(frontal, pts), frontal],
            "face.challenge.open_mouth": [open_mouth(frontal, pts)],
        }
        self.asked: list[str] = []
        self.prompts: list[FacePrompt] = []
        self._showing: str | None = "?"
        self._n = 0

    def on_event(self, event: Any) -> None:
        if not isinstance(event, FaceGuidance):
            return
        self.prompts.append(event.prompt)
        key = event.prompt.challenge_key
        if key == self._showing:
            return
        self._showing = key
        if key is None:
            self.show(self.rest)
            return
        self.asked.append(key)
        willing = self.answers is None or len(self.asked) <= self.answers
        self.show(self.actions[key] if willing else self.rest)

    def show(self, frames: list[Img]) -> None:
        """Replace what the camera sees (the frame directory the OpenCvCamera plays)."""
        d = self.bench.camera.frames_dir
        old = list(d.iterdir())
        for frame in frames:
            self._n += 1
            tmp = d.parent / f"next-{self._n:04d}.png"
            cv2.imwrite(str(tmp), frame)
            os.replace(tmp, d / f"{self._n:04d}.png")
        for p in old:
            p.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def mesh() -> MeshLandmarker:
    lm = MeshLandmarker()
    lm.load()
    return lm


@pytest.fixture
def terminal_factory(tmp_path: Path, face_verifier: Any, ocr_engine: Any) -> Iterator[Any]:
    started: list[Terminal] = []

    def start(face: FaceConfig, **session: Any) -> Terminal:
        config = TerminalConfig(data_dir=str(tmp_path), face=face, session=SessionConfig(**session))
        terminal = build_terminal(
            config, tmp_path / f"work{len(started)}", face=face_verifier, ocr=ocr_engine
        )
        started.append(terminal)
        return terminal

    yield start
    for t in started:
        t.close()


def to_face_step(terminal: Terminal) -> None:
    svc, bench = terminal.session, terminal.bench
    assert bench is not None
    svc.start()
    svc.choose_item(ITEM)
    bench.present_face(["biden_live.jpg"])
    bench.idcard.insert("business")
    assert svc.card.read() is not None
    assert svc.step is Step.FACE_CHECK


def test_config_picks_the_liveness_of_each_profile(terminal_factory: Any) -> None:
    assert FaceConfig().liveness_mode(TerminalConfig().profile) == "external"
    from kiosk.config import Profile

    assert FaceConfig().liveness_mode(Profile.PRODUCTION) == "challenge"
    challenge = terminal_factory(FaceConfig(liveness="challenge", challenges=3))
    assert isinstance(challenge.session.face.liveness, ChallengeLiveness)
    assert challenge.session.face.liveness.n_challenges == 3
    demo = terminal_factory(FaceConfig())
    assert isinstance(demo.session.face.liveness, ExternalLivenessCheck)
    off = terminal_factory(FaceConfig(liveness="off"))
    assert isinstance(off.session.face.liveness, NoLivenessCheck)


@pytest.mark.parametrize("challenges", [2, 3])
def test_challenges_answered_pass_and_the_session_goes_on(
    terminal_factory: Any, mesh: MeshLandmarker, challenges: int
) -> None:
    terminal = terminal_factory(FaceConfig(liveness="challenge", challenges=challenges))
    to_face_step(terminal)
    assert terminal.bench is not None
    person = ScriptedPerson(terminal.bench, mesh)
    terminal.session.subscribe(person.on_event)
    result = terminal.session.face.check()
    assert result is not None and result.matched and result.reason is FaceReason.MATCHED, result
    assert len(person.asked) == challenges and len(set(person.asked)) == challenges
    assert terminal.session.step is Step.FORM
    assert terminal.session.data.identity.face.score <= terminal.session.data.identity.face.threshold


def test_still_photo_fails_then_retry_then_staff(terminal_factory: Any) -> None:
    """Nobody answers (a photo held up): each attempt fails on the challenge time limit; the
    first failure brings the face step back (retry), the last one the staff-assisted path."""
    terminal = terminal_factory(
        FaceConfig(liveness="challenge", challenge_timeout_s=1.0), face_max_attempts=2
    )
    to_face_step(terminal)
    svc = terminal.session
    prompts: list[FacePrompt] = []
    svc.subscribe(lambda e: prompts.append(e.prompt) if isinstance(e, FaceGuidance) else None)
    first = svc.face.check()
    assert first is not None and first.reason is FaceReason.LIVENESS_FAILED and not first.matched
    assert math.isinf(first.score)  # a face that is not live is never compared
    assert any(p.challenge_key for p in prompts)  # it was asked
    assert svc.step is Step.FACE_CHECK and not svc.data.identity.staff_assisted_identity
    second = svc.face.check()
    assert second is not None and second.reason is FaceReason.LIVENESS_FAILED
    assert svc.step is Step.STAFF_ASSIST and svc.data.identity.staff_assisted_identity
    assert (
        svc.data.identity.face.reason is FaceReason.LIVENESS_FAILED
    )  # staff's card then vouches (tests/kiosk/steps/test_staff_step.py)


def test_first_challenge_only_then_timeout_fails(terminal_factory: Any, mesh: MeshLandmarker) -> None:
    terminal = terminal_factory(FaceConfig(liveness="challenge", challenge_timeout_s=1.5))
    to_face_step(terminal)
    assert terminal.bench is not None
    person = ScriptedPerson(terminal.bench, mesh, answers=1)
    terminal.session.subscribe(person.on_event)
    result = terminal.session.face.check()
    assert result is not None and result.reason is FaceReason.LIVENESS_FAILED, result
    assert len(person.asked) == 2  # the second challenge was asked and never answered
    assert terminal.session.step is Step.FACE_CHECK  # retry (1 of 3 attempts)


def test_demo_profile_uses_the_simulated_ir_verdict(terminal_factory: Any) -> None:
    """The demo's `external` mode: the SimulatorBench plays the IR camera's own verdict."""
    terminal = terminal_factory(FaceConfig())
    to_face_step(terminal)
    assert terminal.bench is not None
    terminal.bench.ir_liveness = False  # the IR camera reports an attack
    result = terminal.session.face.check()
    assert result is not None and result.reason is FaceReason.LIVENESS_FAILED
    assert terminal.session.step is Step.FACE_CHECK
    terminal.bench.ir_liveness = True
    result = terminal.session.face.check()
    # live from the first frame: the first live_frames (3) compliant frames are compared
    assert result is not None and result.matched and result.frames_used == 3, result
    assert terminal.session.step is Step.FORM


def test_face_screen_shows_the_challenges_offscreen(
    tmp_path: Path, face_verifier: Any, ocr_engine: Any, mesh: MeshLandmarker
) -> None:
    config = TerminalConfig(data_dir=str(tmp_path), face=FaceConfig(liveness="challenge", challenges=2))
    app = make_app()
    terminal = build_terminal(config, tmp_path / "work", face=face_verifier, ocr=ocr_engine)
    ui = KioskUi(app, terminal, fullscreen=False)
    try:
        driver = DemoDriver(ui, terminal, tmp_path / "shots")
        assert terminal.bench is not None
        person = ScriptedPerson(terminal.bench, mesh)
        terminal.session.subscribe(person.on_event)
        screen = ui.window.screens[Step.FACE_CHECK]  # built on first use (ui/screen_stack.py)
        assert isinstance(screen, FaceScreen)
        shown: list[tuple[str, str]] = []
        ui.facade.facePrompt.connect(
            lambda _p: shown.append((screen.challenge.text(), screen.quality.text()))
        )
        driver.begin(ITEM)
        terminal.bench.present_face(["biden_live.jpg"])
        terminal.bench.idcard.insert("business")
        driver.wait_step(Step.FACE_CHECK)
        driver.wait_step(Step.FORM, timeout=30.0)
        QApplication.processEvents()
        texts = [c for c, _ in shown if c]
        prompts = {
            "face.challenge.turn_left": "请向左转头",
            "face.challenge.turn_right": "请向右转头",
            "face.challenge.blink": "请眨眨眼",
            "face.challenge.open_mouth": "请张嘴",
        }
        assert len(person.asked) == 2
        for key in person.asked:
            assert prompts[key] in texts, (key, texts)
        assert any(q == "很好，请保持" for _, q in shown)  # quality feedback under the preview
    finally:
        ui.close()
        terminal.close()
        QApplication.processEvents()
