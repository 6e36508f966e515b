"""What the platform *received*: a reverse proxy between the terminal under test and the sandbox.

The sandbox keeps what it accepted; a second copy under a key it already has is answered with the
first acknowledgement (same body) or refused with 409 (other body) and leaves no trace there.  The
proxy forwards every request unchanged (a dropped answer stays dropped: the client's connection is
closed without a reply) and records, for the upload endpoints, when each request arrived, its
idempotency key and the SHA-256 of its body.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: The endpoints whose requests are counted (POST, by their ``Idempotency-Key``).
COUNTED = ("/api/v1/cases", "/api/v1/publicity")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass(frozen=True)
class Received:
    at: float  # time.time() when the request arrived
    body_sha256: str


class CountingProxy:
    """``with CountingProxy(upstream_url) as proxy``: point the terminal at ``proxy.url``."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._received: dict[str, dict[str, list[Received]]] = {p: defaultdict(list) for p in COUNTED}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def received(self, path: str) -> dict[str, list[Received]]:
        """Every request received on ``path``, by idempotency key, in arrival order."""
        with self._lock:
            return {k: list(v) for k, v in self._received[path].items()}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, path: str, key: str, body: bytes) -> None:
        with self._lock:
            self._received[path][key].append(Received(time.time(), hashlib.sha256(body).hexdigest()))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the terminal's own logs say what it sent

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:  # the sender died mid-request: nothing reached the platform
                    self.close_connection = True
                    return
                path = self.path.split("?", 1)[0]
                key = self.headers.get("Idempotency-Key")
                if self.command == "POST" and path in COUNTED and key:
                    proxy._record(path, key, body)
                upstream = http.client.HTTPConnection(*proxy._upstream, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    resp = upstream.getresponse()
                    data = resp.read()
                except (OSError, http.client.HTTPException):
                    # No (whole) answer upstream: the terminal gets none either.
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                finally:
                    upstream.close()
                self.send_response_only(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        return Handler
