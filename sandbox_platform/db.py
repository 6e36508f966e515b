"""The sandbox platform's own SQLite store (plain sqlite3; independent of offline_cache)."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS terminals (
        terminal_id TEXT PRIMARY KEY,
        token_sha256 TEXT NOT NULL UNIQUE,
        public_info TEXT NOT NULL,
        enrolled_at REAL NOT NULL,
        last_heartbeat_at REAL,
        device_status TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS cases (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        request_sha256 TEXT NOT NULL,
        case_id TEXT NOT NULL UNIQUE,
        item_id TEXT NOT NULL,
        terminal_id TEXT NOT NULL,
        request TEXT NOT NULL,
        response TEXT NOT NULL,
        platform_ref TEXT NOT NULL,
        received_at REAL NOT NULL,
        status TEXT NOT NULL
    )""",
    # The heartbeat's optional fields (version, consumables, queues, clock skew), last one per terminal.
    """CREATE TABLE IF NOT EXISTS heartbeat_telemetry (
        terminal_id TEXT PRIMARY KEY,
        telemetry TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS enrolment_codes (
        code_sha256 TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        issued_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        used_at REAL
    )""",
)


def open_sqlite(path: Path, schema: Iterable[str]) -> sqlite3.Connection:
    """One of the sandbox's SQLite files: autocommit connection shared across threads (callers
    hold their own lock), WAL, synchronous FULL, ``schema`` applied (``CREATE ... IF NOT EXISTS``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    for statement in schema:
        conn.execute(statement)
    return conn


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredCaseResponse:
    request_sha256: str
    response: dict[str, Any]


class PlatformDB:
    """Thread-safe wrapper over one sqlite3 connection."""

    def __init__(self, path: Path) -> None:
        self._conn = open_sqlite(path, _SCHEMA)
        self.lock = threading.RLock()
        with self.lock:
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(terminals)")}
            if "public_key" not in columns:  # sandbox data dirs from before signed requests
                self._conn.execute("ALTER TABLE terminals ADD COLUMN public_key TEXT")
            if "revoked_at" not in columns:
                self._conn.execute("ALTER TABLE terminals ADD COLUMN revoked_at REAL")

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    # terminals

    def enrol(
        self, terminal_id: str, public_info: dict[str, Any], public_key: str | None = None
    ) -> str | None:
        """Enrol (or re-enrol) a terminal; None when it was revoked (revocation sticks)."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            row = self._conn.execute(
                "SELECT revoked_at FROM terminals WHERE terminal_id = ?", (terminal_id,)
            ).fetchone()
            if row is not None and row[0] is not None:
                return None
            self._conn.execute(
                "INSERT INTO terminals (terminal_id, token_sha256, public_info, enrolled_at, public_key) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (terminal_id) DO UPDATE SET token_sha256 = excluded.token_sha256, "
                "public_info = excluded.public_info, enrolled_at = excluded.enrolled_at, "
                "public_key = excluded.public_key",
                (terminal_id, token_digest(token), canonical_json(public_info), time.time(), public_key),
            )
        return token

    def issue_code(self, terminal_id: str, ttl_s: float = 86400.0) -> str:
        """A one-time enrolment code for ``terminal_id`` (only its digest is kept)."""
        code = secrets.token_urlsafe(18)
        now = time.time()
        with self.lock:
            self._conn.execute(
                "INSERT INTO enrolment_codes (code_sha256, terminal_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_digest(code), terminal_id, now, now + ttl_s),
            )
        return code

    def use_code(self, terminal_id: str, code: str) -> bool:
        """Spend ``code`` for ``terminal_id``: True once, if it was issued for that id and is still valid."""
        with self.lock:
            cur = self._conn.execute(
                "UPDATE enrolment_codes SET used_at = ? WHERE code_sha256 = ? AND terminal_id = ? "
                "AND used_at IS NULL AND expires_at > ?",
                (time.time(), token_digest(code), terminal_id, time.time()),
            )
        return cur.rowcount == 1

    def terminal_for_token(self, token: str) -> str | None:
        """The terminal a bearer token belongs to (None if unknown or revoked)."""
        with self.lock:
            row = self._conn.execute(
                "SELECT terminal_id FROM terminals WHERE token_sha256 = ? AND revoked_at IS NULL",
                (token_digest(token),),
            ).fetchone()
        return None if row is None else str(row[0])

    def terminal_key(self, terminal_id: str) -> tuple[str | None, bool] | None:
        """(enrolled public key or None, revoked?) of a terminal; None if it never enrolled."""
        with self.lock:
            row = self._conn.execute(
                "SELECT public_key, revoked_at FROM terminals WHERE terminal_id = ?", (terminal_id,)
            ).fetchone()
        return None if row is None else (row[0], row[1] is not None)

    def revoke(self, terminal_id: str) -> bool:
        with self.lock:
            cur = self._conn.execute(
                "UPDATE terminals SET revoked_at = ? WHERE terminal_id = ?", (time.time(), terminal_id)
            )
        return cur.rowcount == 1

    def heartbeat(
        self, terminal_id: str, device_status: dict[str, Any], telemetry: dict[str, Any] | None = None
    ) -> None:
        with self.lock:
            self._conn.execute(
                "UPDATE terminals SET last_heartbeat_at = ?, device_status = ? WHERE terminal_id = ?",
                (time.time(), canonical_json(device_status), terminal_id),
            )
            if telemetry:  # a heartbeat with the device statuses alone keeps the last version, queues, ...
                self._conn.execute(
                    "INSERT OR REPLACE INTO heartbeat_telemetry (terminal_id, telemetry) VALUES (?, ?)",
                    (terminal_id, canonical_json(telemetry)),
                )

    def terminals(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT t.terminal_id, public_info, enrolled_at, last_heartbeat_at, device_status, telemetry "
                "FROM terminals t LEFT JOIN heartbeat_telemetry h ON h.terminal_id = t.terminal_id "
                "ORDER BY t.terminal_id"
            ).fetchall()
        return [
            {
                "terminal_id": r[0],
                "public_info": json.loads(r[1]),
                "enrolled_at": r[2],
                "last_heartbeat_at": r[3],
                "device_status": None if r[4] is None else json.loads(r[4]),
                "telemetry": {} if r[5] is None else json.loads(r[5]),
            }
            for r in rows
        ]

    # cases (callers hold self.lock across lookup + insert)

    def case_by_key(self, key: str) -> StoredCaseResponse | None:
        row = self._conn.execute(
            "SELECT request_sha256, response FROM cases WHERE idempotency_key = ?", (key,)
        ).fetchone()
        return None if row is None else StoredCaseResponse(row[0], json.loads(row[1]))

    def case_exists(self, case_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone() is not None

    def next_seq(self) -> int:
        row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases").fetchone()
        return int(row[0])

    def insert_case(
        self,
        *,
        key: str,
        request_sha256: str,
        request: dict[str, Any],
        response: dict[str, Any],
    ) -> None:
        self._conn.execute(
            "INSERT INTO cases (idempotency_key, request_sha256, case_id, item_id, terminal_id, request, "
            "response, platform_ref, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                request_sha256,
                request["case_id"],
                request["item_id"],
                request["terminal_id"],
                canonical_json(request),
                canonical_json(response),
                response["platform_ref"],
                response["received_at"],
                response["status"],
            ),
        )

    def case(self, case_id: str) -> dict[str, Any] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT case_id, item_id, terminal_id, platform_ref, received_at, status FROM cases "
                "WHERE case_id = ?",
                (case_id,),
            ).fetchone()
        if row is None:
            return None
        keys = ("case_id", "item_id", "terminal_id", "platform_ref", "received_at", "status")
        return dict(zip(keys, row, strict=True))

    def case_ids(self, terminal_id: str) -> list[str]:
        """The ids of the cases one terminal delivered, oldest first (no bodies: a long soak's
        terminal has tens of thousands)."""
        with self.lock:
            rows = self._conn.execute(
                "SELECT case_id FROM cases WHERE terminal_id = ? ORDER BY seq", (terminal_id,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    def all_cases(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT idempotency_key, request, response FROM cases ORDER BY seq"
            ).fetchall()
        out = []
        for key, request, response in rows:
            entry = json.loads(request)
            entry.update(json.loads(response))
            entry["idempotency_key"] = key
            out.append(entry)
        return out
