"""A power cut for the crash harness: undo what the disk was not told to keep.

SIGKILL alone loses nothing the process wrote: the kernel's page cache keeps it.  A power cut
loses every write not yet synced.  :func:`shim` builds ``powercut.c``, which the terminal process
under test loads (``LD_PRELOAD``): before each write to the store or its WAL it appends the bytes
about to be overwritten to ``<file>.undo``, and each ``fsync``/``fdatasync`` of the file empties
that log.  After the kill, :func:`cut` applies the undo records in reverse, truncates to the size
at the last sync and removes the WAL index (``-shm``, shared memory, gone after a reboot): the
files are then what a power cut at the kill point would have left in the worst case.
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("powercut.c")
#: The files the shim watches, by the end of their path (the harness's store and its WAL).
WATCHED = ("/terminal.db", "/terminal.db-wal")


def shim() -> Path:
    """The compiled shim (built once per source version, in the temp directory)."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"kiosk-powercut-{digest}.so"
    if not out.exists():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        subprocess.run(
            ["cc", "-shared", "-fPIC", "-O2", "-o", str(tmp), str(SOURCE), "-ldl", "-lpthread"],
            check=True,
            capture_output=True,
        )
        os.replace(tmp, out)
    return out


def environment() -> dict[str, str]:
    """What the terminal process needs in its environment to be watched."""
    return {"LD_PRELOAD": str(shim()), "POWERCUT_FILES": ":".join(WATCHED)}


def loaded() -> bool:
    """Whether this process runs with the shim (checked in the child, so a run cannot silently
    skip the power cut)."""
    return "kiosk-powercut-" in Path("/proc/self/maps").read_text()


def _undo(path: Path) -> int:
    """Revert one file's unsynced writes; returns how many bytes that undid (overwritten bytes put
    back plus bytes appended since the last sync)."""
    log = path.with_name(path.name + ".undo")
    if not log.exists():
        return 0
    data = log.read_bytes()
    size: int | None = None
    writes: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        kind = data[i : i + 1]
        if kind == b"Z" and i + 9 <= len(data):
            if size is None:
                size = struct.unpack_from("<Q", data, i + 1)[0]
            i += 9
        elif kind == b"W" and i + 17 <= len(data):
            offset, length = struct.unpack_from("<QQ", data, i + 1)
            if i + 17 + length > len(data):
                break  # killed while logging: the write it announced never happened
            writes.append((offset, data[i + 17 : i + 17 + length]))
            i += 17 + length
        else:
            break  # a record cut short by the kill
    restored = 0
    if size is not None and path.exists():
        fd = os.open(path, os.O_WRONLY)
        try:
            for offset, old in reversed(writes):
                os.pwrite(fd, old, offset)
                restored += len(old)
            restored += max(0, os.fstat(fd).st_size - size)
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
    log.unlink()
    return restored


def cut(db_path: Path) -> int:
    """Make ``db_path`` and its WAL what a power cut would have left; returns the bytes undone."""
    restored = sum(_undo(db_path.with_name(db_path.name + suffix)) for suffix in ("", "-wal"))
    db_path.with_name(db_path.name + "-shm").unlink(missing_ok=True)
    return restored
