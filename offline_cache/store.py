"""The terminal's local store: one SQLite file (WAL, ``synchronous=FULL``).

It holds what the terminal needs to keep serving while the network is down
(R-OFFLINE): the rule packages and warning lists synced from the platform, the
cases waiting in the outbox for upload (R-UPLOAD), a hash-chained audit trail
(R-SEC "留痕") and a small key/value ``meta`` table for terminal settings.

Errors follow qutebrowser's ``misc/sql.py``: a failure the environment caused
(disk full, read-only file system, database locked by another process, I/O
error) raises :class:`StorageEnvironmentError`, whose message can be shown to
hall staff; anything else is a bug and raises :class:`StorageBugError`.

Payloads and package bodies are opaque bytes.  Every blob column has an
``encoding`` companion column (``'plain'`` today).

Encryption at rest (R-SEC §9.5.1): given a 32-byte ``key``, the file is a
SQLCipher 4 database (AES-256 pages with an HMAC each, via ``sqlcipher3``); the
whole file, WAL included, is unreadable without the key, and a wrong key fails
to open with :class:`StorageEnvironmentError` (``EnvironmentFault.WRONG_KEY``).
``key=None`` keeps a plain SQLite file (unit tests and tools only: the terminal
always passes a key, see docs/security.md).

The store is safe to share between threads (the outbox drainer runs in its
own thread): one connection, guarded by a lock.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlcipher3
import sqlite_utils

log = logging.getLogger(__name__)

#: Hash that precedes the first audit row.
GENESIS_HASH = "0" * 64
#: The encoding written to blob columns until at-rest encryption arrives.
PLAIN = "plain"


# --------------------------------------------------------------------------- errors


class StorageError(Exception):
    """Base of every failure of the local store."""


class EnvironmentFault(enum.Enum):
    """Why the environment refused a storage operation.  Values are stable identifiers."""

    DISK_FULL = "disk_full"
    READ_ONLY = "read_only"
    LOCKED = "locked"
    IO_ERROR = "io_error"
    CANNOT_OPEN = "cannot_open"
    CORRUPT = "corrupt"
    OUT_OF_MEMORY = "out_of_memory"
    SCHEMA_TOO_NEW = "schema_too_new"
    WRONG_KEY = "wrong_key"


_FAULT_TEXT = {
    EnvironmentFault.DISK_FULL: "the disk holding the local database is full",
    EnvironmentFault.READ_ONLY: "the local database is read-only",
    EnvironmentFault.LOCKED: "the local database is locked by another process",
    EnvironmentFault.IO_ERROR: "the disk reported an I/O error",
    EnvironmentFault.CANNOT_OPEN: "the local database file cannot be opened",
    EnvironmentFault.CORRUPT: "the local database file is damaged",
    EnvironmentFault.OUT_OF_MEMORY: "SQLite ran out of memory",
    EnvironmentFault.SCHEMA_TOO_NEW: "the local database was written by a newer version of the software",
    EnvironmentFault.WRONG_KEY: (
        "the local database cannot be decrypted with this terminal's key (wrong key, or not a database)"
    ),
}


class StorageEnvironmentError(StorageError):
    """The environment (disk, permissions, another process) refused: tell hall staff, not a bug."""

    def __init__(self, fault: EnvironmentFault, detail: str = "") -> None:
        text = _FAULT_TEXT[fault]
        super().__init__(f"{text} ({detail})" if detail else text)
        self.fault = fault
        self.detail = detail


class StorageBugError(StorageError):
    """An unexpected SQLite error: a programming error, report it."""


class UnknownRecordError(StorageError):
    """The caller named a case or package version the store does not have."""


class DuplicateCaseError(StorageError):
    """A case with this id already exists."""


# Primary SQLite result codes (sqlite3.h) that the environment causes.
_ENV_CODES = {
    3: EnvironmentFault.READ_ONLY,  # SQLITE_PERM
    5: EnvironmentFault.LOCKED,  # SQLITE_BUSY
    6: EnvironmentFault.LOCKED,  # SQLITE_LOCKED
    7: EnvironmentFault.OUT_OF_MEMORY,  # SQLITE_NOMEM
    8: EnvironmentFault.READ_ONLY,  # SQLITE_READONLY
    10: EnvironmentFault.IO_ERROR,  # SQLITE_IOERR
    11: EnvironmentFault.CORRUPT,  # SQLITE_CORRUPT
    13: EnvironmentFault.DISK_FULL,  # SQLITE_FULL
    14: EnvironmentFault.CANNOT_OPEN,  # SQLITE_CANTOPEN
    15: EnvironmentFault.LOCKED,  # SQLITE_PROTOCOL
    26: EnvironmentFault.CORRUPT,  # SQLITE_NOTADB
}


#: Errors of both drivers (``sqlcipher3`` is a fork of ``sqlite3`` with its own exception classes).
DB_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, sqlcipher3.dbapi2.Error)

#: Length of the at-rest key in bytes (SQLCipher raw key: AES-256).
KEY_BYTES = 32


def classify(err: Exception) -> StorageError:
    """Map a ``sqlite3``/``sqlcipher3`` exception to an environment fault or a bug."""
    code = getattr(err, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _ENV_CODES:
        return StorageEnvironmentError(_ENV_CODES[code & 0xFF], str(err))
    return StorageBugError(f"{type(err).__name__}: {err}")


# --------------------------------------------------------------------------- values


class OutboxState(enum.Enum):
    """Where a case stands in the upload queue.  Values are stable identifiers."""

    PENDING = "pending"  # waiting for (another) upload attempt
    SENT = "sent"  # the platform acknowledged it
    DEAD = "dead"  # the platform rejected it; hall staff must look at it


@dataclass(frozen=True)
class StoredPackage:
    item_id: str
    version: str
    sha256: str
    body: bytes
    stored_at: float


@dataclass(frozen=True)
class StoredBlob:
    name: str
    version: str
    sha256: str
    body: bytes
    fetched_at: float


@dataclass(frozen=True)
class OutboxEntry:
    case_id: str
    item_id: str
    payload: bytes
    created_at: float
    state: OutboxState
    attempts: int
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True)
class StoredCase:
    case_id: str
    item_id: str
    payload: bytes
    created_at: float
    state: OutboxState
    attempts: int
    last_error: str | None
    sent_at: float | None
    ack: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered case as hall staff see it: no payload (maintenance mode)."""

    case_id: str
    item_id: str
    created_at: float
    attempts: int
    last_error: str | None


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


