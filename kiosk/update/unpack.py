"""Unpack a release tarball without trusting its contents' shape.

The tarball's bytes were verified by TUF before this runs, so a bad archive here means a bad
release was signed: it must still not write outside the staging directory or fill the disk.
Only regular files and directories are extracted; a member with an absolute path, a ``..``
component, a link or a device is refused, and so is an archive over :data:`MAX_MEMBERS` members
or :data:`MAX_TOTAL_BYTES` unpacked (counted while writing, so a header that lies about its size
cannot pass either).
"""

from __future__ import annotations

import os
import stat
import tarfile
from pathlib import Path, PurePosixPath

MAX_MEMBERS = 20_000
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_FILE_BYTES = 128 * 1024 * 1024
_CHUNK = 64 * 1024


class UnsafeArchive(ValueError):
    """The archive would write outside its directory, or too much."""


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or name.startswith("/") or "\\" in name:
        raise UnsafeArchive(f"absolute or odd path in the archive: {name!r}")
    parts = [p for p in path.parts if p != "."]
    if not parts or any(p == ".." for p in parts):
        raise UnsafeArchive(f"path escapes the release directory: {name!r}")
    return PurePosixPath(*parts)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unpack(
    archive: Path,
    dest: Path,
    *,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> int:
    """Extract ``archive`` (tar, optionally gzip/xz) into the new directory ``dest``; every file
    and directory is fsynced before this returns.  Returns the bytes written."""
    dest.mkdir(parents=True, exist_ok=False)
    total = 0
    members = 0
    dirs: set[Path] = {dest}
    with tarfile.open(archive, mode="r:*") as tar:
        for member in tar:
            members += 1
            if members > max_members:
                raise UnsafeArchive(f"more than {max_members} members")
            rel = _safe_name(member.name)
            target = dest.joinpath(*rel.parts)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                dirs.add(target)
                continue
            if not member.isreg():
                raise UnsafeArchive(f"not a regular file or directory: {member.name!r}")
            if member.size > max_file_bytes:
                raise UnsafeArchive(f"{member.name!r} is over {max_file_bytes} bytes")
            target.parent.mkdir(parents=True, exist_ok=True)
            dirs.add(target.parent)
            source = tar.extractfile(member)
            if source is None:
                raise UnsafeArchive(f"cannot read {member.name!r}")
            mode = 0o755 if member.mode & stat.S_IXUSR else 0o644
            # O_EXCL: a second member of the same name cannot overwrite the first one
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
            with os.fdopen(fd, "wb") as out, source:
                while chunk := source.read(_CHUNK):
                    total += len(chunk)
                    if total > max_total_bytes:
                        raise UnsafeArchive(f"unpacks to more than {max_total_bytes} bytes")
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
    for directory in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        _fsync(directory)
    return total
