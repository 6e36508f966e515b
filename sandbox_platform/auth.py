"""Who is calling: the platform authenticates every ``/api/v1`` request before it reads the body.

A pure ASGI middleware, in front of the routes:

1. A ``Content-Length`` over :data:`MAX_REQUEST_BYTES` is answered 413 at once, unread.
2. A signed request (``X-Terminal-Id``, ``X-Timestamp``, ``X-Signature``, ``X-Content-SHA256``)
   is verified from its headers alone: a known, unrevoked terminal with an enrolled key; a finite
   timestamp within :data:`SIGNATURE_MAX_SKEW_S` of the platform's clock; a signature over method,
   path with query, timestamp and the announced body digest; never seen before (a replayed
   signature is refused for as long as its timestamp is acceptable).  Only then is the body read,
   at most :data:`MAX_REQUEST_BYTES`, and checked against the announced digest.
3. A bearer token is looked up (no body needed); a terminal enrolled with a key must sign.
4. Anything else is refused with 401, except enrolment, which answers for itself (it needs a
   one-time code, or a request signed with the enrolled key).

The calling terminal is put in ``scope["state"]["terminal"]``; :func:`calling_terminal` is the
routes' dependency.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Annotated, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sandbox_platform.db import PlatformDB, open_sqlite

API = "/api/v1"
ENROL_PATH = f"{API}/terminals/enrol"
#: How far a signed request's X-Timestamp may be from the platform's clock.
SIGNATURE_MAX_SKEW_S = 300.0
#: Largest request body the platform reads (a 4 MiB upload chunk or a case with its sealed payload).
MAX_REQUEST_BYTES = 8 * 1024 * 1024
DIGEST_HEADER = "x-content-sha256"
_REPLAY_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS replays (signature_sha256 TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def signed_message(method: str, path: str, timestamp: str, body_sha256: str) -> bytes:
    """What X-Signature covers: method, path (with query), timestamp and the body's SHA-256 (hex)."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{body_sha256.lower()}".encode()


