"""The face step alone: the simulated face camera (frames played through the OpenCV driver), the
real face model, a real store; the platform is unreachable (real HTTP to a closed port)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.camera.simulator import SimulatedCamera, media_path
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.cases.platform_client import PlatformClient
from kiosk.identity.face import NoLivenessCheck
from kiosk.session.context import SessionContext
from kiosk.session.events import CameraFrame, FaceChecked, FaceGuidance
from kiosk.session.machine import Step
from kiosk.session.steps.face import FaceStep
from tests.kiosk.steps.helpers import NOW, Recorder, walk_to


@pytest.fixture
def platform(ctx: SessionContext) -> Iterator[PlatformClient]:
    client = PlatformClient("http://127.0.0.1:9", ctx.config.terminal_id, timeout=0.5)
    yield client
    client.close()


def _with_card(ctx: SessionContext, *, photo: bool = True) -> None:
    walk_to(ctx, Step.FACE_CHECK, "senior-card")
    card = sim_card("senior")
    ctx.data.identity.card = IdCardRead(text=card.text, photo_raw=card.photo_block(), read_at=NOW)
    ctx.data.identity.card_photo = SimulatorPhotoDecoder().decode(card.photo_block()) if photo else None


def test_the_card_holder_passes_and_the_session_goes_to_the_form(
    ctx: SessionContext, tmp_path: Path, face_verifier: Any, platform: PlatformClient, recorder: Recorder
) -> None:
    camera = SimulatedCamera(tmp_path / "cam", [media_path("obama_live1.jpg"), media_path("obama_live2.jpg")])
    step = FaceStep(ctx, camera.camera(), face_verifier, platform, liveness=NoLivenessCheck())
    _with_card(ctx)
    result = step.check()
    assert result is not None and result.matched, result
    assert ctx.machine.step is Step.FORM and ctx.data.identity.face is result
    assert ctx.data.identity.face_reference == "card_photo"
    assert recorder.of(CameraFrame) and recorder.of(FaceGuidance)  # the preview and the prompts
    [checked] = recorder.of(FaceChecked)
    assert checked.result is result and checked.attempts == 1  # type: ignore[attr-defined]
    audit = [r.details for r in ctx.store.audit_trail.records() if r.event == "face_check"]
    assert audit[-1]["matched"] is True


def test_a_camera_that_keeps_failing_hands_the_identity_to_staff(
    ctx: SessionContext, tmp_path: Path, face_verifier: Any, platform: PlatformClient
) -> None:
    camera = SimulatedCamera(tmp_path / "cam", [media_path("obama_live1.jpg")])
    camera.unplug()
    step = FaceStep(ctx, camera.camera(), face_verifier, platform)
    _with_card(ctx)
    assert step.check() is None
    assert ctx.machine.step is Step.DEVICE_PROBLEM  # the first failures: retry
    problem = ctx.data.problem
    assert problem is not None and problem.device == "camera" and problem.retry_step is Step.FACE_CHECK
    for _ in range(ctx.config.session.face_max_attempts - 1):
        ctx.data.problem = None
        ctx.go(Step.FACE_CHECK)
        assert step.check() is None
    assert ctx.machine.step is Step.STAFF_ASSIST and ctx.data.identity.staff_assisted_identity
    assert any(r.details.get("reason") == "camera_failed" for r in ctx.store.audit_trail.records())


def test_no_card_photo_and_no_platform_reference_means_staff(
    ctx: SessionContext, tmp_path: Path, face_verifier: Any, platform: PlatformClient
) -> None:
    camera = SimulatedCamera(tmp_path / "cam", [media_path("obama_live1.jpg")])
    step = FaceStep(ctx, camera.camera(), face_verifier, platform)
    _with_card(ctx, photo=False)
    assert step.check() is None
    assert ctx.machine.step is Step.STAFF_ASSIST
    assert ctx.data.identity.staff_assist_reason == "staff.no_reference_photo"
    assert ctx.data.identity.face_attempts == 0  # the camera was never asked
    looked_up = [r.details for r in ctx.store.audit_trail.records() if r.event == "reference_photo"]
    assert looked_up and "error" in looked_up[0]  # the platform could not be asked


class _Photos:
    """The platform's reference-photo answer (a unit boundary: the platform path is tested in
    tests/e2e/test_platform_identity.py); here it answers with whatever a hostile platform sends."""

    def __init__(self, jpeg: bytes) -> None:
        self.jpeg = jpeg

    def reference_photo(self, id_number: str) -> bytes | None:
        return self.jpeg


def _jpeg_declaring(width: int, height: int) -> bytes:
    import struct

    import cv2
    import numpy as np

    _ok, buf = cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))
    real = buf.tobytes()
    i = real.index(b"\xff\xc0")
    return real[: i + 5] + struct.pack(">HH", height, width) + real[i + 9 :]


def test_a_reference_photo_bomb_is_refused_not_decoded(
    ctx: SessionContext, tmp_path: Path, face_verifier: Any
) -> None:
    """Issue 17: a few hundred bytes declaring 20000x20000 pixels would decode to 1.2 GB."""
    import resource

    camera = SimulatedCamera(tmp_path / "cam", [media_path("obama_live1.jpg")])
    bomb = _jpeg_declaring(20000, 20000)
    assert len(bomb) < 1000
    step = FaceStep(ctx, camera.camera(), face_verifier, _Photos(bomb))
    _with_card(ctx, photo=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert step.check() is None
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200
    assert ctx.machine.step is Step.STAFF_ASSIST  # no usable reference: a person checks
    assert ctx.data.identity.staff_assist_reason == "staff.no_reference_photo"
    looked_up = [r.details for r in ctx.store.audit_trail.records() if r.event == "reference_photo"]
    assert looked_up[-1]["found"] is False


def test_a_card_photo_block_declaring_a_huge_image_is_not_decoded() -> None:
    from kiosk.images import decode_card_photo

    calls: list[bytes] = []
    bomb = _jpeg_declaring(16000, 16000)
    assert decode_card_photo(bomb, lambda raw: calls.append(raw)) is None
    assert calls == []  # refused from the header: the device's decoder never ran
