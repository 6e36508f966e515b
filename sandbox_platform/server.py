"""Run the sandbox platform with uvicorn in a background thread (tests, the demo, ``make run``)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import uvicorn

from sandbox_platform.app import create_app
from sandbox_platform.sockets import listening_socket

log = logging.getLogger(__name__)


class SandboxServer:
    """A sandbox platform listening on ``host:port`` (port 0 picks a free one).

    ``stop()`` then ``start()`` again reuses the same port, so tests can simulate
    the platform becoming unreachable (connection refused) and coming back.
    """

    def __init__(
        self,
        data_dir: Path | str,
        items_dir: Path | str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_log: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.items_dir = Path(items_dir)
        self.host = host
        self.port = port
        self.access_log = access_log
        self.app = create_app(self.data_dir, self.items_dir)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (valid once started)."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout_s: float = 10.0, *, sock: socket.socket | None = None) -> SandboxServer:
        """Serve on ``host:port``, or on ``sock`` (bound by :func:`listening_socket`) when given."""
        if self.running:
            return self
        if sock is None:
            sock = listening_socket(self.host, self.port, listen=False)
        self.port = int(sock.getsockname()[1])
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_config=None,  # never reconfigure the host process's logging
            access_log=self.access_log,
            lifespan="off",
            http="h11",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sandbox-platform:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not self._thread.is_alive():
                self._cleanup()
                raise RuntimeError("sandbox platform failed to start (see log)")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"sandbox platform did not start within {timeout_s} s")
            time.sleep(0.01)
        log.info("sandbox platform listening on %s", self.url)
        return self

    def enrolment_code(self, terminal_id: str, ttl_s: float = 86400.0) -> str:
        """A one-time enrolment code for ``terminal_id`` (what the platform's installer console
        hands out; the demo profile asks for one at start)."""
        code: str = self.app.state.db.issue_code(terminal_id, ttl_s)
        return code

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("sandbox platform thread did not stop within %s s", timeout_s)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._server = None
        self._thread = None

    def close(self) -> None:
        """Stop and release the database."""
        self.stop()
        self.app.state.db.close()
        self.app.state.citizens.close()
        self.app.state.outbox.close()
        self.app.state.ratings.close()
        self.app.state.alerts.close()
        self.app.state.replays.close()
        self.app.state.hall.close()
        self.app.state.reprints.close()
        self.app.state.lookups.close()
        self.app.state.assist.store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
