"""Remote video help (远程帮办, the cloud window 云综窗): the call queue and the WebRTC signalling.

Two WebSockets (messages are JSON objects with a ``type``; docs/remote-help.md, the contract in
docs/platform-api/openapi.json):

* ``/api/v1/assist/terminal``: a terminal, authenticated like the case API: the handshake (a GET)
  carries ``X-Terminal-Id``, ``X-Timestamp``, ``X-Content-SHA256`` (of the empty body) and
  ``X-Signature`` with the terminal's enrolled Ed25519 key; a revoked, unknown, stale or replayed
  signature is refused (HTTP 403) before the upgrade.
* ``/assist/agent/ws?token=...``: the agent console (``/assist/console``, static HTML+JS) of a
  back-office agent (accounts: ``POST /_sandbox/assist/agents``).

The platform keeps the queue (place, expected wait, the hall's wait limit: no agent in time → a
call-back request is recorded and the terminal told), relays SDP offer/answer, ICE candidates,
chat, remote acceptance (with the agent's identity added by the platform, never taken from the
console) and the end of the call, and records every call (``sandbox_platform/assist_store.py``).
A side whose socket drops ends the call: the other side is told (``ended``, reason
``connection_lost``).  Recordings are uploaded over signed HTTP (``POST
/api/v1/assist/calls/{call_id}/recordings``) and kept encrypted with a retention limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from sandbox_platform.assist_store import MAX_RECORDING_BYTES, AssistStore
from sandbox_platform.auth import API, SIGNATURE_MAX_SKEW_S, ReplayCache, signed_message
from sandbox_platform.db import PlatformDB

log = logging.getLogger(__name__)

TERMINAL_WS = f"{API}/assist/terminal"
AGENT_WS = "/assist/agent/ws"
CONSOLE_DIR = Path(__file__).with_name("assist_console")
#: Closing before accepting refuses the upgrade (HTTP 403); the code is kept for the agent socket.
CLOSE_UNAUTHORIZED = 4401
#: Messages relayed between the two sides of an accepted call, as they are.
_RELAYED = {"offer", "answer", "ice", "chat", "field", "status", "pointer"}
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AssistConfig(BaseModel):
    """The hall's settings for remote help (per platform in the sandbox)."""

    wait_limit_s: float = Field(default=120.0, gt=0, le=3600)
    ice_servers: list[dict[str, Any]] = Field(
        default_factory=list,
        description="RTCIceServer objects (urls, username, credential): STUN/TURN of the hall",
    )
    ice_transport_policy: str = Field(default="all", pattern="^(all|relay)$")
    retention_days: float = Field(default=30.0, gt=0, le=3650)


class AgentRequest(BaseModel):
    agent_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=64)


class AgentToken(BaseModel):
    agent_id: str
    token: str
    console_url: str


class RecordingReceipt(BaseModel):
    recording_id: str
    call_id: str
    name: str
    media_type: str
    sha256: str
    size: int
    created: float
    retention_days: float


class _Peer:
    """One WebSocket with a send lock (the reader and the queue ticker both send)."""

    def __init__(self, ws: WebSocket, who: str) -> None:
        self.ws = ws
        self.who = who
        self._lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> bool:
        async with self._lock:
            try:
                await self.ws.send_text(json.dumps(message, ensure_ascii=False))
                return True
            except (WebSocketDisconnect, RuntimeError, OSError):
                return False


