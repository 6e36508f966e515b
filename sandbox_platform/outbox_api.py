"""Sandbox platform: field-key agreement, resumable attachment uploads, certificates, publicity.

Mounted by :func:`sandbox_platform.app.create_app` with one line; state lives in its own SQLite
file (``outbox_api.sqlite3``) and directories next to the platform's store.

Field key (docs/security.md): the platform has an X25519 key pair; a terminal posts its X25519
public key (a signed request) to ``POST /api/v1/terminals/{id}/field-key`` and gets the
platform's public key back.  Both sides derive the field key with HKDF-SHA256 over the shared
secret, bound to the terminal id and the algorithm (AES-256-GCM or SM4-GCM).  Sealed fields use the
terminal's layout ``HF1 | algorithm byte | 12-byte nonce | ciphertext | 16-byte tag`` with the case
id as associated data; the platform opens them and checks them against the announced hashes.

Uploads (docs/uploads.md): ``POST /api/v1/uploads`` creates a session (idempotent on the
``Idempotency-Key``, the terminal's attachment id), ``PUT /api/v1/uploads/{id}`` appends a chunk
named by ``Content-Range: bytes start-end/total`` (a chunk that starts at or before the committed
offset is accepted and only its new bytes are kept, so a repeated chunk is harmless; one that
starts after it is answered 416 with the committed offset), ``GET`` tells the committed offset,
``POST .../complete`` checks the SHA-256 of the whole, opens it and keeps the clear file.  A chunk
whose body does not arrive whole (connection dropped mid-chunk) is never committed.  An attachment
of at most one chunk may come whole in the create request (``content``, base64): the platform makes
complete's checks on it and answers the session already complete, in one request instead of three.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import ClientDisconnect

from sandbox_platform import auth
from sandbox_platform.db import open_sqlite

log = logging.getLogger(__name__)

API = "/api/v1"
SHA256_HEADER = "X-Content-SHA256"
#: Largest attachment and largest chunk the sandbox accepts.
MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024
MAX_CHUNK_BYTES = 4 * 1024 * 1024
#: Largest attachment that may come inline in the create request (one terminal chunk), and its base64 length.
MAX_INLINE_BYTES = 256 * 1024
MAX_INLINE_B64 = 4 * ((MAX_INLINE_BYTES + 2) // 3)
FIELD_KEY_SALT = b"hall-kiosk/fields/v1"
_MAGIC = b"HF1"
_NONCE = 12
_TAG = 16
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_RESIDENT_ID = re.compile(r"^\d{17}[\dXx]$")


class FieldAlgorithm(enum.Enum):
    AES_256_GCM = "aes-256-gcm"
    SM4_GCM = "sm4-gcm"

    @property
    def key_bytes(self) -> int:
        return 32 if self is FieldAlgorithm.AES_256_GCM else 16

    @property
    def tag_byte(self) -> int:
        return 1 if self is FieldAlgorithm.AES_256_GCM else 2


def field_key(shared: bytes, terminal_id: str, algorithm: FieldAlgorithm) -> bytes:
    """The field key both sides derive from the X25519 shared secret."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=algorithm.key_bytes,
        salt=FIELD_KEY_SALT,
        info=f"fields\x00{terminal_id}\x00{algorithm.value}".encode(),
    ).derive(shared)


class SealError(Exception):
    pass


def open_sealed(blob: bytes, key: bytes, algorithm: FieldAlgorithm, case_id: str) -> bytes:
    """Open a terminal-sealed blob (``HF1`` layout) with the case id as associated data."""
    head = len(_MAGIC) + 1
    if len(blob) < head + _NONCE + _TAG or not blob.startswith(_MAGIC) or blob[3] != algorithm.tag_byte:
        raise SealError("not a sealed blob of the agreed algorithm")
    nonce, body, aad = blob[head : head + _NONCE], blob[head + _NONCE :], case_id.encode("utf-8")
    try:
        if algorithm is FieldAlgorithm.AES_256_GCM:
            return AESGCM(key).decrypt(nonce, body, aad)
        dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-_TAG:])).decryptor()
        dec.authenticate_additional_data(aad)
        return dec.update(body[:-_TAG]) + dec.finalize()
    except (InvalidTag, ValueError) as err:
        raise SealError("sealed blob does not authenticate") from err


