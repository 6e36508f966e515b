"""Field encryption (AES-GCM / SM4-GCM, case id as associated data) and key material."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiosk.cases.crypto import (
    CryptoError,
    FieldAlgorithm,
    FieldCipher,
    derive_key,
    load_or_create_machine_secret,
    load_or_create_terminal_key,
    sm4_gcm_available,
    write_private,
)

PHOTO = b"\xff\xd8\xff\xe0 JPEG 371402195203140022 " + os.urandom(200)


def test_sm4_gcm_is_available_here() -> None:
    assert sm4_gcm_available()


@pytest.mark.parametrize("algorithm", list(FieldAlgorithm))
def test_round_trip_and_associated_data(algorithm: FieldAlgorithm) -> None:
    cipher = FieldCipher(os.urandom(algorithm.key_bytes), algorithm)
    blob = cipher.seal(PHOTO, "case-1")
    assert b"371402195203140022" not in blob
    assert cipher.open(blob, "case-1") == PHOTO
    assert cipher.seal(PHOTO, "case-1") != blob  # fresh nonce
    with pytest.raises(CryptoError):
        cipher.open(blob, "case-2")  # moved to another case
    tampered = bytearray(blob)
    tampered[-20] ^= 1
    with pytest.raises(CryptoError):
        cipher.open(bytes(tampered), "case-1")
    with pytest.raises(CryptoError):
        FieldCipher(os.urandom(algorithm.key_bytes), algorithm).open(blob, "case-1")


def test_algorithms_do_not_mix() -> None:
    aes = FieldCipher(os.urandom(32), FieldAlgorithm.AES_256_GCM)
    sm4 = FieldCipher(os.urandom(16), FieldAlgorithm.SM4_GCM)
    with pytest.raises(CryptoError, match="another algorithm"):
        sm4.open(aes.seal(b"x", "c"), "c")
    with pytest.raises(CryptoError, match="16-byte"):
        FieldCipher(os.urandom(32), FieldAlgorithm.SM4_GCM)


def test_machine_secret_is_created_once_with_0600(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "machine.key"
    first = load_or_create_machine_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_machine_secret(path) == first
    os.chmod(path, 0o644)
    with pytest.raises(CryptoError, match="0600"):
        load_or_create_machine_secret(path)


def test_derived_keys_are_bound_to_purpose_and_terminal() -> None:
    secret = os.urandom(32)
    store = derive_key(secret, "store", terminal_id="T1")
    assert len(store) == 32
    assert store == derive_key(secret, "store", terminal_id="T1")
    assert store != derive_key(secret, "fields", terminal_id="T1")
    assert store != derive_key(secret, "store", terminal_id="T2")
    cipher = FieldCipher.from_secret(secret, FieldAlgorithm.SM4_GCM, terminal_id="T1")
    assert (
        FieldCipher.from_secret(secret, FieldAlgorithm.SM4_GCM, terminal_id="T1").open(
            cipher.seal(b"name", "c"), "c"
        )
        == b"name"
    )


def test_secrets_directory_is_0700_and_secret_files_0600(tmp_path: Path) -> None:
    """Issue 17: the secrets directory was created 0755."""
    old = os.umask(0o022)
    try:
        secrets_dir = tmp_path / "data" / "secrets"
        load_or_create_machine_secret(secrets_dir / "machine.key")
        assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
        load_or_create_terminal_key(secrets_dir / "signing.pem")
        for name in ("machine.key", "signing.pem"):
            assert stat.S_IMODE((secrets_dir / name).stat().st_mode) == 0o600
        # An older install's 0755 directory is tightened at start.
        os.chmod(secrets_dir, 0o755)
        load_or_create_machine_secret(secrets_dir / "machine.key")
        assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
        # A leftover temp file with wide permissions does not widen the written file.
        leftover = secrets_dir / "lookup.key.tmp"
        leftover.write_bytes(b"old")
        os.chmod(leftover, 0o644)
        write_private(secrets_dir / "lookup.key", b"k" * 32)
        assert stat.S_IMODE((secrets_dir / "lookup.key").stat().st_mode) == 0o600
        # A missing parent is created 0700; an existing directory the caller named is left alone.
        write_private(tmp_path / "new" / "key", b"x")
        assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700
        usb = tmp_path / "usb"
        usb.mkdir(mode=0o755)
        write_private(usb / "S0042.key", b"x")
        assert stat.S_IMODE(usb.stat().st_mode) == 0o755
    finally:
        os.umask(old)
