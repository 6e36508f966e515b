"""The store's one SQLite connection: opening (SQLCipher key, WAL, ``synchronous=FULL``), migrating
(``PRAGMA user_version``), and the two ways in: :meth:`Database.read` and :meth:`Database.write`.

Every sub-store (packages, cases, outbox, audit trail, meta) goes through one :class:`Database`:
one connection guarded by one lock, so the store is safe to share between threads (the outbox
drainer runs in its own), and a write that spans sub-stores (a case, its attachments, its outbox
entry and its audit row) is one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlcipher3
import sqlite_utils

from offline_cache.errors import (
    DB_ERRORS,
    EnvironmentFault,
    StorageEnvironmentError,
    StorageError,
    classify,
)
from offline_cache.migrations import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

#: Length of the at-rest key in bytes (SQLCipher raw key: AES-256).
KEY_BYTES = 32


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


class Database:
    """One open store file; see the module docstring."""

    def __init__(
        self, path: Path, *, clock: Callable[[], float], busy_timeout_s: float, key: bytes | None
    ) -> None:
        if key is not None and len(key) != KEY_BYTES:
            raise ValueError(f"the store key must be {KEY_BYTES} bytes")
        self.path = path
        self.clock = clock
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
            self.db = sqlite_utils.Database(conn, execute_plugins=False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self.db.enable_wal()
            conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except DB_ERRORS as err:
            conn.close()
            raise classify(err) from err
        except StorageError:
            conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self.db.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """Serialise access and turn driver errors into StorageError."""
        with self._lock:
            try:
                yield self.db
            except DB_ERRORS as err:
                raise classify(err) from err

    @contextlib.contextmanager
    def write(self, *, durable: bool = True) -> Iterator[sqlite_utils.Database]:
        """One write transaction, taken with BEGIN IMMEDIATE so lock waits happen up front.

        ``durable=False`` commits without waiting for the disk (``synchronous=NORMAL`` for this
        transaction: the next durable commit's sync carries it): only for changes whose loss in a
        power cut is harmless, such as claiming outbox entries (lost, they are pending again,
        which is what a restart does with entries in flight anyway)."""
        with self.read() as db:
            conn = db.conn
            if not durable:
                conn.execute("PRAGMA synchronous = NORMAL")
            try:
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
            finally:
                if not durable:
                    conn.execute("PRAGMA synchronous = FULL")

    def schema_version(self) -> int:
        with self.read() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    def pragma(self, name: str) -> Any:
        """Read one PRAGMA (diagnostics and tests)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad pragma name {name!r}")
        with self.read() as db:
            return db.execute(f"PRAGMA {name}").fetchone()[0]

    def _migrate(self) -> None:
        current = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise StorageEnvironmentError(
                EnvironmentFault.SCHEMA_TOO_NEW,
                f"file has version {current}, this build knows {SCHEMA_VERSION}",
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            log.info("migrating local store %s to schema version %d", self.path, version)
            with self.write() as db:
                MIGRATIONS[version - 1](db)
                db.conn.execute(f"PRAGMA user_version = {version}")
