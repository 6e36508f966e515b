"""What the platform keeps of remote-help calls: the call record and the recordings.

* **Calls**: one row per call (terminal, item, consent, created, accepted, ended, agent, end
  reason, call-back request) and its events (who did what, when: join, accept, chat, field edit,
  remote acceptance, end).  Chat texts are kept with the call, as the case's other records are.
* **Recordings**: uploaded by the terminal after the call; stored encrypted at rest with
  AES-256-GCM under a platform key (a 0600 file in the data directory), the call id as associated
  data; deleted, with their row, once older than the retention limit (:meth:`AssistStore.purge`,
  run at every upload and on the sandbox hook).
* **Agents**: the back-office accounts that may open the console (a token each, kept as a digest).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sandbox_platform.db import open_sqlite, token_digest

#: Recordings older than this are deleted (days).
DEFAULT_RETENTION_DAYS = 30.0
#: Largest recording the platform takes in one upload (the request body limit of the platform).
MAX_RECORDING_BYTES = 8 * 1024 * 1024

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS assist_calls (
        call_id TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, item_id TEXT, consent TEXT NOT NULL,
        created REAL NOT NULL, accepted REAL, agent_id TEXT, agent_name TEXT, ended REAL,
        end_reason TEXT, ended_by TEXT, callback_requested INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE IF NOT EXISTS assist_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, call_id TEXT NOT NULL, at REAL NOT NULL,
        who TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS assist_recordings (
        recording_id TEXT PRIMARY KEY, call_id TEXT NOT NULL, name TEXT NOT NULL,
        media_type TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
        created REAL NOT NULL, path TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS assist_agents (
        agent_id TEXT PRIMARY KEY, name TEXT NOT NULL, token_sha256 TEXT NOT NULL UNIQUE
    )""",
)