# --------------------------------------------------------------------------- models


class FieldKeyRequest(BaseModel):
    public_key: str = Field(max_length=64, description="The terminal's X25519 public key (base64, 32 bytes)")
    algorithm: FieldAlgorithm = FieldAlgorithm.AES_256_GCM

    @field_validator("public_key")
    @classmethod
    def _x25519(cls, value: str) -> str:
        try:
            X25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError) as err:
            raise ValueError("public_key is not a base64 X25519 public key") from err
        return value


class FieldKeyResponse(BaseModel):
    platform_public_key: str = Field(max_length=64)
    algorithm: FieldAlgorithm
    scheme: str = "x25519-hkdf-sha256-v1"


class Encryption(enum.Enum):
    NONE = "none"
    AES_256_GCM = "aes-256-gcm"
    SM4_GCM = "sm4-gcm"


class UploadCreate(BaseModel):
    case_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    media_type: str = Field(min_length=1, max_length=128)
    size: int = Field(ge=1, le=MAX_ATTACHMENT_BYTES, description="Bytes that will be uploaded")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the uploaded bytes")
    plaintext_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file in clear")
    encryption: Encryption = Encryption.NONE
    content: str | None = Field(
        default=None,
        max_length=MAX_INLINE_B64,
        description=(
            "Optional: the whole uploaded bytes, base64 (at most 256 KiB before encoding). The platform "
            "checks them as complete does and answers the session already complete (one request instead "
            "of create, PUT and complete)"
        ),
    )

    def spec(self) -> dict[str, Any]:
        """The session's description: the request without its inline content (what the key is bound to)."""
        return self.model_dump(mode="json", exclude={"content"})

    def inline(self) -> bytes | None:
        """The inline bytes, decoded and as long as announced (400 otherwise), or None."""
        if self.content is None:
            return None
        try:
            data = base64.b64decode(self.content, validate=True)
        except binascii.Error as err:
            raise _problem(status.HTTP_400_BAD_REQUEST, "content is not base64") from err
        if len(data) != self.size:
            raise _problem(
                status.HTTP_400_BAD_REQUEST, f"content has {len(data)} bytes but size announces {self.size}"
            )
        return data


class UploadSession(BaseModel):
    upload_id: str = Field(min_length=1, max_length=64)
    case_id: str = Field(max_length=64)
    name: str = Field(max_length=128)
    size: int = Field(ge=0)
    offset: int = Field(ge=0, description="Bytes committed so far; the next chunk starts here")
    state: Literal["open", "complete"]


class PublicityRecordIn(BaseModel):
    """行政许可双公示 record (§8.4.2) as the terminal queues it."""

    model_config = ConfigDict(extra="allow")

    party_name: str = Field(min_length=1, max_length=200)
    party_type: str = Field(min_length=1, max_length=64)
    id_type: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=64)
    upload_time: str = Field(min_length=1, max_length=64)
    decision_document_name: str = Field(min_length=1, max_length=200)
    decision_document_number: str = Field(min_length=1, max_length=200)
    authority: str = Field(min_length=1, max_length=200)
    permit_category: str = Field(min_length=1, max_length=64)
    content: str = Field(min_length=1, max_length=2000)
    decision_date: dt.date
    case_id: str = Field(default="", max_length=64)


class PublicityUpload(BaseModel):
    publicity_id: str = Field(min_length=1, max_length=64)
    record: PublicityRecordIn


