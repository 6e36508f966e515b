"""Cases the citizen submitted: ``store.cases``.  A case is stored with its attachments, its outbox
entry and an audit row in one transaction; the retention wipe replaces its personal data by a
residue once the platform has held it long enough."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from offline_cache import audit
from offline_cache.attachments import NewAttachment
from offline_cache.attachments import insert as insert_attachment
from offline_cache.db import Database
from offline_cache.errors import DuplicateCaseError
from offline_cache.outbox import OutboxState, insert_case_entry
from offline_cache.packages import PLAIN


@dataclass(frozen=True)
class StoredCase:
    case_id: str
    item_id: str
    payload: bytes
    created_at: float
    state: OutboxState  # of its outbox entry
    attempts: int
    last_error: str | None
    sent_at: float | None
    ack: bytes | None


class Cases:
    """Store, read and wipe cases."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add(
        self,
        case_id: str,
        item_id: str,
        payload: bytes,
        created_at: float,
        *,
        attachments: Sequence[NewAttachment] = (),
    ) -> None:
        """Store a case, its attachments, its outbox entry and an audit row in one transaction."""
        self.add_bundle([(case_id, item_id, payload, attachments)], created_at)

    def add_bundle(
        self, cases: Sequence[tuple[str, str, bytes, Sequence[NewAttachment]]], created_at: float
    ) -> None:
        """Store the cases of one application (一件事: ``(case_id, item_id, payload, attachments)``
        each) with their outbox entries in one transaction: all of them are queued, or none."""
        with self._database.write() as db:
            for case_id, item_id, payload, attachments in cases:
                if db.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone():
                    raise DuplicateCaseError(f"case {case_id} already exists")
                db.execute(
                    "INSERT INTO cases (case_id, item_id, payload, encoding, created_at) VALUES (?, ?, ?, ?, ?)",
                    (case_id, item_id, payload, PLAIN, created_at),
                )
                insert_case_entry(db, case_id, created_at)
                for attachment in attachments:
                    insert_attachment(db, case_id, attachment, created_at)
                audit.append(db, "case.queued", {"case_id": case_id, "item_id": item_id}, created_at)

    def get(self, case_id: str) -> StoredCase | None:
        with self._database.read() as db:
            r = db.execute(
                "SELECT c.case_id, c.item_id, c.payload, c.created_at, e.state, e.attempts, e.last_error, "
                "e.sent_at, e.ack FROM cases c JOIN outbox_entries e ON e.entry_id = c.case_id "
                "WHERE c.case_id = ?",
                (case_id,),
            ).fetchone()
        if r is None:
            return None
        ack = None if r[8] is None else bytes(r[8])
        return StoredCase(r[0], r[1], bytes(r[2]), r[3], OutboxState(r[4]), r[5], r[6], r[7], ack)

    def wipe_acknowledged(
        self, sent_before: float, now: float, residue: Callable[[str, bytes], bytes]
    ) -> list[str]:
        """Wipe the personal data of cases the platform acknowledged before ``sent_before``.

        The case payload is replaced by ``residue(case_id, payload)`` (what the hall must keep,
        without personal data) and uploaded attachment bodies are dropped (one still waiting for its
        upload is dropped by the first call after it went); the outbox entries (state, ack; the
        publicity records hold only the published form) and the audit trail stay.
        Each case is wiped in its own transaction, with an audit row; returns the wiped case ids.
        """
        with self._database.read() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT c.case_id FROM cases c JOIN outbox_entries e ON e.entry_id = c.case_id "
                    "WHERE e.state = 'acknowledged' AND e.sent_at <= ? AND c.wiped_at IS NULL "
                    "ORDER BY e.sent_at",
                    (sent_before,),
                ).fetchall()
            ]
        wiped: list[str] = []
        for case_id in ids:
            with self._database.write() as db:
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
                audit.append(db, "case.personal_data_wiped", {"case_id": case_id}, now)
            wiped.append(case_id)
        with self._database.write() as db:
            db.execute(
                "UPDATE attachments SET body = NULL WHERE body IS NOT NULL AND uploaded_at IS NOT NULL AND "
                "case_id IN (SELECT case_id FROM cases WHERE wiped_at IS NOT NULL)"
            )
        return wiped

    def wiped_at(self, case_id: str) -> float | None:
        with self._database.read() as db:
            row = db.execute("SELECT wiped_at FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None or row[0] is None else float(row[0])
