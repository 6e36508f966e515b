"""Rule packages and warning lists synced from the platform (R-OFFLINE): ``store.packages`` and
``store.warning_lists``.  Bodies are opaque bytes with an ``encoding`` companion column."""

from __future__ import annotations

from dataclasses import dataclass

from offline_cache.db import Database
from offline_cache.errors import UnknownRecordError

#: The encoding written to blob columns (the whole file is encrypted by SQLCipher).
PLAIN = "plain"


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


_PACKAGE_SELECT = (
    "SELECT p.item_id, p.version, p.sha256, p.body, p.stored_at FROM active_packages a "
    "JOIN packages p ON p.item_id = a.item_id AND p.version = a.version"
)


class Packages:
    """Stored versions of each rule package, and which one the terminal serves."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def put(self, item_id: str, version: str, sha256: str, body: bytes) -> None:
        """Store one version of a rule package.  Earlier versions are kept; nothing is activated."""
        with self._database.write() as db:
            db.execute(
                "INSERT INTO packages (item_id, version, sha256, body, encoding, stored_at) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id, version) DO UPDATE SET sha256 = excluded.sha256, "
                "body = excluded.body, encoding = excluded.encoding, stored_at = excluded.stored_at",
                (item_id, version, sha256, body, PLAIN, self._database.clock()),
            )

    def activate(self, item_id: str, version: str) -> None:
        """Make a stored version the one the terminal serves (atomic)."""
        with self._database.write() as db:
            row = db.execute(
                "SELECT 1 FROM packages WHERE item_id = ? AND version = ?", (item_id, version)
            ).fetchone()
            if row is None:
                raise UnknownRecordError(f"package {item_id!r} version {version!r} is not stored")
            db.execute(
                "INSERT INTO active_packages (item_id, version, activated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (item_id) DO UPDATE SET version = excluded.version, "
                "activated_at = excluded.activated_at",
                (item_id, version, self._database.clock()),
            )

    def active(self, item_id: str) -> StoredPackage | None:
        with self._database.read() as db:
            row = db.execute(_PACKAGE_SELECT + " WHERE a.item_id = ?", (item_id,)).fetchone()
        return None if row is None else StoredPackage(row[0], row[1], row[2], bytes(row[3]), row[4])

    def active_all(self) -> list[StoredPackage]:
        with self._database.read() as db:
            rows = db.execute(_PACKAGE_SELECT + " ORDER BY a.item_id").fetchall()
        return [StoredPackage(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    def versions(self, item_id: str) -> list[str]:
        """Stored versions of one package, oldest first."""
        with self._database.read() as db:
            rows = db.execute(
                "SELECT version FROM packages WHERE item_id = ? ORDER BY stored_at, rowid", (item_id,)
            ).fetchall()
        return [r[0] for r in rows]


class WarningLists:
    """The current copy of each warning list."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def put(self, name: str, version: str, sha256: str, body: bytes, fetched_at: float) -> None:
        """Store (replace) the current copy of a warning list."""
        with self._database.write() as db:
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

    def get(self, name: str) -> StoredBlob | None:
        with self._database.read() as db:
            row = db.execute(
                "SELECT name, version, sha256, body, fetched_at FROM warning_lists WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else StoredBlob(row[0], row[1], row[2], bytes(row[3]), row[4])

    def all(self) -> list[StoredBlob]:
        with self._database.read() as db:
            rows = db.execute(
                "SELECT name, version, sha256, body, fetched_at FROM warning_lists ORDER BY name"
            ).fetchall()
        return [StoredBlob(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]
