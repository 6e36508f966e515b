"""The hash-chained audit trail (R-SEC "留痕") and the store's key/value ``meta`` table.

Each audit row's hash covers the previous row's hash and the row itself (canonical JSON); the head
(sequence number and hash of the last row) is kept in ``meta`` too, so cutting rows off the end is
detected as well as editing, inserting, removing or reordering them.  Other sub-stores append their
audit row inside their own write transaction with :func:`append`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from offline_cache.db import Database

#: Hash that precedes the first audit row.
GENESIS_HASH = "0" * 64
AUDIT_HEAD_KEY = "audit.head"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: float
    event: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form the audit hash covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def audit_hash(prev_hash: str, seq: int, at: float, event: str, details_json: str) -> str:
    body = canonical_json({"seq": seq, "at": at, "event": event, "details": json.loads(details_json)})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _put_meta(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def append(db: sqlite_utils.Database, event: str, details: Mapping[str, Any], at: float) -> int:
    """Append an audit row inside the caller's write transaction; returns its sequence number."""
    details_json = canonical_json(dict(details))
    row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev_hash = (1, GENESIS_HASH) if row is None else (row[0] + 1, row[1])
    digest = audit_hash(prev_hash, seq, at, event, details_json)
    db.execute(
        "INSERT INTO audit (seq, at, event, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
        (seq, at, event, details_json, prev_hash, digest),
    )
    _put_meta(db, AUDIT_HEAD_KEY, f"{seq}:{digest}")
    return int(seq)


class AuditTrail:
    """``store.audit_trail``: append, read and verify the chain."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def append(self, event: str, details: Mapping[str, Any], *, at: float | None = None) -> int:
        """Append an audit row (hash-chained); returns its sequence number.

        ``details`` must be JSON-serialisable and must not hold personal data in clear.
        """
        with self._database.write() as db:
            return append(db, event, details, self._database.clock() if at is None else at)

    def records(self, since_seq: int = 0) -> list[AuditRecord]:
        with self._database.read() as db:
            rows = db.execute(
                "SELECT seq, at, event, details, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq",
                (since_seq,),
            ).fetchall()
        return [AuditRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def verify(self) -> bool:
        """Recompute the chain; False if any row was edited, removed, inserted or reordered."""
        with self._database.read() as db:
            rows = db.execute(
                "SELECT seq, at, event, details, prev_hash, hash FROM audit ORDER BY seq"
            ).fetchall()
            head = db.execute("SELECT value FROM meta WHERE key = ?", (AUDIT_HEAD_KEY,)).fetchone()
        prev = GENESIS_HASH
        expected_seq = 1
        for seq, at, event, details_json, prev_hash, digest in rows:
            if seq != expected_seq or prev_hash != prev:
                return False
            try:
                if audit_hash(prev_hash, seq, at, event, details_json) != digest:
                    return False
            except (ValueError, TypeError):
                return False
            prev = digest
            expected_seq += 1
        if not rows:
            return head is None
        return head is not None and head[0] == f"{expected_seq - 1}:{prev}"


class Meta:
    """``store.meta``: small terminal settings and counters (the audit head is not the caller's)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def get(self, key: str) -> str | None:
        with self._database.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        if key == AUDIT_HEAD_KEY:
            raise ValueError("the audit head is maintained by the store")
        with self._database.write() as db:
            _put_meta(db, key, value)

    def delete(self, key: str) -> None:
        with self._database.write() as db:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def next_sequence(self, key: str) -> int:
        """Increment the counter ``key`` (0 when absent) and return the new value.

        Read and write happen in one committed write transaction (``synchronous=FULL``): a number
        returned here is on disk before the caller uses it, so it is never handed out twice,
        not even after a crash (queue tickets)."""
        if key == AUDIT_HEAD_KEY:
            raise ValueError("the audit head is maintained by the store")
        with self._database.write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = (int(row[0]) if row is not None else 0) + 1
            _put_meta(db, key, str(value))
        return value
