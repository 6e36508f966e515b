"""Unpacking a release never writes outside its directory or more than the limits."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from kiosk.update.unpack import UnsafeArchive, unpack


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            body = (data or {}).get(info.name)
            tar.addfile(info, io.BytesIO(body) if body is not None else None)
    return path


def _file(name: str, body: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(body)
    return info, body


def test_a_plain_release_unpacks_with_its_modes(tmp_path: Path) -> None:
    a, a_body = _file("main.py", b"print('hi')\n")
    a.mode = 0o755
    b, b_body = _file("kiosk/x.py", b"X = 1\n")
    archive = _tar(tmp_path / "r.tar.gz", [a, b], {"main.py": a_body, "kiosk/x.py": b_body})
    written = unpack(archive, tmp_path / "out")
    assert written == len(a_body) + len(b_body)
    assert (tmp_path / "out" / "kiosk" / "x.py").read_bytes() == b_body
    assert (tmp_path / "out" / "main.py").stat().st_mode & 0o111


@pytest.mark.parametrize("name", ["../evil.py", "/etc/evil", "a/../../evil", "./../evil"])
def test_paths_out_of_the_directory_are_refused(tmp_path: Path, name: str) -> None:
    info, body = _file(name)
    archive = _tar(tmp_path / "r.tar.gz", [info], {name: body})
    with pytest.raises(UnsafeArchive):
        unpack(archive, tmp_path / "deep" / "out")
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "deep" / "evil.py").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_links_and_devices_are_refused(tmp_path: Path, kind: bytes) -> None:
    info = tarfile.TarInfo("kiosk")
    info.type = kind
    info.linkname = "/etc"
    archive = _tar(tmp_path / "r.tar.gz", [info])
    with pytest.raises(UnsafeArchive, match="not a regular file"):
        unpack(archive, tmp_path / "out")


def test_a_size_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    body = bytes(4 * 1024 * 1024)  # compresses to a few kB
    members = []
    data = {}
    for i in range(4):
        info, _ = _file(f"zeros{i}", body)
        members.append(info)
        data[info.name] = body
    archive = _tar(tmp_path / "r.tar.gz", members, data)
    assert archive.stat().st_size < 100_000
    with pytest.raises(UnsafeArchive, match="more than"):
        unpack(archive, tmp_path / "out", max_total_bytes=10 * 1024 * 1024)
    with pytest.raises(UnsafeArchive, match="over"):
        unpack(archive, tmp_path / "out2", max_file_bytes=1024 * 1024)


def test_too_many_members_and_duplicates_are_refused(tmp_path: Path) -> None:
    members = [_file(f"f{i}")[0] for i in range(5)]
    archive = _tar(tmp_path / "r.tar.gz", members, {m.name: b"x" for m in members})
    with pytest.raises(UnsafeArchive, match="members"):
        unpack(archive, tmp_path / "out", max_members=4)
    dup = [_file("same")[0], _file("same")[0]]
    archive = _tar(tmp_path / "d.tar.gz", dup, {"same": b"x"})
    with pytest.raises(FileExistsError):
        unpack(archive, tmp_path / "out3")
