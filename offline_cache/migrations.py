"""The store's schema history: migration ``n`` takes the file from ``PRAGMA user_version`` ``n-1`` to ``n``.

Migrations only ever append: a file written by an older build opens in a newer one with its rows
kept (tests/offline_cache/test_migrations.py opens one made by the schema-2 code).  Each runs in the
opening connection's write transaction, together with the ``user_version`` bump.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

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


# Schema 3: one outbox.  Cases (table ``outbox``) and the other jobs (table ``jobs``) were two queues
# with one state machine each; both move into ``outbox_entries``, keyed by the idempotency key (the
# case id for a case, the job id otherwise), with the state names of the one state machine
# (``sent`` becomes ``acknowledged``; ``in_flight`` is new).  A case's body stays in ``cases`` (the
# retention wipe works there); every other entry carries its payload.
_SCHEMA_3 = """
        CREATE TABLE outbox_entries (
            entry_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            case_id TEXT,
            after_entry TEXT REFERENCES outbox_entries (entry_id),
            payload BLOB,
            created_at REAL NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'acknowledged', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            last_error TEXT,
            sent_at REAL,
            ack BLOB,
            CHECK ((kind = 'case') = (payload IS NULL)),
            CHECK (kind <> 'case' OR case_id = entry_id)
        );
        CREATE INDEX outbox_entries_due ON outbox_entries (state, next_attempt_at);
        CREATE INDEX outbox_entries_case ON outbox_entries (case_id);
        INSERT INTO outbox_entries (entry_id, kind, case_id, after_entry, payload, created_at, state, attempts,
                                    next_attempt_at, last_error, sent_at, ack)
            SELECT o.case_id, 'case', o.case_id, NULL, NULL, c.created_at,
                   CASE o.state WHEN 'sent' THEN 'acknowledged' ELSE o.state END,
                   o.attempts, o.next_attempt_at, o.last_error, o.sent_at, o.ack
            FROM outbox o JOIN cases c ON c.case_id = o.case_id ORDER BY o.rowid;
        INSERT INTO outbox_entries (entry_id, kind, case_id, after_entry, payload, created_at, state, attempts,
                                    next_attempt_at, last_error, sent_at, ack)
            SELECT job_id, kind, case_id, after_job, payload, created_at,
                   CASE state WHEN 'sent' THEN 'acknowledged' ELSE state END,
                   attempts, next_attempt_at, last_error, sent_at, ack
            FROM jobs ORDER BY rowid;
        DROP TABLE outbox;
        DROP TABLE jobs
"""


def run_statements(db: sqlite_utils.Database, script: str) -> None:
    """Run a ``;``-separated script statement by statement.

    Not executescript(): it COMMITs first and would break the migration's transaction."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _migrate_1(db: sqlite_utils.Database) -> None:
    run_statements(db, _SCHEMA_1)


def _migrate_2(db: sqlite_utils.Database) -> None:
    run_statements(db, _SCHEMA_2)


def _migrate_3(db: sqlite_utils.Database) -> None:
    run_statements(db, _SCHEMA_3)


#: Migration ``n`` (1-based) takes the schema from version ``n-1`` to ``n``.
MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_migrate_1, _migrate_2, _migrate_3)
SCHEMA_VERSION = len(MIGRATIONS)
