"""One remote-help call on the terminal's asyncio loop: signalling, the WebRTC peer, the data channel.

The terminal is the offerer: once an agent accepts, it sends an offer carrying its camera, its
screen and its microphone (or silence), and a data channel ``form`` over which the form fields and
material thumbnails go to the console and the agent's field edits come back.  ICE is gathered
whole before the offer leaves (no trickle): the ICE servers and the transport policy (``relay``
for TURN only) come from the platform with the acceptance (configured per hall).

The signalling handshake is signed like the case API (:func:`signed_headers`).  A dropped signalling
socket or a failed peer connection ends the call with ``connection_lost``; the platform tells the
agent.  The session of the citizen is never touched by the end of a call.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import websockets
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.assist.base import Handler
from kiosk.assist.media import CallRecorder, CameraTrack, ScreenTrack, Sink
from kiosk.assist.quality import RTCP_FRACTION_SCALE, LinkMonitor
from kiosk.assist.state import CallContext, EndReason

log = logging.getLogger(__name__)

TERMINAL_WS_PATH = "/api/v1/assist/terminal"


def signed_headers(terminal_id: str, key: Ed25519PrivateKey, path: str = TERMINAL_WS_PATH) -> dict[str, str]:
    """The signed handshake (a GET with an empty body), as the platform checks signed requests."""
    timestamp = f"{time.time():.6f}"
    digest = hashlib.sha256(b"").hexdigest()
    message = f"GET\n{path}\n{timestamp}\n{digest}".encode()
    return {
        "X-Terminal-Id": terminal_id,
        "X-Timestamp": timestamp,
        "X-Content-SHA256": digest,
        "X-Signature": base64.b64encode(key.sign(message)).decode("ascii"),
    }


def ws_url(base_url: str, path: str = TERMINAL_WS_PATH) -> str:
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + path
    return "ws://" + base.removeprefix("http://") + path


def spread_candidates(sdp: str) -> str:
    """The answer with its ICE candidates in every m-section.  A browser's bundled answer lists them
    under the first m-line only, and aiortc keeps the candidates of the last m-section of a shared
    transport: without this it learns the browser's address only from incoming checks (peer
    reflexive), which never come through a TURN relay that has no permission for them."""
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    candidates = [line for line in lines if line.startswith("a=candidate:")]
    if not candidates:
        return sdp
    out: list[str] = []
    section: list[str] = []

    def flush() -> None:
        if section and section[0].startswith("m=") and not any(x.startswith("a=candidate:") for x in section):
            section.extend(candidates)
        out.extend(section)
        section.clear()

    for line in lines:
        if line.startswith("m="):
            flush()
        section.append(line)
    flush()
    return "\r\n".join(out) + "\r\n"


@dataclass
class CallMedia:
    """The tracks of one call and what was received."""

    camera: CameraTrack
    screen: ScreenTrack
    audio: MediaStreamTrack
    player: Any = None
    sinks: list[Sink] = field(default_factory=list)
    recorder: CallRecorder | None = None

    def received(self, kind: str) -> int:
        return sum(s.frames for s in self.sinks if s.kind == kind)

    def remote_video(self) -> Any:
        for sink in self.sinks:
            if sink.kind == "video":
                return sink.latest_frame()
        return None

    def stop(self) -> None:
        for sink in self.sinks:
            sink.stop()
        for track in (self.camera, self.screen, self.audio):
            track.stop()
        if self.player is not None:
            with contextlib.suppress(Exception):
                self.player.audio.stop()


class AssistCall:
    """Runs one call from join to end (:meth:`run`); the commands are called on the loop thread."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        key: Ed25519PrivateKey,
        handler: Handler,
        make_media: Callable[[], CallMedia],
        context: Callable[[], CallContext],
    ) -> None:
        self.base_url = base_url
        self.terminal_id = terminal_id
        self.key = key
        self.handler = handler
        self.make_media = make_media
        self.context = context
        self.call_id = ""
        self.ws: Any = None
        self.pc: RTCPeerConnection | None = None
        self.channel: Any = None
        self.media: CallMedia | None = None
        self.reason: EndReason | None = None
        self._callback = False
        self._media_told = False
        self.monitor = LinkMonitor()
        self.audio_only = False
        self._watch: asyncio.Task[None] | None = None

    async def send(self, message: dict[str, Any]) -> None:
        if self.ws is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.ws.send(json.dumps(message, ensure_ascii=False))

    def send_data(self, message: dict[str, Any]) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(json.dumps(message, ensure_ascii=False))

    async def run(self, item_id: str | None, consent: dict[str, Any]) -> EndReason:
        """Join, wait, call; returns why it ended (the handler has been told)."""
        try:
            async with websockets.connect(
                ws_url(self.base_url),
                additional_headers=signed_headers(self.terminal_id, self.key),
                open_timeout=10,
                ping_interval=5,
                ping_timeout=10,
                max_size=2**20,
            ) as ws:
                self.ws = ws
                await self.send({"type": "join", "item_id": item_id, "consent": consent})
                async for raw in ws:
                    await self._on_message(json.loads(raw))
                    if self.reason is not None:
                        break
                if self.reason is None:
                    self.reason = EndReason.CONNECTION_LOST
        except (OSError, websockets.InvalidHandshake, websockets.InvalidURI, TimeoutError) as err:
            log.warning("assist: signalling unavailable (%s)", type(err).__name__)
            self.reason = self.reason or EndReason.UNAVAILABLE
        except websockets.ConnectionClosed:
            self.reason = self.reason or EndReason.CONNECTION_LOST
        finally:
            self.ws = None
            await self._close_peer()
        reason = self.reason or EndReason.CONNECTION_LOST
        self.handler.ended(reason, self._callback)
        return reason

    async def hang_up(self, reason: EndReason) -> None:
        """The citizen cancels or hangs up (or the peer failed): tell the platform and stop."""
        if self.reason is None:
            self.reason = reason
        await self.send(
            {"type": "cancel" if reason is EndReason.CANCELLED else "end", "reason": reason.value}
        )
        if self.ws is not None:
            await self.ws.close()

    async def _on_message(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "queue":
            self.call_id = str(msg.get("call_id", ""))
            self.handler.queued(
                self.call_id, int(msg.get("position", 0)), float(msg.get("expected_wait_s", 0))
            )
        elif kind == "accepted":
            agent = msg.get("agent") or {}
            self.handler.accepted(str(agent.get("id", "")), str(agent.get("name", "")))
            await self._offer(msg.get("ice_servers") or [], str(msg.get("ice_transport_policy", "all")))
        elif kind == "answer" and self.pc is not None:
            answer = spread_candidates(str(msg["sdp"]))
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        elif kind == "chat":
            self.handler.chat(str(msg.get("text", ""))[:500])
        elif kind == "remote_acceptance":
            self.handler.remote_acceptance(msg)
        elif kind == "ended":
            reasons = {"no_agent": EndReason.NO_AGENT, "connection_lost": EndReason.CONNECTION_LOST}
            by_agent = str(msg.get("by", "")).startswith("agent:")
            default = EndReason.AGENT_ENDED if by_agent else EndReason.HANG_UP
            self.reason = self.reason or reasons.get(str(msg.get("reason")), default)
            self._callback = bool(msg.get("callback_requested"))
        elif kind == "error":
            log.warning("assist: platform says %s", str(msg.get("detail", ""))[:200])

    async def _offer(self, ice_servers: list[dict[str, Any]], policy: str) -> None:
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in ice_servers
            if isinstance(s, dict) and s.get("urls")
        ]
        # one transport for every track (no per-track candidates to gather, and no TURN allocations to
        # tear down when the answer bundles them)
        config = RTCConfiguration(
            iceServers=servers or None,
            iceTransportPolicy=RTCIceTransportPolicy.RELAY
            if policy == "relay"
            else RTCIceTransportPolicy.ALL,
            bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
        )
        pc = RTCPeerConnection(configuration=config)
        self.pc = pc
        media = self.make_media()
        self.media = media
        pc.addTrack(media.camera)
        pc.addTrack(media.screen)
        pc.addTrack(media.audio)
        self.channel = pc.createDataChannel("form")
        self.channel.on("open", self._send_context)
        self.channel.on("message", self._on_data)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            # the call is on once the agent's picture arrives (audio alone does not count)
            media.sinks.append(Sink(track, on_first=self._first_media if track.kind == "video" else None))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState == "failed" and self.reason is None:
                log.warning("assist: the peer connection failed")
                await self.hang_up(EndReason.CONNECTION_LOST)

        await pc.setLocalDescription(await pc.createOffer())
        await self.send({"type": "offer", "sdp": pc.localDescription.sdp})
        self._watch = asyncio.ensure_future(self._watch_link())

    async def _watch_link(self, period_s: float = 2.0) -> None:
        """Audio only while the agent's receiver reports say the link is poor."""
        while self.pc is not None:
            await asyncio.sleep(period_s)
            pc, media = self.pc, self.media
            if pc is None or media is None:
                return
            # the audio's reports: audio flows in both states, so the link's recovery shows there too
            sender = next((t.sender for t in pc.getTransceivers() if t.kind == "audio"), None)
            if sender is None:
                continue
            report = await sender.getStats()
            remote = [r for r in report.values() if getattr(r, "type", "") == "remote-inbound-rtp"]
            if remote:
                lost = float(remote[0].fractionLost) / RTCP_FRACTION_SCALE
                change = self.monitor.sample(lost, remote[0].roundTripTime)
                if change is not None:
                    self.set_audio_only(change)

    def set_audio_only(self, on: bool) -> None:
        """Stop (or resume) sending the camera and the screen; audio and the data channel go on."""
        if self.pc is None or self.media is None or on == self.audio_only:
            return
        self.audio_only = on
        videos = [t for t in self.pc.getTransceivers() if t.kind == "video"]
        for transceiver, track in zip(videos, (self.media.camera, self.media.screen), strict=False):
            transceiver.sender.replaceTrack(None if on else track)
        self.send_data({"type": "audio_only", "on": on})
        self.handler.audio_only(on)

    def _first_media(self) -> None:
        if not self._media_told:
            self._media_told = True
            self.handler.media_flowing()

    def _send_context(self) -> None:
        ctx = self.context()
        self.send_data(
            {
                "type": "form",
                "item_id": ctx.item_id,
                "fields": [{"key": k, "label": label, "value": v} for k, label, v in ctx.fields],
            }
        )
        pages = [{"name": n, "jpeg_b64": base64.b64encode(jpeg).decode("ascii")} for n, jpeg in ctx.pages]
        self.send_data({"type": "materials", "pages": pages})

    def _on_data(self, raw: Any) -> None:
        try:
            msg = json.loads(raw)
        except (TypeError, ValueError):
            return
        if msg.get("type") == "field_edit":
            self.handler.field_edit(str(msg.get("key", ""))[:64], str(msg.get("value", ""))[:500])
        elif msg.get("type") == "pointer":
            try:
                x, y = float(msg["x"]), float(msg["y"])
            except (KeyError, TypeError, ValueError):
                return
            if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0:
                self.handler.pointer(x, y)

    async def _close_peer(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        if self.media is not None:
            self.media.stop()
        if self.pc is not None:
            with contextlib.suppress(Exception):
                await self.pc.close()
        self.pc = None
