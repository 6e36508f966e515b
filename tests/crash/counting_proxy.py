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
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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
    """``with CountingProxy(upstream_url) as proxy``: point the terminal at ``proxy.url``.

    The proxy runs in a process of its own (``python -m tests.crash.counting_proxy``), so that its
    work does not compete for the interpreter lock with a sandbox server running in the caller's
    process; it appends one line per counted request to a log the caller reads."""

    def __init__(self, upstream_url: str) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="counting-proxy-")
        self._log = Path(self._dir.name) / "received.tsv"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash.counting_proxy", upstream_url, str(self._log)],
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode("ascii").strip()
        if not line.isdigit():
            self._proc.kill()
            raise RuntimeError("the counting proxy did not start")
        self.url = f"http://127.0.0.1:{line}"

    def received(self, path: str) -> dict[str, list[Received]]:
        """Every request received on ``path``, by idempotency key, in arrival order."""
        out: dict[str, list[Received]] = defaultdict(list)
        text = self._log.read_text("ascii") if self._log.exists() else ""
        for row in text.splitlines():
            at, p, key, sha = row.split("\t")
            if p == path:
                out[key].append(Received(float(at), sha))
        return dict(out)

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._dir.cleanup()

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server:
    """The proxy itself (in its own process)."""

    def __init__(self, upstream_url: str, log_path: str) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    def _record(self, path: str, key: str, body: bytes) -> None:
        line = f"{time.time()!r}\t{path}\t{key}\t{hashlib.sha256(body).hexdigest()}\n"
        os.write(self._log, line.encode("ascii"))  # one O_APPEND write: lines never interleave

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes: without TCP_NODELAY the second waits for the
            # client's delayed ACK (40 ms a request).
            disable_nagle_algorithm = True

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


def main(argv: list[str]) -> None:
    server = _Server(argv[0], argv[1])
    print(server.server.server_address[1], flush=True)
    server.server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
