"""The lookup key and the pinned e-licence key on disk (real files, real modes)."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.cases.lookup_key import ProvisioningError, load_lookup_key, save_lookup_key
from kiosk.documents.elicence_platform import pin_elicence_key


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_lookup_key_is_private_and_replaced_by_a_newer_one(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "lookup.key"
    assert load_lookup_key(path) is None
    save_lookup_key(path, b"k" * 32)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_lookup_key(path) == b"k" * 32
    save_lookup_key(path, b"n" * 32)  # the platform rotated its key
    assert load_lookup_key(path) == b"n" * 32
    assert not path.with_name("lookup.key.tmp").exists()


def test_lookup_key_readable_by_others_or_empty_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lookup.key"
    save_lookup_key(path, b"k" * 32)
    os.chmod(path, 0o644)
    with pytest.raises(ProvisioningError, match="0600"):
        load_lookup_key(path)
    os.chmod(path, 0o600)
    path.write_bytes(b"")
    with pytest.raises(ProvisioningError, match="empty"):
        load_lookup_key(path)
    with pytest.raises(ProvisioningError):
        save_lookup_key(tmp_path / "other.key", b"")


def test_elicence_key_pinned_on_first_use_and_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "elicence-verify.pub"
    assert pin_elicence_key(path, None) is None
    first, second = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    pinned = pin_elicence_key(path, _raw(first))
    assert pinned is not None and pinned.public_bytes(Encoding.Raw, PublicFormat.Raw) == _raw(first)
    assert base64.b64decode(path.read_text()) == _raw(first)
    with caplog.at_level(logging.ERROR):
        again = pin_elicence_key(path, _raw(second))  # a later enrolment announces another key
    assert again is not None and again.public_bytes(Encoding.Raw, PublicFormat.Raw) == _raw(first)
    assert any("keeping the pinned one" in r.getMessage() for r in caplog.records)
    assert pin_elicence_key(path, None) is not None  # offline start: the pinned key still serves


def test_unusable_elicence_keys_give_no_key(tmp_path: Path) -> None:
    assert pin_elicence_key(tmp_path / "a.pub", b"short") is None
    assert not (tmp_path / "a.pub").exists()
    bad = tmp_path / "b.pub"
    bad.write_text("not base64!\n")
    assert pin_elicence_key(bad, None) is None
