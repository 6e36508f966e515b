"""The terminal's local store: one SQLite file (WAL, ``synchronous=FULL``), one object to open.

It holds what the terminal needs to keep serving while the network is down (R-OFFLINE), split by
what it stores, each part an attribute of :class:`Store`:

* ``packages`` and ``warning_lists`` (:mod:`offline_cache.packages`): synced from the platform;
* ``cases`` and ``attachments`` (:mod:`offline_cache.cases`, :mod:`offline_cache.attachments`);
* ``outbox`` (:mod:`offline_cache.outbox`): the one queue of uploads (R-UPLOAD), cases and
  every other job, with one state machine;
* ``audit_trail`` and ``meta`` (:mod:`offline_cache.audit`): the hash-chained trail (R-SEC "留痕")
  and a small key/value table for terminal settings and counters.

Connection, migrations (``PRAGMA user_version``) and error classification live in
:mod:`offline_cache.db`, :mod:`offline_cache.migrations` and :mod:`offline_cache.errors`: an
environment fault (disk full, read-only, locked, I/O error, wrong key) raises
:class:`StorageEnvironmentError`, whose message can be shown to hall staff; anything else is a bug
(:class:`StorageBugError`).

Encryption at rest (R-SEC §9.5.1): given a 32-byte ``key``, the file is a SQLCipher 4 database
(AES-256 pages with an HMAC each, via ``sqlcipher3``); the whole file, WAL included, is unreadable
without the key, and a wrong key fails to open with :class:`StorageEnvironmentError`
(``EnvironmentFault.WRONG_KEY``).  ``key=None`` keeps a plain SQLite file (unit tests and tools
only: the terminal always passes a key, see docs/security.md).

The store is safe to share between threads (the outbox drainer runs in its own): one connection,
guarded by a lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from offline_cache.attachments import Attachments, NewAttachment, StoredAttachment
from offline_cache.audit import GENESIS_HASH, AuditRecord, AuditTrail, Meta, audit_hash, canonical_json
from offline_cache.cases import Cases, StoredCase
from offline_cache.db import KEY_BYTES, Database
from offline_cache.errors import (
    DB_ERRORS,
    DuplicateCaseError,
    EnvironmentFault,
    InvalidTransitionError,
    StorageBugError,
    StorageEnvironmentError,
    StorageError,
    UnknownRecordError,
    classify,
)
from offline_cache.migrations import MIGRATIONS, SCHEMA_VERSION
from offline_cache.outbox import KIND_CASE, TRANSITIONS, DeadLetter, Outbox, OutboxEntry, OutboxState
from offline_cache.packages import PLAIN, Packages, StoredBlob, StoredPackage, WarningLists

__all__ = [
    "DB_ERRORS",
    "GENESIS_HASH",
    "KEY_BYTES",
    "KIND_CASE",
    "MIGRATIONS",
    "PLAIN",
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "AuditRecord",
    "DeadLetter",
    "DuplicateCaseError",
    "EnvironmentFault",
    "InvalidTransitionError",
    "NewAttachment",
    "OutboxEntry",
    "OutboxState",
    "StorageBugError",
    "StorageEnvironmentError",
    "StorageError",
    "Store",
    "StoredAttachment",
    "StoredBlob",
    "StoredCase",
    "StoredPackage",
    "UnknownRecordError",
    "audit_hash",
    "canonical_json",
    "classify",
]


class Store:
    """The terminal's local store.  See the module docstring."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 5.0,
        key: bytes | None = None,
    ) -> None:
        self.path = Path(path)
        self.encrypted = key is not None
        self._database = Database(self.path, clock=clock, busy_timeout_s=busy_timeout_s, key=key)
        self.packages = Packages(self._database)
        self.warning_lists = WarningLists(self._database)
        self.cases = Cases(self._database)
        self.attachments = Attachments(self._database)
        self.outbox = Outbox(self._database)
        self.audit_trail = AuditTrail(self._database)
        self.meta = Meta(self._database)

    @property
    def db(self) -> sqlite_utils.Database:
        """The underlying sqlite-utils database (diagnostics and tests only)."""
        return self._database.db

    def close(self) -> None:
        self._database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        return self._database.schema_version()

    def pragma(self, name: str) -> Any:
        """Read one PRAGMA (diagnostics and tests)."""
        return self._database.pragma(name)
