"""The sandbox platform's listening socket, apart from the server so it imports nothing heavy: the
demo terminal reserves its platform's address at once and starts the server later
(terminal/demo_sandbox.py)."""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int = 0, *, listen: bool = True) -> socket.socket:
    """A socket bound to ``host:port`` for :meth:`SandboxServer.start`; ``listen``: connections
    already wait in its backlog until the server accepts them."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without it, a keep-alive response written in two parts
    # waits for the client's delayed ACK (~40 ms per request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        if listen:
            sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
