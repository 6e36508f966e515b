"""Keys and field encryption for personal data (R-SEC §9.5.1).

Two things live here:

* the terminal's key material: :func:`load_or_create_machine_secret` keeps a
  32-byte random secret in a 0600 file in the terminal's data directory
  (created at first start, never in the config file) and :func:`derive_key`
  derives purpose-bound keys from it with HKDF-SHA256 (the SQLCipher key of
  the local store, the field-encryption key, ...).  docs/security.md says what
  sealing this secret to a TPM would add;
* :class:`FieldCipher`: AES-256-GCM or SM4-GCM (both through ``cryptography``)
  for personal fields and images that leave the database, with the case id as
  associated data, so a blob moved to another case fails to decrypt.

Sealed blob layout: ``b"HF1" | algorithm byte | 12-byte nonce | ciphertext+16-byte tag``.
"""

from __future__ import annotations

import enum
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

log = logging.getLogger(__name__)

MAGIC = b"HF1"
NONCE_BYTES = 12
TAG_BYTES = 16
SECRET_BYTES = 32


class CryptoError(Exception):
    """A sealed blob cannot be opened (wrong key, wrong case id, tampered) or a key is unusable."""


class FieldAlgorithm(enum.Enum):
    """Field-encryption algorithm.  Values are stable identifiers (config and blob headers)."""

    AES_256_GCM = "aes-256-gcm"
    SM4_GCM = "sm4-gcm"

    @property
    def key_bytes(self) -> int:
        return 32 if self is FieldAlgorithm.AES_256_GCM else 16

    @property
    def tag_byte(self) -> int:
        return 1 if self is FieldAlgorithm.AES_256_GCM else 2


_BY_TAG = {a.tag_byte: a for a in FieldAlgorithm}


def sm4_gcm_available() -> bool:
    """True when the linked OpenSSL offers SM4 in GCM mode (``cryptography`` >= 44 with OpenSSL 3)."""
    try:
        enc = Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(NONCE_BYTES))).encryptor()
        enc.update(b"")
        enc.finalize()
    except Exception:  # UnsupportedAlgorithm, or no SM4 attribute at all
        return False
    return True


# --------------------------------------------------------------------------- keys


