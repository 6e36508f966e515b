"""The store on SQLCipher: no personal data in clear on disk, a wrong key does not open it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from offline_cache.store import EnvironmentFault, StorageEnvironmentError, Store

ID_NUMBER = "371402195203140022"
NAME = "张桂兰"


def _payload() -> bytes:
    return json.dumps({"id_number": ID_NUMBER, "name": NAME}, ensure_ascii=False).encode("utf-8")


def _disk_bytes(path: Path) -> bytes:
    data = b""
    for p in path.parent.iterdir():  # the database, its WAL and shm
        if p.name.startswith(path.name):
            data += p.read_bytes()
    return data


def test_encrypted_file_has_no_personal_data_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "terminal.db"
    key = secrets.token_bytes(32)
    with Store(path, key=key) as s:
        s.cases.add("c1", "senior-card", _payload(), 1000.0)
        s.meta.set("note", NAME)
        disk = _disk_bytes(path)
        assert s.cases.get("c1") is not None
    disk += _disk_bytes(path)
    for needle in (ID_NUMBER.encode(), NAME.encode("utf-8"), b"senior-card", b"SQLite format 3"):
        assert needle not in disk
    with Store(path, key=key) as s:
        case = s.cases.get("c1")
        assert case is not None and case.payload == _payload()
        assert s.pragma("integrity_check") == "ok"


def test_plain_store_does_hold_it_in_clear(tmp_path: Path) -> None:
    # The check above can fail: without a key the same bytes are on disk.
    path = tmp_path / "plain.db"
    with Store(path) as s:
        s.cases.add("c1", "senior-card", _payload(), 1000.0)
    assert ID_NUMBER.encode() in _disk_bytes(path)


def test_wrong_key_fails_to_open(tmp_path: Path) -> None:
    path = tmp_path / "terminal.db"
    with Store(path, key=secrets.token_bytes(32)) as s:
        s.cases.add("c1", "senior-card", _payload(), 1000.0)
    with pytest.raises(StorageEnvironmentError) as info:
        Store(path, key=secrets.token_bytes(32))
    assert info.value.fault is EnvironmentFault.WRONG_KEY
    assert "key" in str(info.value)
    with pytest.raises(StorageEnvironmentError) as info:
        Store(path)  # no key at all
    assert info.value.fault is EnvironmentFault.CORRUPT


def test_key_length_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Store(tmp_path / "x.db", key=b"short")
