"""Errors of the local store, split as qutebrowser's ``misc/sql.py`` splits them.

A failure the environment caused (disk full, read-only file system, database locked by another
process, I/O error, wrong key) raises :class:`StorageEnvironmentError`, whose message can be shown to
hall staff; anything else is a bug and raises :class:`StorageBugError`.  :func:`classify` maps a
driver exception to one of the two.
"""

from __future__ import annotations

import enum
import sqlite3

import sqlcipher3


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
    """The caller named a case, outbox entry or package version the store does not have."""


class DuplicateCaseError(StorageError):
    """A case (or outbox entry) with this id already exists."""


class InvalidTransitionError(StorageError):
    """An outbox entry was asked to move to a state its current state does not lead to."""


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


def classify(err: Exception) -> StorageError:
    """Map a ``sqlite3``/``sqlcipher3`` exception to an environment fault or a bug."""
    code = getattr(err, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _ENV_CODES:
        return StorageEnvironmentError(_ENV_CODES[code & 0xFF], str(err))
    return StorageBugError(f"{type(err).__name__}: {err}")