class _Refused(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class ReplayCache:
    """Signatures seen within the acceptance window (a replayed request is refused).

    With ``path`` (the platform's SQLite file) the cache is a table there, so a replay is refused
    after a platform restart too; without, it lives in memory (tests of the middleware alone).  The
    table is written without an fsync per request (``synchronous = NORMAL`` in WAL mode: a commit
    survives the platform process dying, not the machine losing power; the sandbox is a test and
    demo server): one fsync per signed request was most of the sandbox's time per request."""

    def __init__(self, path: Path | None = None, window_s: float = 2 * SIGNATURE_MAX_SKEW_S) -> None:
        self.window_s = window_s
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()
        self._conn = None if path is None else open_sqlite(Path(path), _REPLAY_SCHEMA)
        if self._conn is not None:
            self._conn.execute("PRAGMA synchronous = NORMAL")
        self._inserts = 0

    def first_time(self, signature: bytes, now: float) -> bool:
        with self._lock:
            if self._conn is not None:
                return self._first_time_stored(hashlib.sha256(signature).hexdigest(), now)
            if len(self._seen) > 10_000:
                self._seen = {s: t for s, t in self._seen.items() if t > now - self.window_s}
            if signature in self._seen:
                return False
            self._seen[signature] = now
            return True

    def _first_time_stored(self, digest: str, now: float) -> bool:
        assert self._conn is not None
        self._inserts += 1
        if self._inserts % 1000 == 0:  # older signatures are refused by the time check anyway
            self._conn.execute("DELETE FROM replays WHERE seen_at < ?", (now - self.window_s,))
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO replays (signature_sha256, seen_at) VALUES (?, ?)", (digest, now)
        )
        return cur.rowcount == 1

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class Authenticator:
    """The middleware; ``db`` knows the terminals, their keys and tokens."""

    def __init__(self, app: ASGIApp, db: PlatformDB, replays: ReplayCache | None = None) -> None:
        self.app = app
        self.db = db
        self.replays = replays or ReplayCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(API + "/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        try:
            length = headers.get("content-length")
            if length is not None and (not length.strip().isdigit() or int(length) > MAX_REQUEST_BYTES):
                raise _Refused(413, f"request bodies are at most {MAX_REQUEST_BYTES} bytes")
            terminal, digest = self._authenticate(scope, headers, path)
        except _Refused as refused:
            await _problem(send, refused.code, refused.detail)
            return
        try:
            body = await _read_body(receive)
        except _Refused as refused:
            await _problem(send, refused.code, refused.detail)
            return
        if body is None:
            return  # the client went away mid-body: nothing reaches the routes
        if digest is not None and hashlib.sha256(body).hexdigest() != digest:
            await _problem(send, 401, "the body does not match the signed X-Content-SHA256")
            return
        scope.setdefault("state", {})["terminal"] = terminal
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _authenticate(
        self, scope: Scope, headers: dict[str, str], path: str
    ) -> tuple[str | None, str | None]:
        """(calling terminal or None, announced body digest or None); raises _Refused."""
        enrolling = path == ENROL_PATH and scope.get("method") == "POST"
        if "x-terminal-id" in headers:
            try:
                return self._signed(scope, headers)
            except _Refused:
                if enrolling:  # a first enrolment is signed with a key the platform does not know yet
                    return None, None
                raise
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            terminal = self.db.terminal_for_token(auth[7:].strip())
            if terminal is None:
                if enrolling:
                    return None, None
                raise _Refused(401, "missing or unknown bearer token")
            known = self.db.terminal_key(terminal)
            if known is not None and known[0] is not None:
                raise _Refused(401, "this terminal must sign its requests")
            return terminal, None
        if enrolling:
            return None, None
        raise _Refused(401, "missing or unknown bearer token")

    def _signed(self, scope: Scope, headers: dict[str, str]) -> tuple[str, str]:
        terminal_id = headers["x-terminal-id"]
        known = self.db.terminal_key(terminal_id)
        if known is None or known[1]:
            raise _Refused(401, "unknown or revoked terminal")
        public_key, _ = known
        if public_key is None:
            raise _Refused(401, "terminal enrolled without a public key")
        timestamp = headers.get("x-timestamp", "")
        try:
            when = float(timestamp)
        except ValueError as err:
            raise _Refused(401, "bad X-Timestamp") from err
        now = time.time()
        if not math.isfinite(when):
            raise _Refused(401, "bad X-Timestamp (not a finite number)")
        if abs(now - when) > SIGNATURE_MAX_SKEW_S:
            raise _Refused(
                401,
                f"X-Timestamp too far from the platform's clock ({when - now:+.0f} s; "
                f"at most {SIGNATURE_MAX_SKEW_S:.0f} s)",
            )
        digest = headers.get(DIGEST_HEADER, "").lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise _Refused(401, "signed requests must announce X-Content-SHA256 of the body")
        raw_path = scope.get("raw_path") or str(scope.get("path", "")).encode()
        path = raw_path.decode("latin-1")
        query = scope.get("query_string", b"")
        if query:
            path += "?" + query.decode("latin-1")
        message = signed_message(str(scope.get("method", "")), path, timestamp, digest)
        try:
            signature = base64.b64decode(headers.get("x-signature", ""), validate=True)
            Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(signature, message)
        except (binascii.Error, ValueError, InvalidSignature) as err:
            raise _Refused(401, "bad request signature") from err
        if not self.replays.first_time(signature, now):
            raise _Refused(401, "replayed request (this signature was already used)")
        return terminal_id, digest


async def _read_body(receive: Receive) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise _Refused(413, f"request bodies are at most {MAX_REQUEST_BYTES} bytes")
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


async def _problem(send: Send, code: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if code == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_bearer = HTTPBearer(auto_error=False)


def calling_terminal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
) -> str:
    """The routes' dependency: the terminal the middleware authenticated (401 if none).  The bearer
    scheme is declared so the served OpenAPI document names it; the middleware did the checking."""
    terminal = getattr(request.state, "terminal", None)
    if not isinstance(terminal, str):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or unknown bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return terminal


def idempotency_key(value: str | None) -> str:
    """The ``Idempotency-Key`` header of a state-changing request, as a canonical UUID
    (400 when it is missing or not a UUID)."""
    if not value:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Idempotency-Key header is required")
    try:
        return str(uuid.UUID(value))
    except ValueError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Idempotency-Key must be a UUID") from err


def answer_replayed(response: Response) -> None:
    """The answer is the one remembered for this key: 200 (not 201) and ``Idempotent-Replayed``."""
    response.status_code = status.HTTP_200_OK
    response.headers["Idempotent-Replayed"] = "true"


# --------------------------------------------------------------------------- signed answers

NONCE_HEADER = "x-request-nonce"
ANSWER_SIGNATURE_HEADER = b"x-platform-signature"
ANSWER_KEY_ID_HEADER = b"x-platform-key-id"


def answer_message(method: str, path: str, nonce: str, status_code: int, body_sha256: str) -> bytes:
    """What X-Platform-Signature covers: the request it answers (method, path with query, the
    terminal's nonce), the status and the body's SHA-256."""
    return f"platform-answer/v1\n{method.upper()}\n{path}\n{nonce}\n{status_code}\n{body_sha256}".encode()


class AnswerSigner:
    """Signs every ``/api/v1`` answer to a request that carries ``X-Request-Nonce`` with the
    platform's answer key (announced at enrolment, pinned by the terminal)."""

    def __init__(self, app: ASGIApp, key: Ed25519PrivateKey, key_id: str) -> None:
        self.app = app
        self.key = key
        self.key_id = key_id.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        nonce = None
        if scope["type"] == "http" and path.startswith(API + "/"):
            for name, value in scope.get("headers", []):
                if name.lower() == NONCE_HEADER.encode():
                    nonce = value.decode("latin-1")
        if nonce is None or not 16 <= len(nonce) <= 128:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        parts: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False) or start is None:
                return
            body = b"".join(parts)
            raw_path = (scope.get("raw_path") or path.encode()).decode("latin-1")
            query = scope.get("query_string", b"")
            if query:
                raw_path += "?" + query.decode("latin-1")
            signed = answer_message(
                str(scope.get("method", "")),
                raw_path,
                nonce,
                int(start["status"]),
                hashlib.sha256(body).hexdigest(),
            )
            signature = base64.b64encode(self.key.sign(signed))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers += [
                (b"content-length", str(len(body)).encode()),
                (ANSWER_SIGNATURE_HEADER, signature),
                (ANSWER_KEY_ID_HEADER, self.key_id),
            ]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, collect)


def load_answer_key(path: Path) -> Ed25519PrivateKey:
    """The platform's answer-signing key (created on first use, 0600)."""
    if path.exists():
        return Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes_raw())
    return key


def public_b64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")
