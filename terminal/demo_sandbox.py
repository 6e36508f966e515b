"""The demo profile's sandbox platform, in the terminal's process but off the window's path.

Its address is reserved at once (a socket bound and listening on 127.0.0.1), so the platform
client is built with its URL; the server itself (FastAPI, uvicorn, its databases and keys: about
a second of a cold start) starts on the terminal's connect thread once the window is up
(terminal/runtime.py).  A request that comes earlier waits in the socket's backlog, as it would
for a slow remote platform.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox_platform.sockets import listening_socket

if TYPE_CHECKING:
    from sandbox_platform.server import SandboxServer

log = logging.getLogger(__name__)


class DemoSandbox:
    """A :class:`~sandbox_platform.server.SandboxServer` started on first use (:meth:`start`,
    :attr:`app`, :meth:`enrolment_code`), on the address reserved when this is made."""

    def __init__(self, data_dir: Path, items_dir: Path, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir
        self.items_dir = items_dir
        self.host = host
        self._socket = listening_socket(host)
        self.port = int(self._socket.getsockname()[1])
        self._server: SandboxServer | None = None
        self._closed = False
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def started(self) -> bool:
        return self._server is not None

    def start(self) -> SandboxServer:
        """The running server, started on the reserved socket by the first call (any thread)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the demo sandbox platform is closed")
            if self._server is None:
                from sandbox_platform.server import SandboxServer

                server = SandboxServer(self.data_dir, self.items_dir, self.host, self.port)
                server.start(sock=self._socket)
                self._server = server
                log.info("demo sandbox platform started on %s", self.url)
            elif not self._server.running:  # back after stop(), on the same port
                self._server.start()
            return self._server

    def stop(self) -> None:
        """The platform goes away (connections refused) until :meth:`start`; tests use it."""
        self.start().stop()

    @property
    def app(self) -> Any:
        """The sandbox's FastAPI application (tests read its state)."""
        return self.start().app

    def enrolment_code(self, terminal_id: str) -> str:
        """A one-time enrolment code for ``terminal_id`` (the installer's console, played by the demo)."""
        return self.start().enrolment_code(terminal_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._server is not None:
                self._server.close()
            else:
                self._socket.close()