@dataclass(frozen=True)
class OutboxJob:
    """An outbox entry that is not a case: a publicity record, its revocation, a late attachment."""

    job_id: str  # the idempotency key
    kind: str
    case_id: str | None
    after_job: str | None  # not sent before this job is
    payload: bytes
    created_at: float
    state: OutboxState
    attempts: int
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: float
    event: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


# --------------------------------------------------------------------------- schema


_SCHEMA_1 = """
        CREATE TABLE packages (
            item_id TEXT NOT NULL,
            version TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            body BLOB NOT NULL,
            encoding TEXT NOT NULL DEFAULT 'plain',
            stored_at REAL NOT NULL,
            PRIMARY KEY (item_id, version)
        );
        CREATE TABLE active_packages (
            item_id TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            activated_at REAL NOT NULL,
            FOREIGN KEY (item_id, version) REFERENCES packages (item_id, version)
        );
        CREATE TABLE warning_lists (
            name TEXT PRIMARY KEY,
            version TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            body BLOB NOT NULL,
            encoding TEXT NOT NULL DEFAULT 'plain',
            fetched_at REAL NOT NULL
        );
        CREATE TABLE cases (
            case_id TEXT PRIMARY KEY,
            item_id TEXT NOT NULL,
            payload BLOB NOT NULL,
            encoding TEXT NOT NULL DEFAULT 'plain',
            created_at REAL NOT NULL
        );
        CREATE TABLE outbox (
            case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            sent_at REAL,
            ack BLOB
        );
        CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            event TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
"""


def _run_statements(db: sqlite_utils.Database, script: str) -> None:
    # Not executescript(): it COMMITs first and would break the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_1(db: sqlite_utils.Database) -> None:
    _run_statements(db, _SCHEMA_1)


