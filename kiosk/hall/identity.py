"""Who is at the terminal for a hall service that shows or prints personal documents (进度查询,
证照打印/补打): the resident ID card on the reader, the same card checks as a case (validity,
number), then the same face check as a case: the session's :class:`FaceVerifier` with its liveness
check, thresholds and time limit, against the card photo.

Nothing is kept: the ID number lives in the returned :class:`HallHolder` for the one service, is
registered with the log redaction and never logged; the audit trail gets the masked number only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from devices.base import DeviceError
from devices.interfaces import Camera, IdCardReader, PhotoDecoder
from kiosk import logsetup
from kiosk.identity.cards import check_card, mask_id_number, sensitive_values
from kiosk.identity.face import FaceVerifier, LivenessCheck
from kiosk.images import decode_card_photo

log = logging.getLogger(__name__)

Audit = Callable[[str, dict[str, object]], None]


class IdentityRefused(Exception):
    """The citizen could not be identified; ``key`` is the i18n key of what to tell them."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class HallHolder:
    id_number: str = field(repr=False)
    masked: str


@dataclass
class HallIdentity:
    """The card reader, the card photo decoder, the camera and the case flow's face check."""

    reader: IdCardReader
    photo_decoder: PhotoDecoder
    camera: Camera
    verifier: FaceVerifier
    liveness: LivenessCheck | None = None
    face_timeout_s: float = 20.0
    audit: Audit | None = None

    def identify(self, card_timeout_s: float, service: str) -> HallHolder | None:
        """The card holder, face-checked; None when no card came within ``card_timeout_s``.
        Raises :class:`IdentityRefused` (card refused, no usable photo, face not matched, camera
        failure)."""
        read = self.reader.read_card(card_timeout_s)
        if read is None:
            return None
        text = read.text
        logsetup.register_sensitive(*sensitive_values(text))
        masked = mask_id_number(text.id_number)
        if not check_card(text, dt.date.today()).ok:
            self._audit(service, masked, "card_refused")
            raise IdentityRefused("hall.identity.card_refused")
        photo = decode_card_photo(read.photo_raw, self.photo_decoder.decode)
        if photo is None:
            self._audit(service, masked, "no_card_photo")
            raise IdentityRefused("hall.identity.no_photo")
        try:
            self.camera.open()
            result = self.verifier.verify(
                photo,
                self._frames(),
                timeout_s=self.face_timeout_s,
                max_frames=60 if self.liveness is None else int(self.face_timeout_s * 30),
                liveness=self.liveness,
            )
        except DeviceError as err:
            log.warning("hall %s: camera failed: %s", service, err)
            self._audit(service, masked, "camera_failed")
            raise IdentityRefused("hall.identity.camera") from err
        finally:
            try:
                self.camera.close()
            except DeviceError:
                log.warning("camera close failed", exc_info=True)
        self._audit(service, masked, "matched" if result.matched else f"face_{result.reason.value}")
        if not result.matched:
            raise IdentityRefused("hall.identity.face")
        return HallHolder(text.id_number, masked)

    def _frames(self) -> Iterator[Any]:
        while True:
            yield self.camera.read_frame(timeout=2.0)

    def _audit(self, service: str, masked: str, outcome: str) -> None:
        if self.audit is not None:
            self.audit("hall_identity", {"service": service, "id": masked, "outcome": outcome})
