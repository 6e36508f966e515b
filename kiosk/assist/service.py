"""Remote video help at the terminal (远程帮办): the service the UI calls.

Consent comes first (the call is recorded, and the screen says so); the consent and its wording
key go into the audit trail and to the platform with the join.  Then the terminal waits in the
platform's queue (place and expected wait shown; cancel at any time), and the call runs on an
asyncio loop of its own (:class:`~kiosk.assist.call.AssistCall`), so the GUI thread only ever
posts commands and reads snapshots.  An agent's field edit becomes a :class:`FieldProposal` the
citizen confirms or declines; only a confirmed value enters the session's form.  A remote
acceptance (远程受理) marks the case with the agent's decision and identity, in the audit trail.

The call ends on hang-up (either side), cancel, the hall's wait limit (the platform records a
call-back request) or a lost connection; in every case the citizen's session goes on where it was.
The recording (:class:`~kiosk.assist.media.CallRecorder`) is uploaded to the platform after the
call, which keeps it encrypted with a retention limit, and deleted locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.interfaces import Camera
from kiosk.assist.base import Handler
from kiosk.assist.state import (
    AssistEvent,
    AssistSession,
    AssistStatus,
    CallMachine,
    CallState,
    ChatLine,
    EndReason,
    FieldProposal,
    Pointer,
    RemoteAcceptance,
)

if TYPE_CHECKING:  # aiortc and PyAV: imported when the first call is set up (kiosk/assist/base.py)
    from kiosk.assist.call import AssistCall, CallMedia
    from kiosk.assist.media import FrameSource

log = logging.getLogger(__name__)

#: The i18n key of the consent text shown (and recorded with the consent).
CONSENT_TEXT_KEY = "assist.consent.text"
RECORD_PERIOD_S = 0.5

Listener = Callable[[AssistEvent], None]
Uploader = Callable[[str, bytes], None]


class AssistService(Handler):
    """Remote help for one terminal; every public method may be called from any thread."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: Ed25519PrivateKey,
        camera: Camera,
        session: AssistSession,
        *,
        upload: Uploader | None = None,
        record_dir: Path | None = None,
    ) -> None:
        self.base_url = base_url
        self.terminal_id = terminal_id
        self.key = key
        self.camera = camera
        self.session = session
        self.upload = upload
        self.record_dir = record_dir or Path(tempfile.gettempdir())
        self.frame_source: FrameSource | None = None
        self.machine = CallMachine()
        self.status = AssistStatus(CallState.IDLE)
        self.proposals: dict[int, FieldProposal] = {}
        self.last_recording: tuple[str, int] | None = None  # (call id, bytes uploaded)
        self.help_tapped_at: float | None = None
        self.first_media_at: float | None = None
        self._listeners: list[Listener] = []
        self._call: AssistCall | None = None
        self._running: Future[Any] | None = None
        self._session_id = ""
        self._muted = False
        self._next_proposal = 1
        self._lock = threading.RLock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="assist-call", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ listeners and snapshots

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _publish(self, event: AssistEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("assist listener failed for %s", type(event).__name__)

    def _set(self, state: CallState, **changes: Any) -> None:
        with self._lock:
            if state is not self.machine.state and not self.machine.go(state):
                return
            fields = {k: v for k, v in vars(self.status).items() if k != "state"}
            fields.update(changes)
            fields["muted"] = self._muted
            self.status = AssistStatus(state, **fields)
        self._publish(self.status)

    def media_stats(self) -> dict[str, int]:
        """Frames received (video, audio) and sent (camera, screen) in the current or last call."""
        media = self._call.media if self._call is not None else None
        if media is None:
            return {"video_received": 0, "audio_received": 0, "camera_sent": 0, "screen_sent": 0}
        return {
            "video_received": media.received("video"),
            "audio_received": media.received("audio"),
            "camera_sent": media.camera.sent,
            "screen_sent": media.screen.sent,
        }

    def connection_info(self) -> dict[str, Any]:
        """The peer connection's state and the types of its local ICE candidates (diagnostics)."""
        pc = self._call.pc if self._call is not None else None
        if pc is None or pc.sctp is None:
            return {"state": "none", "local_candidate_types": []}
        gatherer = pc.sctp.transport.transport.iceGatherer
        return {
            "state": pc.connectionState,
            "local_candidate_types": sorted({c.type for c in gatherer.getLocalCandidates()}),
        }

    def remote_frame(self) -> Any:
        """The agent's latest video frame (BGR) or None."""
        media = self._call.media if self._call is not None else None
        return media.remote_video() if media is not None else None

    # ------------------------------------------------------------------ the citizen's commands

    def ask(self) -> None:
        """远程帮办 tapped: ask for consent (the screen announces the recording)."""
        self.help_tapped_at = time.monotonic()
        self.first_media_at = None
        with self._lock:
            if self.machine.state is CallState.ENDED:
                self.machine.go(CallState.IDLE)
        self._set(CallState.CONSENT, reason=None, position=0, expected_wait_s=0.0, agent_name="", call_id="")

    def consent(self, agreed: bool) -> None:
        """The citizen's answer to the consent question; agreeing joins the queue."""
        ctx = self.session.context()
        self._session_id = ctx.session_id
        self.session.audit(
            "assist_consent",
            {"session": ctx.session_id, "agreed": agreed, "recording": True, "text": CONSENT_TEXT_KEY},
        )
        if not agreed:
            self._set(CallState.ENDED, reason=EndReason.DECLINED)
            return
        self._muted = False
        self._set(CallState.QUEUED, audio_only=False)
        from kiosk.assist.call import AssistCall

        call = AssistCall(
            self.base_url, self.terminal_id, self.key, self, self._make_media, self.session.context
        )
        self._call = call
        consent = {"recording": True, "at": time.time(), "text_key": CONSENT_TEXT_KEY}
        self._running = self._submit(self._run(call, ctx.item_id, consent))

    def cancel(self) -> None:
        """Leave the queue (or end the call if it has started)."""
        self._stop(EndReason.CANCELLED if self.machine.state is CallState.QUEUED else EndReason.HANG_UP)

    def hang_up(self) -> None:
        self._stop(EndReason.HANG_UP)

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        call = self._call
        if call is not None and call.media is not None:
            from kiosk.assist.media import MutableAudio

            if isinstance(call.media.audio, MutableAudio):
                call.media.audio.muted = muted
        if call is not None:
            self._submit(call.send({"type": "status", "muted": muted}))
        self._set(self.machine.state)

    def confirm_field(self, proposal_id: int, accepted: bool) -> None:
        """The citizen confirms (or declines) the agent's change of a field."""
        proposal = self.proposals.pop(proposal_id, None)
        if proposal is None:
            return
        applied = accepted and self.session.apply_field(self._session_id, proposal.key, proposal.new_value)
        self.session.audit(
            "assist_field",
            {
                "session": self._session_id,
                "field": proposal.key,
                "accepted": applied,
                "agent": proposal.agent_name,
            },
        )
        call = self._call
        if call is not None:
            result = {"type": "field_result", "key": proposal.key, "accepted": applied}
            self._loop.call_soon_threadsafe(call.send_data, result)
            self._submit(call.send({"type": "field", "key": proposal.key, "accepted": applied}))

    def send_chat(self, text: str) -> None:
        call = self._call
        if call is not None and text.strip():
            self._submit(call.send({"type": "chat", "text": text.strip()[:500]}))
            self._publish(ChatLine("citizen", text.strip()[:500]))

    def wait_idle(self, timeout_s: float = 15.0) -> bool:
        """Wait until the current call, its recording and its upload are done (True if so)."""
        running = self._running
        if running is None:
            return True
        try:
            running.result(timeout_s)
        except Exception:
            return running.done()
        return True

    def close(self) -> None:
        self._stop(EndReason.HANG_UP)
        self.wait_idle()

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self._submit(cancel_all()).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    # ------------------------------------------------------------------ the loop side

    def _submit(self, coro: Any) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _stop(self, reason: EndReason) -> None:
        call = self._call
        if call is not None and self.machine.state in (
            CallState.QUEUED,
            CallState.CONNECTING,
            CallState.IN_CALL,
        ):
            self._submit(call.hang_up(reason))

    def _make_media(self) -> CallMedia:
        from kiosk.assist.call import CallMedia
        from kiosk.assist.media import CallRecorder, CameraTrack, MutableAudio, ScreenTrack, microphone_track

        audio, player = microphone_track()
        audio_track = MutableAudio(audio)
        audio_track.muted = self._muted
        media = CallMedia(CameraTrack(self.camera), ScreenTrack(self.frame_source), audio_track, player)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"assist-{self.terminal_id}-{stamp}-{secrets.token_hex(4)}.avi"
        media.recorder = CallRecorder(self.record_dir / name)
        return media

    async def _run(self, call: AssistCall, item_id: str | None, consent: dict[str, Any]) -> None:
        recorder = asyncio.ensure_future(self._record(call))
        try:
            await call.run(item_id, consent)
        finally:
            recorder.cancel()
        media = call.media
        if (
            media is not None
            and media.recorder is not None
            and media.recorder.frames == 0
            and self.first_media_at
        ):
            media.recorder.add(media.remote_video(), media.camera.latest)  # a short call keeps a picture too
        path = media.recorder.close() if media is not None and media.recorder is not None else None
        if path is not None:
            await self._loop.run_in_executor(None, self._upload, call.call_id, path)

    async def _record(self, call: AssistCall) -> None:
        while True:
            media = call.media
            if media is not None and media.recorder is not None and self.machine.state is CallState.IN_CALL:
                media.recorder.add(media.remote_video(), media.camera.latest)
            await asyncio.sleep(RECORD_PERIOD_S)

    def _upload(self, call_id: str, path: Path) -> None:
        try:
            body = path.read_bytes()
            if self.upload is not None and call_id:
                self.upload(call_id, body)
                self.last_recording = (call_id, len(body))
        except Exception as err:
            log.warning("assist: the call recording could not be uploaded (%s: %s)", type(err).__name__, err)
        finally:
            path.unlink(missing_ok=True)

    # ------------------------------------------------------------------ Handler (loop thread)

    def queued(self, call_id: str, position: int, expected_wait_s: float) -> None:
        self._set(CallState.QUEUED, position=position, expected_wait_s=expected_wait_s, call_id=call_id)

    def accepted(self, agent_id: str, agent_name: str) -> None:
        self.session.audit("assist_accepted", {"session": self._session_id, "agent": agent_id})
        self._set(CallState.CONNECTING, agent_name=agent_name)

    def media_flowing(self) -> None:
        self.first_media_at = time.monotonic()
        self._set(CallState.IN_CALL)

    def field_edit(self, key: str, value: str) -> None:
        labels = {k: (label, v) for k, label, v in self.session.context().fields}
        if key not in labels:
            return
        proposal = FieldProposal(
            self._next_proposal, key, labels[key][0], labels[key][1], value, self.status.agent_name
        )
        self._next_proposal += 1
        self.proposals[proposal.proposal_id] = proposal
        self._publish(proposal)

    def chat(self, text: str) -> None:
        self._publish(ChatLine("agent", text))

    def remote_acceptance(self, message: dict[str, Any]) -> None:
        agent = message.get("agent") or {}
        acceptance = RemoteAcceptance(
            str(message.get("decision", "")),
            str(agent.get("id", "")),
            str(agent.get("name", "")),
            str(message.get("note", ""))[:500],
        )
        self.session.mark_remote_acceptance(self._session_id, acceptance)
        self._publish(acceptance)

    def set_audio_only(self, on: bool) -> None:
        """Send no video (or video again): what the link monitor decides; also for a hall that
        wants audio-only calls."""
        call = self._call
        if call is not None:
            self._loop.call_soon_threadsafe(call.set_audio_only, on)

    def audio_only(self, on: bool) -> None:
        self.session.audit("assist_audio_only", {"session": self._session_id, "on": on})
        self._set(self.machine.state, audio_only=on)

    def pointer(self, x: float, y: float) -> None:
        self._publish(Pointer(x, y))

    def ended(self, reason: EndReason, callback_requested: bool) -> None:
        self.session.audit(
            "assist_ended",
            {"session": self._session_id, "reason": reason.value, "callback_requested": callback_requested},
        )
        self.proposals.clear()
        self._set(CallState.ENDED, reason=reason, callback_requested=callback_requested)
