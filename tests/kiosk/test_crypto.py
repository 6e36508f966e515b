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
    sm4_gcm_available,
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