@dataclass
class _Call:
    call_id: str
    terminal_id: str
    item_id: str | None
    terminal: _Peer
    created: float = field(default_factory=time.monotonic)
    agent: _Peer | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    ended: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class AssistHub:
    """The live queue and calls (on the server's event loop) over the :class:`AssistStore`."""

    def __init__(self, store: AssistStore, db: PlatformDB) -> None:
        self.store = store
        self.db = db
        self.config = AssistConfig(retention_days=store.retention_days)
        self.replays = ReplayCache()
        self.calls: dict[str, _Call] = {}
        self.agents: dict[_Peer, tuple[str, str]] = {}
        self._handled_s: list[float] = []

    # ------------------------------------------------------------------ queue

    def waiting(self) -> list[_Call]:
        return sorted(
            (c for c in self.calls.values() if c.agent is None and not c.ended), key=lambda c: c.created
        )

    def expected_wait_s(self, position: int) -> float:
        """Place × the mean wait of the last accepted calls (30 s per place before any)."""
        per_place = sum(self._handled_s[-20:]) / len(self._handled_s[-20:]) if self._handled_s else 30.0
        return round(max(1.0, position * per_place), 1)

    def queue_view(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "type": "calls",
            "waiting": [
                {
                    "call_id": c.call_id,
                    "terminal_id": c.terminal_id,
                    "item_id": c.item_id,
                    "position": i + 1,
                    "waited_s": round(now - c.created, 1),
                }
                for i, c in enumerate(self.waiting())
            ],
            "agents_online": len(self.agents),
            "callbacks": self.store.callbacks(),
        }

    async def broadcast_queue(self) -> None:
        view = self.queue_view()
        for peer in list(self.agents):
            await peer.send(view)

    # ------------------------------------------------------------------ ending

    async def end(self, call: _Call, who: str, reason: str, *, callback: bool = False) -> None:
        if call.ended:
            return
        call.ended = True
        self.calls.pop(call.call_id, None)
        self.store.end(call.call_id, who, reason, callback=callback)
        message: dict[str, Any] = {"type": "ended", "call_id": call.call_id, "reason": reason, "by": who}
        if callback:
            message["callback_requested"] = True
        for peer in (call.terminal, call.agent):
            if peer is not None:
                await peer.send(message)
        call.done.set()
        await self.broadcast_queue()

    # ------------------------------------------------------------------ terminal side

    def authenticate(self, ws: WebSocket) -> str | None:
        """The terminal whose signed handshake this is, or None."""
        h = {k.lower(): v for k, v in ws.headers.items()}
        terminal_id = h.get("x-terminal-id", "")
        known = self.db.terminal_key(terminal_id) if terminal_id else None
        if known is None or known[1] or known[0] is None:
            return None
        timestamp = h.get("x-timestamp", "")
        try:
            when = float(timestamp)
        except ValueError:
            return None
        now = time.time()
        if not math.isfinite(when) or abs(now - when) > SIGNATURE_MAX_SKEW_S:
            return None
        if h.get("x-content-sha256", "").lower() != _EMPTY_SHA256:
            return None
        path = ws.scope.get("raw_path") or ws.url.path.encode()
        path_s = path.decode("latin-1") if isinstance(path, bytes) else str(path)
        query = ws.scope.get("query_string", b"")
        if query:
            path_s += "?" + query.decode("latin-1")
        try:
            signature = base64.b64decode(h.get("x-signature", ""), validate=True)
            Ed25519PublicKey.from_public_bytes(base64.b64decode(known[0])).verify(
                signature, signed_message("GET", path_s, timestamp, _EMPTY_SHA256)
            )
        except (binascii.Error, ValueError, InvalidSignature):
            return None
        if not self.replays.first_time(signature, now):
            return None
        return terminal_id

    async def serve_terminal(self, ws: WebSocket) -> None:
        terminal_id = self.authenticate(ws)
        if terminal_id is None:
            await ws.close(code=CLOSE_UNAUTHORIZED, reason="unsigned, unknown or replayed terminal handshake")
            return
        await ws.accept()
        peer = _Peer(ws, f"terminal:{terminal_id}")
        try:
            join = json.loads(await ws.receive_text())
        except (WebSocketDisconnect, ValueError):
            return
        consent = join.get("consent") if isinstance(join, dict) else None
        if (
            join.get("type") != "join"
            or not isinstance(consent, dict)
            or consent.get("recording") is not True
        ):
            await peer.send(
                {"type": "error", "detail": "a join needs the citizen's consent to the recorded call"}
            )
            await ws.close(code=4400)
            return
        item = join.get("item_id")
        call = _Call(secrets.token_hex(8), terminal_id, str(item)[:128] if item else None, peer)
        self.store.open_call(call.call_id, terminal_id, call.item_id, consent)
        self.calls[call.call_id] = call
        ticker = asyncio.create_task(self._tick(call))
        try:
            await self._queued(call)
            await self.broadcast_queue()
            while not call.ended:
                message = json.loads(await ws.receive_text())
                await self._from_terminal(call, message)
        except WebSocketDisconnect:
            await self.end(call, peer.who, "connection_lost" if call.agent else "cancelled")
        except ValueError:
            await self.end(call, "platform", "protocol_error")
        finally:
            ticker.cancel()
            if not call.ended:
                await self.end(call, peer.who, "connection_lost")
            with contextlib.suppress(RuntimeError):
                await ws.close()

    async def _queued(self, call: _Call) -> None:
        position = next((i + 1 for i, c in enumerate(self.waiting()) if c is call), 0)
        await call.terminal.send(
            {
                "type": "queue",
                "call_id": call.call_id,
                "position": position,
                "expected_wait_s": self.expected_wait_s(position),
                "waited_s": round(time.monotonic() - call.created, 1),
                "wait_limit_s": self.config.wait_limit_s,
                "agents_online": len(self.agents),
            }
        )

    async def _tick(self, call: _Call) -> None:
        """Queue place every second while waiting; the hall's limit passed → call-back request."""
        while call.agent is None and not call.ended:
            await asyncio.sleep(1.0)
            if call.agent is not None or call.ended:
                return
            if time.monotonic() - call.created >= self.config.wait_limit_s:
                await self.end(call, "platform", "no_agent", callback=True)
                return
            await self._queued(call)
            await self.broadcast_queue()

    async def _from_terminal(self, call: _Call, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("cancel", "end"):
            reason = "cancelled" if call.agent is None else str(message.get("reason") or "hang_up")
            await self.end(call, call.terminal.who, reason[:64])
        elif kind in _RELAYED and call.agent is not None:
            if kind == "chat":
                self.store.event(
                    call.call_id, call.terminal.who, "chat", {"text": str(message.get("text", ""))[:500]}
                )
            if kind in ("field", "status"):
                self.store.event(call.call_id, call.terminal.who, str(kind), _short(message))
            await call.agent.send({**message, "call_id": call.call_id})

    # ------------------------------------------------------------------ agent side

    async def serve_agent(self, ws: WebSocket) -> None:
        identity = self.store.agent_for_token(ws.query_params.get("token", ""))
        if identity is None:
            await ws.close(code=CLOSE_UNAUTHORIZED, reason="unknown agent token")
            return
        await ws.accept()
        peer = _Peer(ws, f"agent:{identity[0]}")
        self.agents[peer] = identity
        current: _Call | None = None
        try:
            await peer.send({"type": "hello", "agent": {"id": identity[0], "name": identity[1]}})
            await peer.send(self.queue_view())
            while True:
                message = json.loads(await ws.receive_text())
                kind = message.get("type")
                if kind == "accept":
                    if current is not None and not current.ended:
                        await peer.send({"type": "error", "detail": "end the current call first"})
                        continue
                    current = await self._accept(peer, identity, str(message.get("call_id", "")))
                elif current is None or current.ended:
                    current = None
                elif kind == "end":
                    await self.end(current, peer.who, str(message.get("reason") or "hang_up")[:64])
                elif kind == "remote_acceptance":
                    await self._remote_acceptance(current, peer, identity, message)
                elif kind in _RELAYED:
                    if kind in ("chat", "field"):
                        self.store.event(current.call_id, peer.who, str(kind), _short(message))
                    await current.terminal.send({**message, "call_id": current.call_id})
        except (WebSocketDisconnect, ValueError):
            pass
        finally:
            self.agents.pop(peer, None)
            if current is not None and not current.ended:
                await self.end(current, peer.who, "connection_lost")
            await self.broadcast_queue()

    async def _accept(self, peer: _Peer, identity: tuple[str, str], call_id: str) -> _Call | None:
        call = self.calls.get(call_id)
        if call is None or call.agent is not None or call.ended:
            await peer.send({"type": "error", "detail": "this call is no longer waiting", "call_id": call_id})
            return None
        call.agent, call.agent_id, call.agent_name = peer, identity[0], identity[1]
        self._handled_s.append(time.monotonic() - call.created)
        self.store.accept(call.call_id, identity[0], identity[1])
        ice = {
            "ice_servers": self.config.ice_servers,
            "ice_transport_policy": self.config.ice_transport_policy,
        }
        await peer.send(
            {
                "type": "accepted",
                "call_id": call_id,
                "terminal_id": call.terminal_id,
                "item_id": call.item_id,
                **ice,
            }
        )
        await call.terminal.send(
            {"type": "accepted", "call_id": call_id, "agent": {"id": identity[0], "name": identity[1]}, **ice}
        )
        await self.broadcast_queue()
        return call

    async def _remote_acceptance(
        self, call: _Call, peer: _Peer, identity: tuple[str, str], message: dict[str, Any]
    ) -> None:
        decision = str(message.get("decision", ""))
        if decision not in ("accept", "refuse", "manual_review"):
            await peer.send({"type": "error", "detail": "decision must be accept, refuse or manual_review"})
            return
        detail = {"decision": decision, "note": str(message.get("note", ""))[:500]}
        self.store.event(call.call_id, peer.who, "remote_acceptance", detail)
        await call.terminal.send(
            {
                "type": "remote_acceptance",
                "call_id": call.call_id,
                **detail,
                "agent": {"id": identity[0], "name": identity[1]},
                "at": time.time(),
            }
        )


def _short(message: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v[:500] if isinstance(v, str) else v) for k, v in message.items() if k not in ("type", "call_id")
    }


