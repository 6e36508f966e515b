"""What the terminal needs of remote help before a call starts, without the media stack.

aiortc and PyAV (the WebRTC peer, the codecs) take about half a second to import and their native
libraries some tens of megabytes: :mod:`kiosk.assist.call` and :mod:`kiosk.assist.media` are
imported when the first call is set up (kiosk/assist/service.py), not at start-up.  The service's
callback interface, the recording upload and the screen-share rate live here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from kiosk.assist.state import EndReason
from kiosk.cases.platform_models import RecordingReceipt

#: Frames a second of the shared screen (the UI grabs the window at this rate during a call).
SCREEN_FPS = 8.0


class Handler:
    """What the call reports to its owner (the service), on the loop thread."""

    def queued(self, call_id: str, position: int, expected_wait_s: float) -> None: ...
    def accepted(self, agent_id: str, agent_name: str) -> None: ...
    def media_flowing(self) -> None: ...
    def field_edit(self, key: str, value: str) -> None: ...
    def chat(self, text: str) -> None: ...
    def remote_acceptance(self, message: dict[str, Any]) -> None: ...
    def pointer(self, x: float, y: float) -> None: ...
    def audio_only(self, on: bool) -> None: ...
    def ended(self, reason: EndReason, callback_requested: bool) -> None: ...


def recording_uploader(transport: Any) -> Callable[[str, bytes], None]:
    """Upload a call's recording with the platform client's signed transport
    (:class:`~kiosk.cases.platform_transport.Transport`)."""

    def upload(call_id: str, body: bytes) -> None:
        reply = transport.request(
            "POST",
            f"/api/v1/assist/calls/{call_id}/recordings",
            data=body,
            headers={"Content-Type": "video/x-msvideo", "X-Recording-Name": "call.avi"},
        )
        receipt = transport.parse(reply, RecordingReceipt, "call recording")
        if receipt.sha256 != hashlib.sha256(body).hexdigest():
            raise ValueError("the platform acknowledged another recording")

    return upload