def load_or_create_machine_secret(path: Path | str) -> bytes:
    """The terminal's machine secret: read it, or create it (0600, atomically) at first start."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        secret = secrets.token_bytes(SECRET_BYTES)
        write_private(path, secret)
        log.info("created the terminal's machine secret at %s", path)
        return secret
    if len(data) != SECRET_BYTES:
        raise CryptoError(f"{path} does not hold a {SECRET_BYTES}-byte machine secret")
    if path.stat().st_mode & 0o077:
        raise CryptoError(f"{path} is readable by other users; expected mode 0600")
    return data


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_or_create_terminal_key(path: Path | str) -> Ed25519PrivateKey:
    """The terminal's Ed25519 signing key (PKCS#8 PEM, 0600), created at first enrolment."""
    path = Path(path)
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        key = Ed25519PrivateKey.generate()
        write_private(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        log.info("created the terminal's signing key at %s", path)
        return key
    if path.stat().st_mode & 0o077:
        raise CryptoError(f"{path} is readable by other users; expected mode 0600")
    loaded = load_pem_private_key(pem, password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CryptoError(f"{path} does not hold an Ed25519 private key")
    return loaded


def derive_key(secret: bytes, purpose: str, *, terminal_id: str = "", length: int = 32) -> bytes:
    """A key for one ``purpose`` (e.g. ``"store"``, ``"fields"``), bound to the terminal id."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=length,
        salt=b"hall-kiosk/v1",
        info=f"{purpose}\x00{terminal_id}".encode(),
    )
    return hkdf.derive(secret)


# --------------------------------------------------------------------------- fields


class FieldCipher:
    """Seal/open personal fields and images with the case id as associated data."""

    def __init__(self, key: bytes, algorithm: FieldAlgorithm = FieldAlgorithm.AES_256_GCM) -> None:
        if len(key) != algorithm.key_bytes:
            raise CryptoError(f"{algorithm.value} needs a {algorithm.key_bytes}-byte key")
        if algorithm is FieldAlgorithm.SM4_GCM and not sm4_gcm_available():
            raise CryptoError("SM4-GCM is not available in this build of cryptography/OpenSSL")
        self.algorithm = algorithm
        self._key = key

    @classmethod
    def from_secret(
        cls, secret: bytes, algorithm: FieldAlgorithm = FieldAlgorithm.AES_256_GCM, *, terminal_id: str = ""
    ) -> FieldCipher:
        return cls(
            derive_key(secret, "fields", terminal_id=terminal_id, length=algorithm.key_bytes), algorithm
        )

    def seal(self, plaintext: bytes, case_id: str) -> bytes:
        return self._seal_with(secrets.token_bytes(NONCE_BYTES), plaintext, case_id.encode("utf-8"))

    def seal_deterministic(self, plaintext: bytes, case_id: str) -> bytes:
        """Like :meth:`seal` but with a synthetic nonce (HMAC of the case id and the plaintext, as in
        SIV): sealing the same bytes for the same case again gives the same blob, so a re-sent upload
        after a crash is byte-identical (idempotency keys, chunk offsets and SHA-256 checks hold)."""
        aad = case_id.encode("utf-8")
        mac = hmac.HMAC(self._nonce_key(), hashes.SHA256())
        mac.update(len(aad).to_bytes(8, "big") + aad + plaintext)
        return self._seal_with(mac.finalize()[:NONCE_BYTES], plaintext, aad)

    def _nonce_key(self) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"hall-kiosk/siv", info=b"nonce").derive(
            self._key
        )

    def _seal_with(self, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        if self.algorithm is FieldAlgorithm.AES_256_GCM:
            body = AESGCM(self._key).encrypt(nonce, plaintext, aad)
        else:
            enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
            enc.authenticate_additional_data(aad)
            body = enc.update(plaintext) + enc.finalize() + enc.tag
        return MAGIC + bytes([self.algorithm.tag_byte]) + nonce + body

    def open(self, blob: bytes, case_id: str) -> bytes:
        head = len(MAGIC) + 1
        if len(blob) < head + NONCE_BYTES + TAG_BYTES or not blob.startswith(MAGIC):
            raise CryptoError("not a sealed field")
        algorithm = _BY_TAG.get(blob[len(MAGIC)])
        if algorithm is not self.algorithm:
            raise CryptoError("sealed with another algorithm")
        nonce = blob[head : head + NONCE_BYTES]
        body = blob[head + NONCE_BYTES :]
        aad = case_id.encode("utf-8")
        try:
            if algorithm is FieldAlgorithm.AES_256_GCM:
                return AESGCM(self._key).decrypt(nonce, body, aad)
            dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, body[-TAG_BYTES:])).decryptor()
            dec.authenticate_additional_data(aad)
            return dec.update(body[:-TAG_BYTES]) + dec.finalize()
        except InvalidTag as err:
            raise CryptoError("sealed field does not authenticate (wrong key, case id or tampered)") from err


# --------------------------------------------------------------------------- key agreement

#: HKDF salt of the field key agreed with the platform (the sandbox derives the same).
AGREED_FIELD_KEY_SALT = b"hall-kiosk/fields/v1"


def terminal_agreement_key(secret: bytes, *, terminal_id: str) -> X25519PrivateKey:
    """The terminal's X25519 key for the field-key agreement, derived from the machine secret
    (so it is never stored apart and follows the secret into a TPM, docs/security.md)."""
    return X25519PrivateKey.from_private_bytes(derive_key(secret, "x25519", terminal_id=terminal_id))


def agreed_field_cipher(
    private: X25519PrivateKey, platform_public: bytes, *, terminal_id: str, algorithm: FieldAlgorithm
) -> FieldCipher:
    """The field cipher both ends share: HKDF-SHA256 over the X25519 secret, bound to the terminal and
    the algorithm.  The platform opens what the terminal seals; nobody else on the path can."""
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(platform_public))
    except ValueError as err:
        raise CryptoError("the platform's X25519 public key is unusable") from err
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=algorithm.key_bytes,
        salt=AGREED_FIELD_KEY_SALT,
        info=f"fields\x00{terminal_id}\x00{algorithm.value}".encode(),
    ).derive(shared)
    return FieldCipher(key, algorithm)
