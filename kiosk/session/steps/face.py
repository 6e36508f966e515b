"""The face step: the person at the terminal against the card photo (or the platform's reference
photo of the holder when there is no card photo), with liveness and on-screen guidance."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from typing import Any, Protocol

from devices.base import DeviceError
from devices.interfaces import Camera
from kiosk.cases.platform_client import PlatformError
from kiosk.identity.face import FaceProgress, FaceResult, FaceVerifier, LivenessCheck
from kiosk.identity.face_prompts import FacePrompter
from kiosk.images import REFERENCE_PHOTO_MAX_BYTES, REFERENCE_PHOTO_MAX_PIXELS, ImageRejected, decode_image
from kiosk.session.context import SessionContext
from kiosk.session.events import CameraFrame, FaceChecked, FaceGuidance
from kiosk.session.machine import SessionData, Step

log = logging.getLogger(__name__)


class ReferencePhotos(Protocol):
    """The platform's reference photos of ID holders (kiosk.cases.platform_client.PlatformClient)."""

    def reference_photo(self, id_number: str) -> bytes | None: ...


class FaceStep:
    def __init__(
        self,
        ctx: SessionContext,
        camera: Camera,
        verifier: FaceVerifier,
        references: ReferencePhotos,
        *,
        liveness: LivenessCheck | None = None,
        prompter: FacePrompter | None = None,
    ) -> None:
        self.ctx = ctx
        self.camera = camera
        self.verifier = verifier
        self.references = references
        self.liveness = liveness  # None: the verifier's own check (kiosk/identity/face.py)
        self.prompter = prompter or FacePrompter()

    def check(self) -> FaceResult | None:
        """Verify the person in front of the camera against the card photo."""
        ctx = self.ctx
        data = ctx.data
        cfg = ctx.config.session
        if data.identity.card_photo is None:
            # No decodable card photo (no decoder, decode failure, QR identity): the platform's
            # reference photo of the holder; without one, hall staff check the identity.
            data.identity.card_photo = self._platform_reference_photo(data)
            if data.identity.card_photo is None:
                data.identity.staff_assisted_identity = True
                data.identity.staff_assist_reason = "staff.no_reference_photo"
                ctx.audit("face_check", {"session": data.session_id, "reason": "no_reference_photo"})
                ctx.go(Step.STAFF_ASSIST, session=data)
                return None
            data.identity.face_reference = "platform_reference"
        elif data.identity.face_reference is None:
            data.identity.face_reference = "card_photo"
        data.identity.face_attempts += 1
        ctx.cancelled.clear()
        try:
            self.camera.open()
            result = self.verifier.verify(
                data.identity.card_photo,
                self._camera_frames(),
                timeout_s=cfg.face_timeout_s,
                max_frames=60 if self.liveness is None else int(cfg.face_timeout_s * 30),
                liveness=self.liveness,
                on_progress=self._progress,
            )
        except DeviceError as err:
            if data.identity.face_attempts >= cfg.face_max_attempts:
                # The camera keeps failing: identity is checked by staff instead (case flagged).
                log.warning(
                    "camera failed %d times, staff-assisted identity: %s", data.identity.face_attempts, err
                )
                data.identity.staff_assisted_identity = True
                ctx.audit("face_check", {"session": data.session_id, "reason": "camera_failed"})
                ctx.go(Step.STAFF_ASSIST, session=data)
            else:
                ctx.device_problem("camera", err, retry=Step.FACE_CHECK, data=data)
            return None
        finally:
            try:
                self.camera.close()
            except DeviceError:
                log.warning("camera close failed", exc_info=True)
        data.identity.face = result
        ctx.touch()
        ctx.audit(
            "face_check",
            {
                "session": data.session_id,
                "matched": result.matched,
                "score": round(result.score, 4) if math.isfinite(result.score) else None,
                "reason": result.reason.value,
            },
        )
        ctx.publish(FaceChecked(result, data.identity.face_attempts))
        if result.matched:
            ctx.go(Step.FORM, session=data)
        elif data.identity.face_attempts >= cfg.face_max_attempts:
            data.identity.staff_assisted_identity = True
            ctx.go(Step.STAFF_ASSIST, session=data)
        else:
            ctx.go(Step.FACE_CHECK, session=data)
        return result

    def _platform_reference_photo(self, data: SessionData) -> Any:
        """The platform's reference photo of the holder, decoded to BGR; None when there is none."""
        if data.identity.card is None:
            return None
        try:
            jpeg = self.references.reference_photo(data.identity.card.text.id_number)
        except PlatformError as err:  # the message names only the keyed holder token, never the ID
            log.warning("reference photo lookup failed: %s", err)
            self.ctx.audit("reference_photo", {"session": data.session_id, "error": type(err).__name__})
            return None
        image = None
        if jpeg is not None:
            # Bounded: the declared size is checked before decoding (a tiny file declaring
            # 20000x20000 pixels would otherwise decode to over a gigabyte).
            try:
                image = decode_image(
                    jpeg, max_pixels=REFERENCE_PHOTO_MAX_PIXELS, max_bytes=REFERENCE_PHOTO_MAX_BYTES
                )
            except ImageRejected as err:
                log.warning("the platform's reference photo is refused: %s", err)
        self.ctx.audit("reference_photo", {"session": data.session_id, "found": image is not None})
        return image

    def _camera_frames(self) -> Iterator[Any]:
        while not self.ctx.cancelled.is_set():
            frame = self.camera.read_frame(timeout=2.0)
            self.ctx.publish(CameraFrame(frame))
            yield frame

    def _progress(self, progress: FaceProgress) -> None:
        """Per frame of the face check: the prompt (quality, challenge) for the screen and voice."""
        if progress.frames == 1:
            self.prompter.reset()
        self.ctx.publish(FaceGuidance(self.prompter.update(progress)))
