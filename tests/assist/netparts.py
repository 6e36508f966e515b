"""Network parts for the failure tests: coturn on 127.0.0.1 with a test user, and a TCP forwarder
whose connections the test can cut (a network drop between the terminal and the platform)."""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

TURN_USER = "kiosk-test"
TURN_PASSWORD = "turn-secret-1"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Coturn:
    """turnserver on 127.0.0.1 (UDP and TCP), long-term credentials, loopback peers allowed."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ice_server(self) -> dict[str, object]:
        return {
            "urls": [f"turn:127.0.0.1:{self.port}?transport=udp"],
            "username": TURN_USER,
            "credential": TURN_PASSWORD,
        }

    def start(self) -> Coturn:
        log = self.workdir / "turnserver.log"
        relay_low = 40000 + (self.port % 10000)
        self.proc = subprocess.Popen(
            [
                "turnserver",
                "-n",
                "--no-cli",
                "--no-tls",
                "--no-dtls",
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                f"--listening-port={self.port}",
                "--lt-cred-mech",
                f"--user={TURN_USER}:{TURN_PASSWORD}",
                "--realm=kiosk.test",
                "--allow-loopback-peers",
                f"--min-port={relay_low}",
                f"--max-port={relay_low + 200}",
                f"--pidfile={self.workdir / 'turnserver.pid'}",
                f"--log-file={log}",
                "--simple-log",
                "--no-stdout-log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30  # a loaded 2-core machine starts it slowly
        while time.monotonic() < deadline:  # listening once a TCP connect to the port succeeds
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"turnserver exited with {self.proc.returncode}")
            time.sleep(0.1)
        self.proc.kill()  # never left running behind the failure
        self.proc.wait(5)
        raise RuntimeError("turnserver did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class CuttableProxy:
    """127.0.0.1:port → target; :meth:`cut` resets every connection (RST) and refuses new ones."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._cut = False
        threading.Thread(target=self._accept, daemon=True, name="cuttable-proxy").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self._cut:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass

    def cut(self) -> None:
        self._cut = True
        with self._lock:
            for s in self._conns:
                with contextlib.suppress(OSError):
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    s.close()
            self._conns.clear()

    def close(self) -> None:
        self.cut()
        self._server.close()
