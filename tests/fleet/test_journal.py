"""Logs reach journald as structured fields over its native protocol when stderr is the journal.

A real AF_UNIX datagram socket plays journald; the terminal's logging runs in a child process whose
stderr is a file named by ``JOURNAL_STREAM``, as systemd sets it up.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.fleet.journal import priority

REPO = Path(__file__).resolve().parents[2]
CHILD = """
import logging, sys
from kiosk.fleet import journal
journal.JOURNAL_SOCKET = sys.argv[1]
from kiosk import logsetup
logsetup.configure(None)
log = logging.getLogger("kiosk.fleet.demo")
log.warning("card %s refused", "11010519491231002X")
log.info("heartbeat sent")
try:
    raise RuntimeError("boom")
except RuntimeError:
    log.exception("worker failed")
"""


def parse(datagram: bytes) -> dict[str, str]:
    """journald's native protocol: KEY=value lines, or KEY, newline, 64-bit length, data, newline."""
    fields: dict[str, str] = {}
    rest = datagram
    while rest:
        line, _, tail = rest.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value.decode()
            rest = tail
        else:
            (n,) = struct.unpack("<Q", tail[:8])
            fields[line.decode()] = tail[8 : 8 + n].decode()
            assert tail[8 + n : 9 + n] == b"\n"
            rest = tail[9 + n :]
    return fields


@pytest.fixture
def journald(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = str(tmp_path / "journal.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    yield sock, path
    sock.close()


def _run(path: str, stderr: Path, journal_stream: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    env["PYTHONPATH"] = str(REPO)
    with stderr.open("wb") as err:
        if journal_stream:
            st = os.fstat(err.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        subprocess.run([sys.executable, "-c", CHILD, path], stderr=err, env=env, check=True, timeout=120)


def test_records_become_journal_fields_with_personal_data_redacted(
    journald: tuple[socket.socket, str], tmp_path: Path
) -> None:
    sock, path = journald
    _run(path, tmp_path / "stderr", journal_stream=True)
    records = [parse(sock.recv(65536)) for _ in range(3)]
    warning, info, failure = records
    assert warning["MESSAGE"] == "card [id-number] refused" and warning["PRIORITY"] == "4"
    assert warning["SYSLOG_IDENTIFIER"] == "hall-kiosk" and warning["LOGGER"] == "kiosk.fleet.demo"
    assert warning["THREAD_NAME"] == "MainThread" and warning["CODE_LINE"].isdigit()
    assert info["MESSAGE"] == "heartbeat sent" and info["PRIORITY"] == "6"
    assert failure["PRIORITY"] == "3" and "RuntimeError: boom" in failure["MESSAGE"]
    assert "\n" in failure["MESSAGE"]  # sent in the protocol's binary form
    assert (tmp_path / "stderr").read_bytes() == b""  # not twice: the journal only


def test_without_the_journal_logs_go_to_stderr(journald: tuple[socket.socket, str], tmp_path: Path) -> None:
    sock, path = journald
    _run(path, tmp_path / "stderr", journal_stream=False)
    text = (tmp_path / "stderr").read_text(encoding="utf-8")
    assert "WARNING kiosk.fleet.demo [MainThread] card [id-number] refused" in text
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(65536)


def test_levels_map_to_syslog_priorities() -> None:
    assert [priority(n) for n in (50, 40, 30, 20, 10, 5)] == [2, 3, 4, 6, 7, 7]