def _key(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes()
    key = AESGCM.generate_key(bit_length=256)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


class AssistStore:
    """The SQLite record of calls, agents and recordings, and the encrypted recording files."""

    def __init__(self, data_dir: Path, retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        self.dir = data_dir / "assist"
        self.recordings_dir = self.dir / "recordings"
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        self.retention_days = retention_days
        self._aead = AESGCM(_key(self.dir / "recording.key"))
        self._conn = open_sqlite(self.dir / "assist.sqlite3", _SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ agents

    def add_agent(self, agent_id: str, name: str) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO assist_agents VALUES (?, ?, ?)", (agent_id, name, token_digest(token))
            )
        return token

    def agent_for_token(self, token: str) -> tuple[str, str] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT agent_id, name FROM assist_agents WHERE token_sha256 = ?", (token_digest(token),)
            ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    # ------------------------------------------------------------------ calls

    def open_call(self, call_id: str, terminal_id: str, item_id: str | None, consent: dict[str, Any]) -> None:
        now = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO assist_calls (call_id, terminal_id, item_id, consent, created) VALUES (?, ?, ?, ?, ?)",
                (call_id, terminal_id, item_id, json.dumps(consent, sort_keys=True), now),
            )
        self.event(call_id, f"terminal:{terminal_id}", "join", {"item_id": item_id, "consent": consent})

    def accept(self, call_id: str, agent_id: str, agent_name: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE assist_calls SET accepted = ?, agent_id = ?, agent_name = ? WHERE call_id = ?",
                (time.time(), agent_id, agent_name, call_id),
            )
        self.event(call_id, f"agent:{agent_id}", "accept", {})

    def end(self, call_id: str, who: str, reason: str, *, callback: bool = False) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE assist_calls SET ended = ?, end_reason = ?, ended_by = ?, callback_requested = ? "
                "WHERE call_id = ? AND ended IS NULL",
                (time.time(), reason, who, int(callback), call_id),
            )
        self.event(call_id, who, "end", {"reason": reason, "callback_requested": callback})

    def event(self, call_id: str, who: str, kind: str, detail: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO assist_events (call_id, at, who, kind, detail) VALUES (?, ?, ?, ?, ?)",
                (call_id, time.time(), who, kind, json.dumps(detail, sort_keys=True, ensure_ascii=False)),
            )

    def call(self, call_id: str) -> dict[str, Any] | None:
        with self._lock:
            cur = self._conn.execute("SELECT * FROM assist_calls WHERE call_id = ?", (call_id,))
            row = cur.fetchone()
            if row is None:
                return None
            names = [d[0] for d in cur.description]
            events = self._conn.execute(
                "SELECT at, who, kind, detail FROM assist_events WHERE call_id = ? ORDER BY seq", (call_id,)
            ).fetchall()
            recs = self._conn.execute(
                "SELECT recording_id, name, media_type, sha256, size, created FROM assist_recordings "
                "WHERE call_id = ? ORDER BY created",
                (call_id,),
            ).fetchall()
        record = dict(zip(names, row, strict=True))
        record["consent"] = json.loads(record["consent"])
        record["callback_requested"] = bool(record["callback_requested"])
        record["events"] = [
            {"at": at, "who": who, "kind": kind, "detail": json.loads(detail)}
            for at, who, kind, detail in events
        ]
        record["recordings"] = [
            {
                "recording_id": r[0],
                "name": r[1],
                "media_type": r[2],
                "sha256": r[3],
                "size": r[4],
                "created": r[5],
            }
            for r in recs
        ]
        return record

    def calls(self) -> list[dict[str, Any]]:
        with self._lock:
            ids = [r[0] for r in self._conn.execute("SELECT call_id FROM assist_calls ORDER BY created")]
        return [c for c in (self.call(i) for i in ids) if c is not None]

    def callbacks(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest call-back requests (no agent answered in time), newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT call_id, terminal_id, item_id, created FROM assist_calls WHERE callback_requested = 1 "
                "ORDER BY created DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [{"call_id": r[0], "terminal_id": r[1], "item_id": r[2], "created": r[3]} for r in rows]

    def terminal_of(self, call_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT terminal_id FROM assist_calls WHERE call_id = ?", (call_id,)
            ).fetchone()
        return str(row[0]) if row else None

    # ------------------------------------------------------------------ recordings

    def store_recording(self, call_id: str, name: str, media_type: str, body: bytes) -> dict[str, Any]:
        """Encrypt and keep ``body`` (AES-256-GCM, call id as associated data); its record."""
        self.purge()
        recording_id = secrets.token_hex(8)
        nonce = secrets.token_bytes(12)
        sealed = nonce + self._aead.encrypt(nonce, body, call_id.encode())
        path = self.recordings_dir / f"{recording_id}.bin"
        path.write_bytes(sealed)
        digest = hashlib.sha256(body).hexdigest()
        created = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO assist_recordings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (recording_id, call_id, name, media_type, digest, len(body), created, str(path)),
            )
        self.event(call_id, "platform", "recording", {"recording_id": recording_id, "size": len(body)})
        return {
            "recording_id": recording_id,
            "call_id": call_id,
            "name": name,
            "media_type": media_type,
            "sha256": digest,
            "size": len(body),
            "created": created,
            "retention_days": self.retention_days,
        }

    def recording_path(self, recording_id: str) -> Path | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT path FROM assist_recordings WHERE recording_id = ?", (recording_id,)
            ).fetchone()
        return Path(row[0]) if row else None

    def open_recording(self, call_id: str, recording_id: str) -> bytes:
        """The recording in clear (staff access; raises if missing or tampered with)."""
        path = self.recording_path(recording_id)
        if path is None:
            raise KeyError(recording_id)
        sealed = path.read_bytes()
        return self._aead.decrypt(sealed[:12], sealed[12:], call_id.encode())

    def purge(self, now: float | None = None) -> int:
        """Delete the recordings older than the retention limit; how many were deleted."""
        cutoff = (now if now is not None else time.time()) - self.retention_days * 86400.0
        with self._lock:
            rows = self._conn.execute(
                "SELECT recording_id, call_id, path FROM assist_recordings WHERE created < ?", (cutoff,)
            ).fetchall()
            for recording_id, _call, path in rows:
                Path(path).unlink(missing_ok=True)
                self._conn.execute("DELETE FROM assist_recordings WHERE recording_id = ?", (recording_id,))
        for _rid, call_id, _path in rows:
            self.event(call_id, "platform", "recording_purged", {"retention_days": self.retention_days})
        return len(rows)