class PublicityRevoke(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    revoked_at: dt.datetime


class PublicityAck(BaseModel):
    publicity_id: str = Field(min_length=1, max_length=64)
    status: Literal["published", "revoked"]
    at: float


class PublishedRecord(BaseModel):
    publicity_id: str
    terminal_id: str
    published_at: float
    record: dict[str, Any]


class Problem(BaseModel):
    detail: str


# --------------------------------------------------------------------------- store


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS field_keys (
        terminal_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, algorithm TEXT NOT NULL, at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS uploads (
        upload_id TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, terminal_id TEXT NOT NULL,
        case_id TEXT NOT NULL, name TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
        sha256 TEXT NOT NULL, plaintext_sha256 TEXT NOT NULL, encryption TEXT NOT NULL,
        offset INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, created_at REAL NOT NULL,
        completed_at REAL)""",
    """CREATE TABLE IF NOT EXISTS opened_cases (case_id TEXT PRIMARY KEY, payload BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS publicity (
        publicity_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, request_sha256 TEXT NOT NULL,
        terminal_id TEXT NOT NULL, record TEXT NOT NULL, published_at REAL NOT NULL,
        revoked_at TEXT, revocation_reason TEXT)""",
    """CREATE TABLE IF NOT EXISTS publicity_revocations (
        idempotency_key TEXT PRIMARY KEY, request_sha256 TEXT NOT NULL, publicity_id TEXT NOT NULL,
        response TEXT NOT NULL)""",
)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha(value: Any) -> str:
    return hashlib.sha256(_canonical(value).encode("utf-8")).hexdigest()


def _problem(code: int, detail: str) -> HTTPException:
    return HTTPException(code, detail)


class OutboxPlatform:
    """The sandbox state behind the router (thread-safe; one connection under a lock)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.parts = self.data_dir / "uploads"
        self.files = self.data_dir / "attachments"
        self.parts.mkdir(parents=True, exist_ok=True)
        self.files.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._conn = open_sqlite(self.data_dir / "outbox_api.sqlite3", _SCHEMA)
        self._x25519 = self._platform_key(self.data_dir / "field_x25519.key")

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @staticmethod
    def _platform_key(path: Path) -> X25519PrivateKey:
        if path.exists():
            return X25519PrivateKey.from_private_bytes(path.read_bytes())
        key = X25519PrivateKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.private_bytes_raw())
        return key

    @property
    def public_key_b64(self) -> str:
        raw = self._x25519.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    # field keys

    def agree(self, terminal_id: str, public_key_b64: str, algorithm: FieldAlgorithm) -> None:
        with self.lock:
            self._conn.execute(
                "INSERT INTO field_keys (terminal_id, public_key, algorithm, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (terminal_id) DO UPDATE SET public_key = excluded.public_key, "
                "algorithm = excluded.algorithm, at = excluded.at",
                (terminal_id, public_key_b64, algorithm.value, time.time()),
            )

    def field_key_for(self, terminal_id: str) -> tuple[bytes, FieldAlgorithm] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT public_key, algorithm FROM field_keys WHERE terminal_id = ?", (terminal_id,)
            ).fetchone()
        if row is None:
            return None
        algorithm = FieldAlgorithm(row[1])
        shared = self._x25519.exchange(X25519PublicKey.from_public_bytes(base64.b64decode(row[0])))
        return field_key(shared, terminal_id, algorithm), algorithm

    def open_for(self, terminal_id: str, blob: bytes, case_id: str, algorithm: str) -> bytes:
        agreed = self.field_key_for(terminal_id)
        if agreed is None:
            raise SealError("no field key agreed with this terminal")
        key, agreed_algorithm = agreed
        if agreed_algorithm.value != algorithm:
            raise SealError("sealed with another algorithm than the agreed one")
        return open_sealed(blob, key, agreed_algorithm, case_id)

    # uploads

    def _session(self, upload_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            "SELECT upload_id, terminal_id, case_id, name, media_type, size, sha256, plaintext_sha256, "
            "encryption, offset, state, request_sha256 FROM uploads WHERE upload_id = ?",
            (upload_id,),
        ).fetchone()
        if row is None:
            return None
        keys = (
            "upload_id",
            "terminal_id",
            "case_id",
            "name",
            "media_type",
            "size",
            "sha256",
            "plaintext_sha256",
            "encryption",
            "offset",
            "state",
            "request_sha256",
        )
        return dict(zip(keys, row, strict=True))

    def session(self, upload_id: str, caller: str) -> dict[str, Any]:
        with self.lock:
            found = self._session(upload_id)
        if found is None or found["terminal_id"] != caller:
            raise _problem(status.HTTP_404_NOT_FOUND, "no such upload")
        return found

    def create(self, key: str, caller: str, req: UploadCreate) -> tuple[dict[str, Any], bool]:
        """Create the session (or find it again); with inline content, check it and complete it at once.

        The key is bound to the spec without the content, so a session opened by the chunked path
        can be finished inline and the other way round.  Inline content that fails complete's
        checks is refused and nothing is stored."""
        spec = req.spec()
        request_sha = _sha(spec)
        inline = req.inline()
        with self.lock:
            found = self._session(key)
            if found is not None:
                if found["terminal_id"] != caller or found["request_sha256"] != request_sha:
                    raise _problem(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different request body",
                    )
                if inline is not None:
                    checked = self._opened(caller, found, inline)
                    if found["state"] != "complete":
                        found = self._finish(key, checked)
                return found, False
            clear = None if inline is None else self._opened(caller, spec, inline)
            self._conn.execute(
                "INSERT INTO uploads (upload_id, request_sha256, terminal_id, case_id, name, media_type, size, "
                "sha256, plaintext_sha256, encryption, offset, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 'open', ?)",
                (
                    key,
                    request_sha,
                    caller,
                    req.case_id,
                    req.name,
                    req.media_type,
                    req.size,
                    req.sha256,
                    req.plaintext_sha256,
                    req.encryption.value,
                    time.time(),
                ),
            )
            (self.parts / key).write_bytes(b"")
            created = self._session(key) if clear is None else self._finish(key, clear)
        assert created is not None
        return created, True

    def append(self, upload_id: str, caller: str, content_range: str | None, body: bytes) -> dict[str, Any]:
        match = _RANGE.match(content_range or "")
        if match is None:
            raise _problem(status.HTTP_400_BAD_REQUEST, "Content-Range must be 'bytes start-end/total'")
        start, end, total = (int(g) for g in match.groups())
        if end < start or end - start + 1 != len(body):
            raise _problem(status.HTTP_400_BAD_REQUEST, "Content-Range does not match the body length")
        if len(body) > MAX_CHUNK_BYTES:
            raise _problem(status.HTTP_400_BAD_REQUEST, f"chunks are at most {MAX_CHUNK_BYTES} bytes")
        with self.lock:
            found = self.session(upload_id, caller)
            if total != found["size"] or end >= total:
                raise _problem(status.HTTP_400_BAD_REQUEST, "Content-Range total is not the announced size")
            offset = int(found["offset"])
            if start > offset:
                raise HTTPException(
                    status.HTTP_416_RANGE_NOT_SATISFIABLE,
                    f"chunk starts at {start} but {offset} bytes are committed",
                    headers={"Upload-Offset": str(offset)},
                )
            if found["state"] == "complete" or end < offset:
                return found  # a repeated chunk: already committed
            fresh = body[offset - start :]
            with (self.parts / upload_id).open("r+b") as fh:
                fh.seek(offset)
                fh.write(fresh)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            self._conn.execute(
                "UPDATE uploads SET offset = ? WHERE upload_id = ?", (offset + len(fresh), upload_id)
            )
            updated = self._session(upload_id)
        assert updated is not None
        return updated

    def complete(self, upload_id: str, caller: str) -> dict[str, Any]:
        with self.lock:
            found = self.session(upload_id, caller)
            if found["state"] == "complete":
                return found
            if found["offset"] != found["size"]:
                raise _problem(
                    status.HTTP_409_CONFLICT, f"only {found['offset']} of {found['size']} bytes are committed"
                )
            try:
                clear = self._opened(caller, found, (self.parts / upload_id).read_bytes())
            except HTTPException:
                self._reset(upload_id)
                raise
            return self._finish(upload_id, clear)

    def _opened(self, caller: str, spec: dict[str, Any], data: bytes) -> bytes:
        """The clear file of the uploaded ``data`` after checking both hashes of ``spec`` (422 if not)."""
        if hashlib.sha256(data).hexdigest() != spec["sha256"]:
            raise _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "sha256 of the upload does not match")
        clear = data
        if spec["encryption"] != Encryption.NONE.value:
            try:
                clear = self.open_for(caller, data, spec["case_id"], spec["encryption"])
            except SealError as err:
                raise _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cannot open: {err}") from err
        if hashlib.sha256(clear).hexdigest() != spec["plaintext_sha256"]:
            raise _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, "plaintext_sha256 does not match")
        return clear

    def _finish(self, upload_id: str, clear: bytes) -> dict[str, Any]:
        """Keep the checked clear file and mark the session complete (every byte committed)."""
        (self.files / upload_id).write_bytes(clear)
        (self.parts / upload_id).unlink(missing_ok=True)
        self._conn.execute(
            "UPDATE uploads SET state = 'complete', offset = size, completed_at = ? WHERE upload_id = ?",
            (time.time(), upload_id),
        )
        done = self._session(upload_id)
        assert done is not None
        log.info("sandbox: attachment %s of case %s complete", upload_id, done["case_id"])
        return done

    def _reset(self, upload_id: str) -> None:
        self._conn.execute("UPDATE uploads SET offset = 0 WHERE upload_id = ?", (upload_id,))
        (self.parts / upload_id).write_bytes(b"")

    def attachment(self, case_id: str, name: str) -> tuple[dict[str, Any], bytes] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT upload_id FROM uploads WHERE case_id = ? AND name = ? AND state = 'complete' "
                "ORDER BY completed_at DESC LIMIT 1",
                (case_id, name),
            ).fetchone()
            found = None if row is None else self._session(row[0])
        if found is None:
            return None
        return found, (self.files / found["upload_id"]).read_bytes()

    # cases (called from the case upload, inside the platform's lock)

    def check_case(self, caller: str, case: Any, payload: bytes) -> None:
        """Attachments referenced by the case must be complete; a sealed payload must open."""
        refs = case.attachments or []
        with self.lock:
            for ref in refs:
                found = self._session(ref.attachment_id)
                if (
                    found is None
                    or found["terminal_id"] != caller
                    or found["case_id"] != case.case_id
                    or found["state"] != "complete"
                    or found["plaintext_sha256"] != ref.sha256
                ):
                    raise _problem(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "the case references an attachment that was not uploaded completely",
                    )
        algorithm = case.encryption
        if algorithm is None:
            return
        try:
            clear = self.open_for(caller, payload, case.case_id, str(algorithm))
        except SealError as err:
            raise _problem(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cannot open the case: {err}") from err
        with self.lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO opened_cases (case_id, payload) VALUES (?, ?)", (case.case_id, clear)
            )

    def opened_case(self, case_id: str) -> bytes | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT payload FROM opened_cases WHERE case_id = ?", (case_id,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    # publicity

    def publish(self, key: str, caller: str, req: PublicityUpload) -> tuple[PublicityAck, bool]:
        request = req.model_dump(mode="json")
        request_sha = _sha(request)
        with self.lock:
            row = self._conn.execute(
                "SELECT request_sha256, publicity_id, published_at FROM publicity WHERE idempotency_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if row[0] != request_sha:
                    raise _problem(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different request body",
                    )
                return PublicityAck(publicity_id=row[1], status="published", at=row[2]), False
            if self._conn.execute(
                "SELECT 1 FROM publicity WHERE publicity_id = ?", (req.publicity_id,)
            ).fetchone():
                raise _problem(status.HTTP_409_CONFLICT, "publicity id already received under another key")
            now = time.time()
            self._conn.execute(
                "INSERT INTO publicity (publicity_id, idempotency_key, request_sha256, terminal_id, record, "
                "published_at) VALUES (?, ?, ?, ?, ?, ?)",
                (req.publicity_id, key, request_sha, caller, _canonical(request["record"]), now),
            )
        return PublicityAck(publicity_id=req.publicity_id, status="published", at=now), True

    def revoke(
        self, key: str, caller: str, publicity_id: str, req: PublicityRevoke
    ) -> tuple[PublicityAck, bool]:
        request_sha = _sha({"publicity_id": publicity_id, **req.model_dump(mode="json")})
        with self.lock:
            row = self._conn.execute(
                "SELECT request_sha256, response FROM publicity_revocations WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if row is not None:
                if row[0] != request_sha:
                    raise _problem(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different request body",
                    )
                return PublicityAck(**json.loads(row[1])), False
            found = self._conn.execute(
                "SELECT terminal_id FROM publicity WHERE publicity_id = ?", (publicity_id,)
            ).fetchone()
            if found is None or found[0] != caller:
                raise _problem(status.HTTP_404_NOT_FOUND, "no such publicity record")
            ack = PublicityAck(publicity_id=publicity_id, status="revoked", at=time.time())
            self._conn.execute(
                "UPDATE publicity SET revoked_at = ?, revocation_reason = ? WHERE publicity_id = ?",
                (req.revoked_at.isoformat(), req.reason, publicity_id),
            )
            self._conn.execute(
                "INSERT INTO publicity_revocations (idempotency_key, request_sha256, publicity_id, response) "
                "VALUES (?, ?, ?, ?)",
                (key, request_sha, publicity_id, _canonical(ack.model_dump(mode="json"))),
            )
        return ack, True

    def published(self) -> list[PublishedRecord]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT publicity_id, terminal_id, published_at, record FROM publicity "
                "WHERE revoked_at IS NULL ORDER BY published_at"
            ).fetchall()
        return [
            PublishedRecord(publicity_id=r[0], terminal_id=r[1], published_at=r[2], record=json.loads(r[3]))
            for r in rows
        ]

    def all_publicity(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT publicity_id, idempotency_key, terminal_id, record, published_at, revoked_at, "
                "revocation_reason FROM publicity ORDER BY published_at"
            ).fetchall()
        keys = (
            "publicity_id",
            "idempotency_key",
            "terminal_id",
            "record",
            "published_at",
            "revoked_at",
            "revocation_reason",
        )
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for entry in out:
            entry["record"] = json.loads(entry["record"])
        return out


def _session_model(found: dict[str, Any]) -> UploadSession:
    return UploadSession(
        upload_id=found["upload_id"],
        case_id=found["case_id"],
        name=found["name"],
        size=found["size"],
        offset=found["offset"],
        state=found["state"],
    )


_KEY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Missing/invalid Idempotency-Key or a bad request"},
    422: {"model": Problem, "description": "Key reused with a different body, or an invalid body"},
}