def install_assist(
    app: Any, data_dir: Path, db: PlatformDB, calling_terminal: Callable[..., str]
) -> AssistHub:
    """Create the hub on ``app.state.assist`` and include its routes (the one line in app.py)."""
    hub = AssistHub(AssistStore(data_dir), db)
    app.state.assist = hub
    app.include_router(assist_router(hub, calling_terminal))
    return hub


def assist_router(hub: AssistHub, calling_terminal: Callable[..., str]) -> APIRouter:
    """The WebSockets, the console, the recording upload and the sandbox hooks."""
    router = APIRouter()
    Caller = Depends(calling_terminal)

    @router.websocket(TERMINAL_WS)
    async def terminal_ws(ws: WebSocket) -> None:
        await hub.serve_terminal(ws)

    @router.websocket(AGENT_WS)
    async def agent_ws(ws: WebSocket) -> None:
        await hub.serve_agent(ws)

    @router.get("/assist/console", include_in_schema=False)
    def console() -> FileResponse:
        return FileResponse(CONSOLE_DIR / "console.html", media_type="text/html")

    @router.get("/assist/console.js", include_in_schema=False)
    def console_js() -> FileResponse:
        return FileResponse(CONSOLE_DIR / "console.js", media_type="text/javascript")

    @router.post(
        f"{API}/assist/calls/{{call_id}}/recordings",
        response_model=RecordingReceipt,
        status_code=status.HTTP_201_CREATED,
        tags=["assist"],
    )
    async def upload_recording(call_id: str, request: Request, caller: str = Caller) -> RecordingReceipt:
        if hub.store.terminal_of(call_id) != caller:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such call of this terminal")
        body = await request.body()
        if not body or len(body) > MAX_RECORDING_BYTES:
            raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "empty or oversized recording")
        name = request.headers.get("x-recording-name", "call.webm")[:128]
        media_type = request.headers.get("content-type", "application/octet-stream")[:128]
        return RecordingReceipt(**hub.store.store_recording(call_id, name, media_type, body))

    @router.get("/_sandbox/assist/calls", tags=["sandbox"])
    def calls() -> list[dict[str, Any]]:
        return hub.store.calls()

    @router.get("/_sandbox/assist/calls/{call_id}", tags=["sandbox"])
    def call(call_id: str) -> dict[str, Any]:
        record = hub.store.call(call_id)
        if record is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such call")
        return record

    @router.post("/_sandbox/assist/agents", response_model=AgentToken, tags=["sandbox"])
    def add_agent(req: AgentRequest) -> AgentToken:
        token = hub.store.add_agent(req.agent_id, req.name)
        return AgentToken(agent_id=req.agent_id, token=token, console_url=f"/assist/console?token={token}")

    @router.get("/_sandbox/assist/config", response_model=AssistConfig, tags=["sandbox"])
    def get_config() -> AssistConfig:
        return hub.config

    @router.post("/_sandbox/assist/config", response_model=AssistConfig, tags=["sandbox"])
    def set_config(cfg: AssistConfig) -> AssistConfig:
        hub.config = cfg
        hub.store.retention_days = cfg.retention_days
        return cfg

    @router.post("/_sandbox/assist/purge", tags=["sandbox"])
    def purge(now: float | None = None) -> dict[str, int]:
        return {"deleted": hub.store.purge(now)}

    return router
