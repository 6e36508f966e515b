"""A virtual smart card speaking the vsmartcard ``vpcd`` socket protocol.

vpcd (Debian ``vsmartcard-vpcd``, a pcscd reader driver) listens on TCP port
35963 (slot 0) / 35964 (slot 1).  A card "is inserted" while it is connected.
Every message either way is a 2-byte big-endian length followed by the payload.
From vpcd a 1-byte payload is a control: 0 power off, 1 power on, 2 reset (no
answer), 4 get ATR (the card answers with its ATR); longer payloads are command
APDUs, answered with the response APDU.  vpcd asks for the ATR on every presence
poll, so the card answers promptly from its own thread.

TCP_QUICKACK is set after every receive: without it the delayed-ACK/Nagle
interplay costs about 40 ms per APDU.

The test pcscd (``packaging/pcsc/start-test-pcscd.sh``) runs in a network namespace
with only loopback; :meth:`VirtualCard.insert` creates its socket inside that
namespace (``setns(2)`` on this thread only, root needed) and connects to
127.0.0.1 there.
"""

from __future__ import annotations

import ctypes
import logging
import os
import socket
import struct
import threading
from typing import Protocol

logger = logging.getLogger(__name__)

VPCD_PORT = 35963
CTRL_OFF = 0
CTRL_ON = 1
CTRL_RESET = 2
CTRL_ATR = 4
CLONE_NEWNET = 0x40000000


def _atr(historical: bytes) -> bytes:
    """A T=1 ATR: TS 3B, T0 8k, TD1 80, TD2 01, historical bytes, TCK."""
    body = bytes((0x80 | len(historical), 0x80, 0x01)) + historical
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes((tck,))


#: Default ATR of the virtual staff card (historical bytes "KIOSKSTF").
DEFAULT_ATR = _atr(b"KIOSKSTF")


class Applet(Protocol):
    def process(self, raw: bytes) -> bytes: ...

    def reset(self) -> None: ...


def socket_in_netns(netns_path: str | None) -> socket.socket:
    """A TCP socket created in the network namespace at ``netns_path`` (None: this one)."""
    if netns_path is None:
        return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    libc = ctypes.CDLL(None, use_errno=True)
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(netns_path, os.O_RDONLY)
        try:
            if libc.setns(target, CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns({netns_path}): {os.strerror(err)}")
            try:
                return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"cannot return to own netns: {os.strerror(err)}")
        finally:
            os.close(target)
    finally:
        os.close(own)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        # Re-arm before every receive: the kernel leaves quick-ACK mode after we send.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return bytes(buf)


class VirtualCard:
    """A card that runs ``applet``; :meth:`insert` connects to vpcd, :meth:`remove` leaves."""

    def __init__(self, applet: Applet, atr: bytes = DEFAULT_ATR) -> None:
        self.applet = applet
        self.atr = atr
        self.apdu_count = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._powered = False

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(
        self,
        host: str = "127.0.0.1",
        port: int = VPCD_PORT,
        *,
        netns: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        if self.inserted:
            raise RuntimeError("card already inserted")
        sock = socket_in_netns(netns)
        sock.settimeout(timeout)
        try:
            sock.connect((host, port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        self._sock = sock
        self.applet.reset()
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="vcard", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        sock, thread = self._sock, self._thread
        self._sock = None
        self._thread = None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if thread is not None:
            thread.join(5.0)

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                head = _recv_exact(sock, 2)
                if not head:
                    return
                (length,) = struct.unpack(">H", head)
                payload = _recv_exact(sock, length)
                if len(payload) != length:
                    return
                if length == 1:
                    ctrl = payload[0]
                    if ctrl == CTRL_ATR:
                        self._send(sock, self.atr)
                    elif ctrl == CTRL_OFF:
                        self._powered = False
                        self.applet.reset()
                    elif ctrl in (CTRL_ON, CTRL_RESET):
                        self._powered = True
                        self.applet.reset()
                    else:
                        logger.warning("vpcd sent unknown control %d", ctrl)
                    continue
                self.apdu_count += 1
                self._send(sock, self.applet.process(payload))
        except OSError:
            return  # removed (socket shut down) or vpcd gone
