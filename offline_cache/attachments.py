"""Files that belong to a case (material page images, signature, face frame, certificate PDF):
``store.attachments``.  They are uploaded in resumable chunks before the body that references
them; the retention wipe drops their bodies once uploaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from offline_cache import audit
from offline_cache.db import Database


@dataclass(frozen=True)
class NewAttachment:
    """A file that belongs to a case (material page image, signature, certificate PDF)."""

    attachment_id: str  # a UUID: the upload session's idempotency key on the platform
    name: str  # unique within the case, e.g. "material:lease:0", "signature", "certificate"
    media_type: str
    body: bytes

    def __repr__(self) -> str:
        return f"NewAttachment({self.attachment_id!r}, {self.name!r}, {len(self.body)} bytes)"


@dataclass(frozen=True)
class StoredAttachment:
    attachment_id: str
    case_id: str
    name: str
    media_type: str
    sha256: str  # of the body in clear
    size: int
    body: bytes | None  # None once the retention period wiped it
    uploaded_at: float | None

    def __repr__(self) -> str:
        return f"StoredAttachment({self.attachment_id!r}, {self.name!r}, uploaded_at={self.uploaded_at})"


def insert(db: sqlite_utils.Database, case_id: str, attachment: NewAttachment, at: float) -> None:
    """Store an attachment inside the caller's write transaction."""
    db.execute(
        "INSERT INTO attachments (attachment_id, case_id, name, media_type, sha256, size, body, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            attachment.attachment_id,
            case_id,
            attachment.name,
            attachment.media_type,
            hashlib.sha256(attachment.body).hexdigest(),
            len(attachment.body),
            attachment.body,
            at,
        ),
    )


_SELECT = "SELECT attachment_id, case_id, name, media_type, sha256, size, body, uploaded_at FROM attachments"


def _row(r: Any) -> StoredAttachment:
    return StoredAttachment(r[0], r[1], r[2], r[3], r[4], r[5], None if r[6] is None else bytes(r[6]), r[7])


class Attachments:
    """Read attachments and record their upload."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def for_case(self, case_id: str) -> list[StoredAttachment]:
        """A case's attachments in the order they were stored."""
        with self._database.read() as db:
            rows = db.execute(_SELECT + " WHERE case_id = ? ORDER BY rowid", (case_id,)).fetchall()
        return [_row(r) for r in rows]

    def get(self, attachment_id: str) -> StoredAttachment | None:
        with self._database.read() as db:
            r = db.execute(_SELECT + " WHERE attachment_id = ?", (attachment_id,)).fetchone()
        return None if r is None else _row(r)

    def mark_uploaded(self, attachment_id: str, at: float) -> None:
        """The platform confirmed the whole attachment (its SHA-256 checked)."""
        with self._database.write() as db:
            cur = db.execute(
                "UPDATE attachments SET uploaded_at = ? WHERE attachment_id = ? AND uploaded_at IS NULL",
                (at, attachment_id),
            )
            if cur.rowcount == 1:
                audit.append(db, "attachment.uploaded", {"attachment_id": attachment_id}, at)
