"""The platform client's HTTP layer: one request, bounded and checked, and its typed errors.

What the terminal accepts from whoever answers in the platform's name (docs/security.md,
"Platform client"):

* **No redirects.**  A 3xx answer is a failure (:class:`PlatformUnavailable`), never followed: a
  307 to another host would otherwise re-send a signed case body there and take that host's reply
  for the platform's acknowledgement; https → http is never taken either.
* **One deadline per request** (``timeout``), for connecting, sending, the headers and the whole
  body together: a watchdog shuts the socket down when it passes, so a reply dripping one byte
  every few seconds fails at the deadline instead of hanging for as long as each read is quick
  enough.
* **A size cap**: the body is streamed and the request fails as soon as it passes
  ``max_body_bytes`` (announced Content-Length or bytes read), without reading the rest.
* **JSON depth**: JSON replies nested deeper than ``max_json_depth`` are refused before parsing.
* **Retry-After capped** at ``max_retry_after_s`` (``inf``, huge numbers and year-9999 dates give
  the cap), so a refusing platform delays a case but never parks it forever.
* **Signed answers**: each request carries a random ``X-Request-Nonce``; once the platform's
  answer key is pinned (:attr:`Transport.answer_key`), a 2xx ``/api/v1`` answer without a valid
  ``X-Platform-Signature`` over method, path, nonce, status and body digest is a
  :class:`PlatformIntegrityError`: a forged or replayed answer is never acted on.
* **Clock skew** from the platform's ``Date`` header is kept in :attr:`Transport.clock_skew_s`
  (platform minus terminal, seconds); a refused request keeps the platform's reason
  (``Problem.detail``) on the error.

Every failure is one of the typed errors below, so callers decide by type:

* :class:`PlatformUnavailable`: try again later (no connection, deadline, broken or oversized
  answer, an answer that does not match the contract, a redirect, 5xx, 408, 429).  Carries
  ``retry_after`` (seconds, capped) when the platform said so.
* :class:`PlatformRejected`: the platform refused this request (4xx other than 409/429);
  :class:`PlatformUnauthorized` (401/403) is a subclass: the terminal's credentials are the problem.
* :class:`PlatformConflict`: 409.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import heapq
import itertools
import json
import logging
import math
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
import urllib3.connection
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

log = logging.getLogger(__name__)

API = "/api/v1"
SHA256_HEADER = "X-Content-SHA256"
NONCE_HEADER = "X-Request-Nonce"
ANSWER_SIGNATURE_HEADER = "X-Platform-Signature"
_MAX_BODY_IN_ERROR = 2000
_CHUNK = 64 * 1024

T = TypeVar("T")


# --------------------------------------------------------------------------- errors


class PlatformError(Exception):
    """Base of every platform client failure."""


class PlatformUnavailable(PlatformError):
    """The platform could not be reached or could not answer now: retry later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PlatformRejected(PlatformError):
    """The platform refused the request (4xx); the same request will be refused again."""

    def __init__(self, message: str, *, status: int, body: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        #: The platform's own words (``Problem.detail``), e.g. why it refused a timestamp.
        self.reason = reason


class PlatformUnauthorized(PlatformRejected):
    """401/403: the terminal is not (or no longer) enrolled; the request itself may be fine."""


class PlatformConflict(PlatformError):
    """409: the request conflicts with what the platform already has."""

    def __init__(self, message: str, *, body: str) -> None:
        super().__init__(message)
        self.status = 409
        self.body = body


class PlatformIntegrityError(PlatformError):
    """A downloaded document does not match its announced SHA-256."""


# --------------------------------------------------------------------------- limits and helpers


@dataclass(frozen=True)
class Limits:
    """What the client accepts from the platform."""

    max_body_bytes: int = 32 * 1024 * 1024
    max_json_depth: int = 32
    max_retry_after_s: float = 3600.0


def parse_retry_after(value: str | None, now: float | None = None, cap: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date), at most ``cap``;
    None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    seconds: float | None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = when.timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    seconds = max(0.0, seconds)
    return seconds if cap is None else min(seconds, cap)


def json_depth_exceeds(raw: bytes, limit: int) -> bool:
    """True when the JSON text nests arrays/objects deeper than ``limit`` (strings are skipped)."""
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def answer_message(method: str, path: str, nonce: str, status: int, body: bytes) -> bytes:
    """What the platform's X-Platform-Signature covers: the request it answers (method, path with
    query, the terminal's X-Request-Nonce), the status and the body's SHA-256."""
    digest = hashlib.sha256(body).hexdigest()
    return f"platform-answer/v1\n{method.upper()}\n{path}\n{nonce}\n{status}\n{digest}".encode()


def signed_message(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What X-Signature covers (the platform computes the same): method, path with query, timestamp,
    SHA-256 of the body."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


# --------------------------------------------------------------------------- deadline watchdog

_current = threading.local()


class _Watch:
    """The socket of the request this thread is making, shut down when its deadline passes."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.expired = False
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        with self._lock:
            self.sock = sock
            late = time.monotonic() >= self.deadline
        if late:
            self.expire()

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Watchdog:
    """One thread that expires the watches whose deadline passed (a ``threading.Timer`` per request
    was a thread started and stopped for every request the terminal makes)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watch]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, watch: _Watch) -> None:
        with self._cond:
            heapq.heappush(self._heap, (watch.deadline, next(self._seq), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="platform-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def done(self, watch: _Watch) -> None:
        """The request ended: its watch leaves the heap (at once, so a long run's heap stays small)."""
        with self._cond:
            for i, (_, _, w) in enumerate(self._heap):
                if w is watch:
                    self._heap[i] = self._heap[-1]
                    self._heap.pop()
                    heapq.heapify(self._heap)
                    break

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, due = heapq.heappop(self._heap)
            due.expire()


_WATCHDOG = _Watchdog()


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.attach(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.attach(self.sock)
        return super().getresponse(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


# --------------------------------------------------------------------------- replies


@dataclass(frozen=True)
class Reply:
    """One platform answer, read whole within the limits."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    def text(self) -> str:
        return self.body[:_MAX_BODY_IN_ERROR].decode("utf-8", "replace")


def problem_detail(body: bytes) -> str | None:
    """The ``detail`` of a Problem answer, if the body is one (bounded, never raises)."""
    if len(body) > 64 * 1024:
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    detail = data.get("detail") if isinstance(data, dict) else None
    return detail[:500] if isinstance(detail, str) else None


# --------------------------------------------------------------------------- transport


class Transport:
    """Sends one request at a time per thread with the limits above; signs when it has a key."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        timeout: float,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        ca_bundle: str | None = None,
        require_https: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if require_https and not self.base_url.lower().startswith("https://"):
            raise ValueError(f"the platform URL must be https:// (got {self.base_url!r})")
        self.terminal_id = terminal_id
        self.timeout = timeout
        self.signing_key = signing_key
        self.token: str | None = None
        #: The platform's answer key pinned at enrolment: with it, every 2xx answer under /api/v1
        #: must carry a valid X-Platform-Signature bound to this request's nonce.
        self.answer_key: Ed25519PublicKey | None = None
        self.limits = limits or Limits()
        #: Platform clock minus terminal clock (s), from the last answer's Date header; None before.
        self.clock_skew_s: float | None = None
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "hall-kiosk/0.1"
        self._session.trust_env = False  # no proxy or CA settings from the environment
        self._session.verify = ca_bundle if ca_bundle else True
        adapter = _WatchedAdapter()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ one request

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        data: bytes | None = None,
    ) -> Reply:
        """Send, then read the whole answer within the deadline and the size cap; 2xx or an error."""
        all_headers = dict(headers or {})
        nonce = secrets.token_hex(16)
        all_headers[NONCE_HEADER] = nonce
        if auth and self.signing_key is None and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        watch = _Watch(time.monotonic() + self.timeout)
        _current.watch = watch
        _WATCHDOG.watch(watch)
        try:
            prepared = self._session.prepare_request(
                requests.Request(method, self.base_url + path, json=json_body, data=data, headers=all_headers)
            )
            if auth and self.signing_key is not None:
                self._sign(prepared)
            resp = self._session.send(prepared, timeout=self.timeout, allow_redirects=False, stream=True)
            try:
                body = self._read(resp, method, path)
            finally:
                resp.close()
            if watch.expired:  # the watchdog cut the answer short: what was read is not the answer
                raise requests.ConnectionError("deadline")
        except requests.RequestException as err:
            if watch.expired:
                raise PlatformUnavailable(
                    f"{method} {path}: no whole answer within {self.timeout} s"
                ) from err
            if isinstance(err, requests.Timeout):
                raise PlatformUnavailable(f"{method} {path}: timed out after {self.timeout} s") from err
            if isinstance(err, requests.ConnectionError):
                raise PlatformUnavailable(f"{method} {path}: cannot connect ({type(err).__name__})") from err
            # e.g. ChunkedEncodingError: the connection broke in the middle of the answer.
            raise PlatformUnavailable(f"{method} {path}: broken answer ({type(err).__name__})") from err
        finally:
            _WATCHDOG.done(watch)
            _current.watch = None
        reply = Reply(method, path, resp.status_code, resp.headers, body)
        self._note_clock(reply)
        self._check_status(reply)
        if self.answer_key is not None and path.startswith(API + "/"):
            self._check_answer_signature(reply, prepared.path_url, nonce)
        return reply

    def _check_answer_signature(self, reply: Reply, sent_path: str, nonce: str) -> None:
        assert self.answer_key is not None
        try:
            signature = base64.b64decode(reply.headers.get(ANSWER_SIGNATURE_HEADER, ""), validate=True)
            self.answer_key.verify(
                signature, answer_message(reply.method, sent_path, nonce, reply.status, reply.body)
            )
        except (binascii.Error, ValueError, InvalidSignature) as err:
            log.error(
                "platform %s %s: answer not signed by the pinned platform key", reply.method, reply.path
            )
            raise PlatformIntegrityError(
                f"{reply.method} {reply.path}: answer is not signed by the pinned platform key"
            ) from err

    def _read(self, resp: requests.Response, method: str, path: str) -> bytes:
        cap = self.limits.max_body_bytes
        announced = resp.headers.get("Content-Length")
        if announced is not None and announced.strip().isdigit() and int(announced) > cap:
            raise PlatformUnavailable(
                f"{method} {path}: answer of {announced} bytes is over the {cap}-byte cap"
            )
        parts: list[bytes] = []
        size = 0
        for chunk in resp.iter_content(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise PlatformUnavailable(f"{method} {path}: answer is over the {cap}-byte cap")
            parts.append(chunk)
        return b"".join(parts)

    def _note_clock(self, reply: Reply) -> None:
        date = reply.headers.get("Date")
        if not date:
            return
        try:
            platform_now = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, OverflowError):
            return
        skew = platform_now - time.time()
        if (self.clock_skew_s is None or abs(skew - self.clock_skew_s) >= 1.0) and abs(skew) > 60:
            log.warning("the terminal clock is %.0f s off the platform's (Date header)", -skew)
        self.clock_skew_s = skew

    def _check_status(self, reply: Reply) -> Reply:
        code, method, path = reply.status, reply.method, reply.path
        if 200 <= code < 300:
            return reply
        if 300 <= code < 400:
            log.warning("platform %s %s answered %d (redirect); not followed", method, path, code)
            raise PlatformUnavailable(f"{method} {path}: HTTP {code} redirect refused", status=code)
        if code >= 500 or code in (408, 429) or code < 200:
            retry_after = parse_retry_after(
                reply.headers.get("Retry-After"), cap=self.limits.max_retry_after_s
            )
            log.warning("platform %s %s answered %d (retry after %s)", method, path, code, retry_after)
            raise PlatformUnavailable(f"{method} {path}: HTTP {code}", status=code, retry_after=retry_after)
        if code == 409:
            raise PlatformConflict(f"{method} {path}: HTTP 409 conflict", body=reply.text())
        reason = problem_detail(reply.body)
        message = f"{method} {path}: HTTP {code}" + (f" ({reason})" if reason else "")
        if code in (401, 403):
            log.warning("platform refused the terminal's credentials: %s", message)
            raise PlatformUnauthorized(message, status=code, body=reply.text(), reason=reason)
        raise PlatformRejected(message, status=code, body=reply.text(), reason=reason)

    def _sign(self, prepared: requests.PreparedRequest) -> None:
        assert self.signing_key is not None
        timestamp = f"{time.time():.6f}"
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        message = signed_message(str(prepared.method), prepared.path_url, timestamp, body)
        # The platform checks the signature from the headers alone, before it reads the body.
        prepared.headers[SHA256_HEADER] = hashlib.sha256(body).hexdigest()
        prepared.headers["X-Terminal-Id"] = self.terminal_id
        prepared.headers["X-Timestamp"] = timestamp
        prepared.headers["X-Signature"] = base64.b64encode(self.signing_key.sign(message)).decode("ascii")

    # ------------------------------------------------------------------ reading answers

    def parse(self, reply: Reply, model: type[T] | TypeAdapter[T], what: str) -> T:
        """The JSON answer validated against its contract model; PlatformUnavailable if it is not one."""
        if json_depth_exceeds(reply.body, self.limits.max_json_depth):
            raise PlatformUnavailable(f"{what}: answer nests deeper than {self.limits.max_json_depth}")
        adapter: TypeAdapter[Any] = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            value: T = adapter.validate_json(reply.body)
        except (ValidationError, ValueError, RecursionError) as err:
            raise PlatformUnavailable(f"{what}: answer does not match the platform contract") from err
        return value

    def verified_body(self, reply: Reply, expected_sha256: str | None) -> bytes:
        digest = hashlib.sha256(reply.body).hexdigest()
        announced = reply.headers.get(SHA256_HEADER)
        if announced is None:
            raise PlatformIntegrityError(f"{reply.path}: no {SHA256_HEADER} header")
        if digest != announced.lower():
            raise PlatformIntegrityError(f"{reply.path}: body does not match {SHA256_HEADER}")
        if expected_sha256 is not None and digest != expected_sha256.lower():
            raise PlatformIntegrityError(f"{reply.path}: body does not match the listed sha256")
        return reply.body