# Schema 2: outbox jobs of other kinds than cases (publicity records, their revocations,
# late attachments such as the certificate), attachments uploaded in resumable chunks before the case
# body, and the retention wipe's mark on cases.
_SCHEMA_2 = """
        CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            case_id TEXT,
            after_job TEXT REFERENCES jobs (job_id),
            payload BLOB NOT NULL,
            created_at REAL NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            sent_at REAL,
            ack BLOB
        );
        CREATE INDEX jobs_due ON jobs (state, next_attempt_at);
        CREATE TABLE attachments (
            attachment_id TEXT PRIMARY KEY,
            case_id TEXT NOT NULL REFERENCES cases (case_id),
            name TEXT NOT NULL,
            media_type TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            body BLOB,
            created_at REAL NOT NULL,
            uploaded_at REAL,
            UNIQUE (case_id, name)
        );
        ALTER TABLE cases ADD COLUMN wiped_at REAL
"""


def _migrate_2(db: sqlite_utils.Database) -> None:
    _run_statements(db, _SCHEMA_2)


#: Migration ``n`` (1-based) takes the schema from version ``n-1`` to ``n``.
MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_migrate_1, _migrate_2)
SCHEMA_VERSION = len(MIGRATIONS)

_AUDIT_HEAD_KEY = "audit.head"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form the audit hash covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _audit_hash(prev_hash: str, seq: int, at: float, event: str, details_json: str) -> str:
    body = canonical_json({"seq": seq, "at": at, "event": event, "details": json.loads(details_json)})
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- store


def _unlock(conn: Any, key: bytes) -> None:
    """Give SQLCipher the raw key and prove it opens the file (a fresh file takes any key)."""
    conn.execute("PRAGMA cipher_log_level = NONE")  # its own stderr logging would repeat our error
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DB_ERRORS as err:
        if getattr(err, "sqlite_errorcode", None) == 26:  # SQLITE_NOTADB
            raise StorageEnvironmentError(EnvironmentFault.WRONG_KEY, str(err)) from err
        raise


