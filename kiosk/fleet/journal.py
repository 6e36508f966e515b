"""Structured logs to journald: the native journal protocol when the terminal runs under systemd.

Under a systemd unit stderr already reaches the journal, but as plain lines all of one priority.
When ``JOURNAL_STREAM`` says stderr is the journal, :func:`console_handler` returns a
:class:`JournalHandler` instead: each record is one datagram to journald's socket with fields
(``MESSAGE``, ``PRIORITY``, ``SYSLOG_IDENTIFIER``, ``LOGGER``, ``THREAD_NAME``, ``CODE_FILE``,
``CODE_LINE``, ``CODE_FUNC``), so ``journalctl -u hall-kiosk -p warning`` or
``journalctl LOGGER=kiosk.fleet.heartbeat`` select what they ask for.  The redaction filter of
kiosk/logsetup.py runs before any handler, so nothing personal reaches the journal either.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys

JOURNAL_SOCKET = "/run/systemd/journal/socket"
IDENTIFIER = "hall-kiosk"
#: journald takes datagrams up to the socket's buffer; longer messages are cut (a traceback's end).
MAX_MESSAGE = 48_000

_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


def priority(levelno: int) -> int:
    """syslog priority of a logging level (CRITICAL 2 ... DEBUG 7)."""
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


def _field(name: str, value: str) -> bytes:
    data = value.encode("utf-8", "replace")
    if b"\n" in data:  # the protocol's binary form: name, newline, little-endian 64-bit length, data
        return name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
    return name.encode() + b"=" + data + b"\n"


class JournalHandler(logging.Handler):
    """Sends each record to journald over its native datagram protocol."""

    def __init__(self, path: str = JOURNAL_SOCKET, identifier: str = IDENTIFIER) -> None:
        super().__init__()
        self.path = path
        self.identifier = identifier
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def datagram(self, record: logging.LogRecord) -> bytes:
        message = record.getMessage()
        if record.exc_text:
            message = f"{message}\n{record.exc_text}"
        fields = {
            "MESSAGE": message[:MAX_MESSAGE],
            "PRIORITY": str(priority(record.levelno)),
            "SYSLOG_IDENTIFIER": self.identifier,
            "LOGGER": record.name,
            "THREAD_NAME": record.threadName or "",
            "CODE_FILE": record.pathname,
            "CODE_LINE": str(record.lineno),
            "CODE_FUNC": record.funcName,
        }
        return b"".join(_field(k, v) for k, v in fields.items())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sock.sendto(self.datagram(record), self.path)
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self._sock.close()
        super().close()


def stderr_is_journal() -> bool:
    """True when systemd connected stderr to the journal (``JOURNAL_STREAM`` names its device:inode)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


def console_handler(path: str | None = None) -> logging.Handler:
    """The journal under systemd (when its socket is there), stderr otherwise."""
    path = path or JOURNAL_SOCKET
    if stderr_is_journal() and os.path.exists(path):
        return JournalHandler(path)
    return logging.StreamHandler()