def outbox_router(state: OutboxPlatform, terminal: Callable[..., str]) -> APIRouter:
    """The routes; ``terminal`` is the platform's authentication dependency (the calling terminal)."""
    router = APIRouter()

    @router.post(
        f"{API}/terminals/{{terminal_id}}/field-key", response_model=FieldKeyResponse, tags=["terminals"]
    )
    def agree_field_key(
        terminal_id: str, req: FieldKeyRequest, caller: str = Depends(terminal)
    ) -> FieldKeyResponse:
        if caller != terminal_id:
            raise _problem(status.HTTP_403_FORBIDDEN, "token belongs to another terminal")
        state.agree(terminal_id, req.public_key, req.algorithm)
        return FieldKeyResponse(platform_public_key=state.public_key_b64, algorithm=req.algorithm)

    @router.post(
        f"{API}/uploads",
        response_model=UploadSession,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": UploadSession, "description": "Replay: the session already exists"},
            **_KEY_ERRORS,
            422: {
                "model": Problem,
                "description": "Key reused with a different body, an invalid body, or inline content "
                "that fails complete's checks (SHA-256 mismatch, the sealed file does not open)",
            },
        },
        tags=["uploads"],
    )
    def create_upload(
        req: UploadCreate,
        response: Response,
        caller: str = Depends(terminal),
        idempotency_key: str | None = Header(default=None),
    ) -> UploadSession:
        found, created = state.create(auth.idempotency_key(idempotency_key), caller, req)
        if not created:
            auth.answer_replayed(response)
        return _session_model(found)

    @router.get(f"{API}/uploads/{{upload_id}}", response_model=UploadSession, tags=["uploads"])
    def upload_status(upload_id: str, response: Response, caller: str = Depends(terminal)) -> UploadSession:
        found = state.session(upload_id, caller)
        response.headers["Upload-Offset"] = str(found["offset"])
        return _session_model(found)

    @router.put(
        f"{API}/uploads/{{upload_id}}",
        response_model=UploadSession,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
        responses={
            400: {"model": Problem, "description": "Bad Content-Range"},
            416: {"model": Problem, "description": "The chunk starts after the committed offset"},
        },
        tags=["uploads"],
    )
    async def put_chunk(
        upload_id: str,
        request: Request,
        response: Response,
        caller: str = Depends(terminal),
        content_range: str | None = Header(default=None),
    ) -> UploadSession:
        try:
            body = await request.body()
        except ClientDisconnect as err:  # the connection dropped mid-chunk: nothing is committed
            log.info("sandbox: chunk of upload %s cut off; not committed", upload_id)
            raise _problem(status.HTTP_400_BAD_REQUEST, "incomplete chunk") from err
        found = state.append(upload_id, caller, content_range, body)
        response.headers["Upload-Offset"] = str(found["offset"])
        return _session_model(found)

    @router.post(
        f"{API}/uploads/{{upload_id}}/complete",
        response_model=UploadSession,
        responses={
            409: {"model": Problem, "description": "Not every byte is committed yet"},
            422: {"model": Problem, "description": "SHA-256 mismatch or the sealed file does not open"},
        },
        tags=["uploads"],
    )
    def complete_upload(upload_id: str, caller: str = Depends(terminal)) -> UploadSession:
        return _session_model(state.complete(upload_id, caller))

    @router.get(
        f"{API}/cases/{{case_id}}/certificate",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}, "description": "The certificate PDF"}},
        tags=["cases"],
    )
    def get_certificate(case_id: str, caller: str = Depends(terminal)) -> Response:
        found = state.attachment(case_id, "certificate")
        if found is None or found[0]["terminal_id"] != caller:  # only the terminal that uploaded it
            raise _problem(status.HTTP_404_NOT_FOUND, "no certificate for this case")
        meta, body = found
        return Response(
            body, media_type=meta["media_type"], headers={SHA256_HEADER: meta["plaintext_sha256"]}
        )

    @router.post(
        f"{API}/publicity",
        response_model=PublicityAck,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {
                "model": PublicityAck,
                "description": "Replay: this key was seen before with the same body",
            },
            409: {"model": Problem, "description": "The publicity id was received under another key"},
            **_KEY_ERRORS,
        },
        tags=["publicity"],
    )
    def post_publicity(
        req: PublicityUpload,
        response: Response,
        caller: str = Depends(terminal),
        idempotency_key: str | None = Header(default=None),
    ) -> PublicityAck:
        key = auth.idempotency_key(idempotency_key)
        rec = req.record
        if rec.id_type == "resident_id" and _RESIDENT_ID.match(rec.id_number):
            raise _problem(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "a natural person's ID number must be masked for publication",
            )
        ack, created = state.publish(key, caller, req)
        if not created:
            auth.answer_replayed(response)
        return ack

    @router.post(
        f"{API}/publicity/{{publicity_id}}/revoke",
        response_model=PublicityAck,
        responses={
            200: {"model": PublicityAck, "description": "Revoked (or a replay of the same revocation)"},
            **_KEY_ERRORS,
        },
        tags=["publicity"],
    )
    def revoke_publicity(
        publicity_id: str,
        req: PublicityRevoke,
        caller: str = Depends(terminal),
        idempotency_key: str | None = Header(default=None),
    ) -> PublicityAck:
        ack, _ = state.revoke(auth.idempotency_key(idempotency_key), caller, publicity_id, req)
        return ack

    @router.get(f"{API}/publicity", response_model=list[PublishedRecord], tags=["publicity"])
    def list_publicity(caller: str = Depends(terminal)) -> list[PublishedRecord]:
        return state.published()

    @router.get("/_sandbox/publicity", tags=["sandbox"])
    def sandbox_publicity() -> list[dict[str, Any]]:
        return state.all_publicity()

    @router.get("/_sandbox/cases/{case_id}/opened", tags=["sandbox"])
    def sandbox_opened_case(case_id: str) -> dict[str, Any]:
        """What the platform reads after opening the sealed case (tests)."""
        clear = state.opened_case(case_id)
        if clear is None:
            raise _problem(status.HTTP_404_NOT_FOUND, "no sealed case opened under this id")
        return {"case_id": case_id, "payload_b64": base64.b64encode(clear).decode("ascii")}

    @router.get("/_sandbox/cases/{case_id}/attachments/{name}", response_class=Response, tags=["sandbox"])
    def sandbox_attachment(case_id: str, name: str) -> Response:
        """A case's attachment as the platform stored it after opening it (tests)."""
        found = state.attachment(case_id, name)
        if found is None:
            raise _problem(status.HTTP_404_NOT_FOUND, "no complete attachment under this name")
        meta, body = found
        return Response(
            body, media_type=meta["media_type"], headers={SHA256_HEADER: meta["plaintext_sha256"]}
        )

    return router