class Store:
    """The terminal's local SQLite store.  See the module docstring."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 5.0,
        key: bytes | None = None,
    ) -> None:
        if key is not None and len(key) != KEY_BYTES:
            raise ValueError(f"the store key must be {KEY_BYTES} bytes")
        self.path = Path(path)
        self.encrypted = key is not None
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StorageEnvironmentError(EnvironmentFault.CANNOT_OPEN, str(err)) from err
        driver: Any = sqlite3 if key is None else sqlcipher3
        try:
            conn = driver.connect(str(self.path), timeout=busy_timeout_s, check_same_thread=False)
        except DB_ERRORS as err:
            raise classify(err) from err
        try:
            if key is not None:
                _unlock(conn, key)
            self._db = sqlite_utils.Database(conn, execute_plugins=False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._db.enable_wal()
            conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except DB_ERRORS as err:
            conn.close()
            raise classify(err) from err
        except StorageError:
            conn.close()
            raise

    # ------------------------------------------------------------------ plumbing

    @property
    def db(self) -> sqlite_utils.Database:
        """The underlying sqlite-utils database (diagnostics and tests only)."""
        return self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _guard(self) -> Iterator[sqlite_utils.Database]:
        """Serialise access and turn sqlite3 errors into StorageError."""
        with self._lock:
            try:
                yield self._db
            except DB_ERRORS as err:
                raise classify(err) from err

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction, taken with BEGIN IMMEDIATE so lock waits happen up front."""
        with self._guard() as db:
            conn = db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

    def schema_version(self) -> int:
        with self._guard() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise StorageEnvironmentError(
                EnvironmentFault.SCHEMA_TOO_NEW,
                f"file has version {current}, this build knows {SCHEMA_VERSION}",
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            log.info("migrating local store %s to schema version %d", self.path, version)
            with self._write() as db:
                MIGRATIONS[version - 1](db)
                db.conn.execute(f"PRAGMA user_version = {version}")

    def pragma(self, name: str) -> Any:
        """Read one PRAGMA (diagnostics and tests)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad pragma name {name!r}")
        with self._guard() as db:
            return db.execute(f"PRAGMA {name}").fetchone()[0]

    # ------------------------------------------------------------------ packages

    def put_package(self, item_id: str, version: str, sha256: str, body: bytes) -> None:
        """Store one version of a rule package.  Earlier versions are kept; nothing is activated."""
        with self._write() as db:
            db.execute(
                "INSERT INTO packages (item_id, version, sha256, body, encoding, stored_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id, version) DO UPDATE SET sha256 = excluded.sha256, "
                "body = excluded.body, encoding = excluded.encoding, stored_at = excluded.stored_at",
                (item_id, version, sha256, body, PLAIN, self._clock()),
            )

    def activate(self, item_id: str, version: str) -> None:
        """Make a stored version the one the terminal serves (atomic)."""
        with self._write() as db:
            row = db.execute(
                "SELECT 1 FROM packages WHERE item_id = ? AND version = ?", (item_id, version)
            ).fetchone()
            if row is None:
                raise UnknownRecordError(f"package {item_id!r} version {version!r} is not stored")
            db.execute(
                "INSERT INTO active_packages (item_id, version, activated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (item_id) DO UPDATE SET version = excluded.version, "
                "activated_at = excluded.activated_at",
                (item_id, version, self._clock()),
            )

    _PACKAGE_SELECT = (
        "SELECT p.item_id, p.version, p.sha256, p.body, p.stored_at FROM active_packages a "
        "JOIN packages p ON p.item_id = a.item_id AND p.version = a.version"
    )

    def active_package(self, item_id: str) -> StoredPackage | None:
        with self._guard() as db:
            row = db.execute(self._PACKAGE_SELECT + " WHERE a.item_id = ?", (item_id,)).fetchone()
        return None if row is None else StoredPackage(row[0], row[1], row[2], bytes(row[3]), row[4])

    def active_packages(self) -> list[StoredPackage]:
        with self._guard() as db:
            rows = db.execute(self._PACKAGE_SELECT + " ORDER BY a.item_id").fetchall()
        return [StoredPackage(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    def package_versions(self, item_id: str) -> list[str]:
        """Stored versions of one package, oldest first."""
        with self._guard() as db:
            rows = db.execute(
                "SELECT version FROM packages WHERE item_id = ? ORDER BY stored_at, rowid", (item_id,)
            ).fetchall()
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ warning lists

    def put_warning_list(self, name: str, version: str, sha256: str, body: bytes, fetched_at: float) -> None:
        """Store (replace) the current copy of a warning list."""
        with self._write() as db:
            db.table("warning_lists").upsert(
                {
                    "name": name,
                    "version": version,
                    "sha256": sha256,
                    "body": body,
                    "encoding": PLAIN,
                    "fetched_at": fetched_at,
                },
                pk="name",
            )

    def warning_list(self, name: str) -> StoredBlob | None:
        with self._guard() as db:
            row = db.execute(
                "SELECT name, version, sha256, body, fetched_at FROM warning_lists WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else StoredBlob(row[0], row[1], row[2], bytes(row[3]), row[4])

    def warning_lists(self) -> list[StoredBlob]:
        with self._guard() as db:
            rows = db.execute(
                "SELECT name, version, sha256, body, fetched_at FROM warning_lists ORDER BY name"
            ).fetchall()
        return [StoredBlob(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    # ------------------------------------------------------------------ cases and outbox

    def add_case(
        self,
        case_id: str,
        item_id: str,
        payload: bytes,
        created_at: float,
        *,
        attachments: Sequence[NewAttachment] = (),
    ) -> None:
        """Store a case, its attachments, its outbox entry and an audit row in one transaction."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone():
                raise DuplicateCaseError(f"case {case_id} already exists")
            db.execute(
                "INSERT INTO cases (case_id, item_id, payload, encoding, created_at) VALUES (?, ?, ?, ?, ?)",
                (case_id, item_id, payload, PLAIN, created_at),
            )
            db.execute(
                "INSERT INTO outbox (case_id, state, attempts, next_attempt_at) VALUES (?, 'pending', 0, ?)",
                (case_id, created_at),
            )
            for attachment in attachments:
                self._insert_attachment(db, case_id, attachment, created_at)
            self._append_audit(db, "case.queued", {"case_id": case_id, "item_id": item_id}, created_at)

    def pending_outbox(self, limit: int, now: float) -> list[OutboxEntry]:
        """Pending entries whose next attempt is due at ``now``, oldest due first."""
        with self._guard() as db:
            rows = db.execute(
                "SELECT c.case_id, c.item_id, c.payload, c.created_at, o.state, o.attempts, "
                "o.next_attempt_at, o.last_error FROM outbox o JOIN cases c ON c.case_id = o.case_id "
                "WHERE o.state = 'pending' AND o.next_attempt_at <= ? "
                "ORDER BY o.next_attempt_at, c.created_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [OutboxEntry(r[0], r[1], bytes(r[2]), r[3], OutboxState(r[4]), r[5], r[6], r[7]) for r in rows]

    def next_due_at(self) -> float | None:
        """When the earliest pending entry becomes due (None when nothing is pending)."""
        with self._guard() as db:
            row = db.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    def _update_outbox(
        self, db: sqlite_utils.Database, case_id: str, sql: str, params: tuple[Any, ...]
    ) -> None:
        cur = db.execute(sql, (*params, case_id))
        if cur.rowcount != 1:
            raise UnknownRecordError(f"no outbox entry for case {case_id}")

    def mark_sent(self, case_id: str, ack: bytes, at: float) -> None:
        """The platform acknowledged the case; ``ack`` is its raw answer."""
        with self._write() as db:
            self._update_outbox(
                db,
                case_id,
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, ack = ?, "
                "last_error = NULL WHERE case_id = ?",
                (at, ack),
            )
            self._append_audit(db, "case.uploaded", {"case_id": case_id}, at)

    def mark_retry(self, case_id: str, error: str, next_attempt_at: float) -> None:
        """An upload attempt failed for a passing reason; try again at ``next_attempt_at``."""
        with self._write() as db:
            self._update_outbox(
                db,
                case_id,
                "UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? WHERE case_id = ?",
                (error, next_attempt_at),
            )

    def mark_dead(self, case_id: str, error: str) -> None:
        """The platform rejected the case: park it for hall staff."""
        with self._write() as db:
            self._update_outbox(
                db,
                case_id,
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ? WHERE case_id = ?",
                (error,),
            )
            self._append_audit(db, "case.dead_lettered", {"case_id": case_id}, self._clock())

    def requeue(self, case_id: str, now: float) -> None:
        """Put a dead-lettered case back in the queue (maintenance mode)."""
        with self._write() as db:
            self._update_outbox(
                db,
                case_id,
                "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE case_id = ?",
                (now,),
            )
            self._append_audit(db, "case.requeued", {"case_id": case_id}, now)

    def outbox_counts(self) -> dict[OutboxState, int]:
        """Number of outbox entries per state (every state present, zero included)."""
        counts = dict.fromkeys(OutboxState, 0)
        with self._guard() as db:
            for state, n in db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
                counts[OutboxState(state)] = int(n)
        return counts

    def dead_letters(self, limit: int = 200) -> list[DeadLetter]:
        """Dead-lettered cases, oldest first, without their payload (maintenance mode)."""
        with self._guard() as db:
            rows = db.execute(
                "SELECT c.case_id, c.item_id, c.created_at, o.attempts, o.last_error "
                "FROM outbox o JOIN cases c ON c.case_id = o.case_id WHERE o.state = 'dead' "
                "ORDER BY c.created_at, c.case_id LIMIT ?",
                (limit,),
            ).fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def case(self, case_id: str) -> StoredCase | None:
        with self._guard() as db:
            r = db.execute(
                "SELECT c.case_id, c.item_id, c.payload, c.created_at, o.state, o.attempts, o.last_error, "
                "o.sent_at, o.ack FROM cases c JOIN outbox o ON o.case_id = c.case_id WHERE c.case_id = ?",
                (case_id,),
            ).fetchone()
        if r is None:
            return None
        return StoredCase(
            r[0],
            r[1],
            bytes(r[2]),
            r[3],
            OutboxState(r[4]),
            r[5],
            r[6],
            r[7],
            None if r[8] is None else bytes(r[8]),
        )

    # ------------------------------------------------------------------ attachments

    def _insert_attachment(
        self, db: sqlite_utils.Database, case_id: str, attachment: NewAttachment, at: float
    ) -> None:
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

    _ATTACHMENT_SELECT = (
        "SELECT attachment_id, case_id, name, media_type, sha256, size, body, uploaded_at FROM attachments"
    )

    @staticmethod
    def _attachment(r: Any) -> StoredAttachment:
        return StoredAttachment(
            r[0], r[1], r[2], r[3], r[4], r[5], None if r[6] is None else bytes(r[6]), r[7]
        )

    def case_attachments(self, case_id: str) -> list[StoredAttachment]:
        """A case's attachments in the order they were stored."""
        with self._guard() as db:
            rows = db.execute(
                self._ATTACHMENT_SELECT + " WHERE case_id = ? ORDER BY rowid", (case_id,)
            ).fetchall()
        return [self._attachment(r) for r in rows]

    def attachment(self, attachment_id: str) -> StoredAttachment | None:
        with self._guard() as db:
            r = db.execute(self._ATTACHMENT_SELECT + " WHERE attachment_id = ?", (attachment_id,)).fetchone()
        return None if r is None else self._attachment(r)

    def mark_attachment_uploaded(self, attachment_id: str, at: float) -> None:
        """The platform confirmed the whole attachment (its SHA-256 checked)."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE attachments SET uploaded_at = ? WHERE attachment_id = ? AND uploaded_at IS NULL",
                (at, attachment_id),
            )
            if cur.rowcount == 1:
                self._append_audit(db, "attachment.uploaded", {"attachment_id": attachment_id}, at)

    # ------------------------------------------------------------------ other outbox jobs

    def add_job(
        self,
        job_id: str,
        kind: str,
        payload: bytes,
        created_at: float,
        *,
        case_id: str | None = None,
        after_job: str | None = None,
        attachment: NewAttachment | None = None,
    ) -> None:
        """Queue a job (with the attachment it uploads, if any) and an audit row in one transaction."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job_id,)).fetchone():
                raise DuplicateCaseError(f"job {job_id} already exists")
            if attachment is not None:
                if case_id is None:
                    raise ValueError("an attachment job needs its case id")
                self._insert_attachment(db, case_id, attachment, created_at)
            db.execute(
                "INSERT INTO jobs (job_id, kind, case_id, after_job, payload, created_at, state, attempts, "
                "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                (job_id, kind, case_id, after_job, payload, created_at, created_at),
            )
            self._append_audit(
                db, "job.queued", {"job_id": job_id, "kind": kind, "case_id": case_id}, created_at
            )

    _JOB_SELECT = (
        "SELECT j.job_id, j.kind, j.case_id, j.after_job, j.payload, j.created_at, j.state, j.attempts, "
        "j.next_attempt_at, j.last_error FROM jobs j"
    )

    @staticmethod
    def _job(r: Any) -> OutboxJob:
        return OutboxJob(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], OutboxState(r[6]), r[7], r[8], r[9])

    def pending_jobs(self, limit: int, now: float) -> list[OutboxJob]:
        """Pending jobs that are due and whose ``after_job`` (if any) was sent, oldest first."""
        with self._guard() as db:
            rows = db.execute(
                self._JOB_SELECT + " WHERE j.state = 'pending' AND j.next_attempt_at <= ? AND "
                "(j.after_job IS NULL OR EXISTS "
                "(SELECT 1 FROM jobs p WHERE p.job_id = j.after_job AND p.state = 'sent')) "
                "ORDER BY j.next_attempt_at, j.created_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [self._job(r) for r in rows]

    def job(self, job_id: str) -> OutboxJob | None:
        with self._guard() as db:
            r = db.execute(self._JOB_SELECT + " WHERE j.job_id = ?", (job_id,)).fetchone()
        return None if r is None else self._job(r)

    def jobs(self, *, kind: str | None = None, case_id: str | None = None) -> list[OutboxJob]:
        """Jobs, oldest first, optionally of one kind and/or for one case."""
        with self._guard() as db:
            rows = db.execute(
                self._JOB_SELECT + " WHERE (? IS NULL OR j.kind = ?) AND (? IS NULL OR j.case_id = ?) "
                "ORDER BY j.created_at, j.rowid",
                (kind, kind, case_id, case_id),
            ).fetchall()
        return [self._job(r) for r in rows]

    def job_ack(self, job_id: str) -> bytes | None:
        with self._guard() as db:
            r = db.execute("SELECT ack FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return None if r is None or r[0] is None else bytes(r[0])

    def _update_job(self, db: sqlite_utils.Database, job_id: str, sql: str, params: tuple[Any, ...]) -> None:
        cur = db.execute(sql, (*params, job_id))
        if cur.rowcount != 1:
            raise UnknownRecordError(f"no job {job_id}")

    def mark_job_sent(self, job_id: str, ack: bytes, at: float) -> None:
        with self._write() as db:
            self._update_job(
                db,
                job_id,
                "UPDATE jobs SET state = 'sent', attempts = attempts + 1, sent_at = ?, ack = ?, "
                "last_error = NULL WHERE job_id = ?",
                (at, ack),
            )
            self._append_audit(db, "job.sent", {"job_id": job_id}, at)

    def mark_job_retry(self, job_id: str, error: str, next_attempt_at: float) -> None:
        with self._write() as db:
            self._update_job(
                db,
                job_id,
                "UPDATE jobs SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE job_id = ?",
                (error, next_attempt_at),
            )

    def requeue_job(self, job_id: str, now: float) -> None:
        """Put a dead-lettered job back in the queue (maintenance mode)."""
        with self._write() as db:
            self._update_job(
                db, job_id, "UPDATE jobs SET state = 'pending', next_attempt_at = ? WHERE job_id = ?", (now,)
            )
            self._append_audit(db, "job.requeued", {"job_id": job_id}, now)

    def mark_job_dead(self, job_id: str, error: str) -> None:
        with self._write() as db:
            self._update_job(
                db,
                job_id,
                "UPDATE jobs SET state = 'dead', attempts = attempts + 1, last_error = ? WHERE job_id = ?",
                (error,),
            )
            self._append_audit(db, "job.dead_lettered", {"job_id": job_id}, self._clock())

    def job_counts(self) -> dict[OutboxState, int]:
        counts = dict.fromkeys(OutboxState, 0)
        with self._guard() as db:
            for state, n in db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state"):
                counts[OutboxState(state)] = int(n)
        return counts

    def next_job_due_at(self) -> float | None:
        with self._guard() as db:
            row = db.execute("SELECT MIN(next_attempt_at) FROM jobs WHERE state = 'pending'").fetchone()
        return None if row[0] is None else float(row[0])

    # ------------------------------------------------------------------ retention

    def wipe_acknowledged(
        self, sent_before: float, now: float, residue: Callable[[str, bytes], bytes]
    ) -> list[str]:
        """Wipe the personal data of cases the platform acknowledged before ``sent_before``.

        The case payload is replaced by ``residue(case_id, payload)`` (what the hall must keep,
        without personal data) and uploaded attachment bodies are dropped (one still waiting for its
        upload is dropped by the first call after it went); the outbox row (state, ack), the
        jobs (publicity records hold only the published form) and the audit trail stay.
        Each case is wiped in its own transaction, with an audit row; returns the wiped case ids.
        """
        with self._guard() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT c.case_id FROM cases c JOIN outbox o ON o.case_id = c.case_id "
                    "WHERE o.state = 'sent' AND o.sent_at <= ? AND c.wiped_at IS NULL ORDER BY o.sent_at",
                    (sent_before,),
                ).fetchall()
            ]
        wiped: list[str] = []
        for case_id in ids:
            with self._write() as db:
                row = db.execute(
                    "SELECT payload FROM cases WHERE case_id = ? AND wiped_at IS NULL", (case_id,)
                ).fetchone()
                if row is None:
                    continue
                db.execute(
                    "UPDATE cases SET payload = ?, encoding = 'wiped', wiped_at = ? WHERE case_id = ?",
                    (residue(case_id, bytes(row[0])), now, case_id),
                )
                # An attachment still waiting for upload (a late certificate) keeps its body until it
                # is uploaded; a later round drops it then.
                db.execute(
                    "UPDATE attachments SET body = NULL WHERE case_id = ? AND uploaded_at IS NOT NULL",
                    (case_id,),
                )
                self._append_audit(db, "case.personal_data_wiped", {"case_id": case_id}, now)
            wiped.append(case_id)
        with self._write() as db:
            db.execute(
                "UPDATE attachments SET body = NULL WHERE body IS NOT NULL AND uploaded_at IS NOT NULL AND "
                "case_id IN (SELECT case_id FROM cases WHERE wiped_at IS NOT NULL)"
            )
        return wiped

    def case_wiped_at(self, case_id: str) -> float | None:
        with self._guard() as db:
            row = db.execute("SELECT wiped_at FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    # ------------------------------------------------------------------ audit trail

    def audit(self, event: str, details: Mapping[str, Any], *, at: float | None = None) -> int:
        """Append an audit row (hash-chained); returns its sequence number.

        ``details`` must be JSON-serialisable and must not hold personal data in
        clear (the trail is not encrypted yet).
        """
        with self._write() as db:
            return self._append_audit(db, event, details, self._clock() if at is None else at)

    def _append_audit(
        self, db: sqlite_utils.Database, event: str, details: Mapping[str, Any], at: float
    ) -> int:
        details_json = canonical_json(dict(details))
        row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev_hash = (1, GENESIS_HASH) if row is None else (row[0] + 1, row[1])
        digest = _audit_hash(prev_hash, seq, at, event, details_json)
        db.execute(
            "INSERT INTO audit (seq, at, event, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, at, event, details_json, prev_hash, digest),
        )
        # The head is kept apart so that cutting rows off the end is detected too.
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (_AUDIT_HEAD_KEY, f"{seq}:{digest}"),
        )
        return int(seq)

    def audit_records(self, since_seq: int = 0) -> list[AuditRecord]:
        with self._guard() as db:
            rows = db.execute(
                "SELECT seq, at, event, details, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq",
                (since_seq,),
            ).fetchall()
        return [AuditRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5]) for r in rows]

    def verify_audit(self) -> bool:
        """Recompute the chain; False if any row was edited, removed, inserted or reordered."""
        with self._guard() as db:
            rows = db.execute(
                "SELECT seq, at, event, details, prev_hash, hash FROM audit ORDER BY seq"
            ).fetchall()
            head = db.execute("SELECT value FROM meta WHERE key = ?", (_AUDIT_HEAD_KEY,)).fetchone()
        prev = GENESIS_HASH
        expected_seq = 1
        for seq, at, event, details_json, prev_hash, digest in rows:
            if seq != expected_seq or prev_hash != prev:
                return False
            try:
                if _audit_hash(prev_hash, seq, at, event, details_json) != digest:
                    return False
            except (ValueError, TypeError):
                return False
            prev = digest
            expected_seq += 1
        if not rows:
            return head is None
        return head is not None and head[0] == f"{expected_seq - 1}:{prev}"

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        with self._guard() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        if key == _AUDIT_HEAD_KEY:
            raise ValueError("the audit head is maintained by the store")
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def delete_meta(self, key: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM meta WHERE key = ?", (key,))

    def next_sequence(self, key: str) -> int:
        """Increment the counter ``key`` (a meta entry, 0 when absent) and return the new value.

        Read and write happen in one committed write transaction (``synchronous=FULL``): a number
        returned here is on disk before the caller uses it, so it is never handed out twice,
        not even after a crash (queue tickets)."""
        if key == _AUDIT_HEAD_KEY:
            raise ValueError("the audit head is maintained by the store")
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            value = (int(row[0]) if row is not None else 0) + 1
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, str(value)),
            )
        return value
