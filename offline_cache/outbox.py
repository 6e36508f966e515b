"""The one outbox (R-UPLOAD): every upload the platform must receive exactly once, in one queue.

An entry is a case (kind ``case``: its body is the case row, its key the case id) or another job
(publicity record, its revocation, a late attachment such as the certificate PDF: its own payload
and key).  The key is the idempotency key the platform de-duplicates on.  One state machine,
:data:`TRANSITIONS`, covers every kind::

    pending --claim--> in_flight --acknowledge--> acknowledged
       ^                  |  \\--retry (attempts+1)--> pending
       |                  |   \\--dead_letter--> dead --requeue (staff)--> pending
       +----release-------+   (claimed, not tried; or found in flight after a crash)

``acknowledge``, ``retry`` and ``dead_letter`` also leave ``pending`` directly (a tool or a test
that records an outcome without a drainer).  An entry may name one it must wait for (``after``: a
revocation waits until its publication is acknowledged).  Cases come before other jobs in a round.
Whoever waits for an acknowledgement (:meth:`Outbox.wait_acknowledged`) is woken by the commit
that records it; nothing polls.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from offline_cache import attachments, audit
from offline_cache.db import Database
from offline_cache.errors import DuplicateCaseError, InvalidTransitionError, UnknownRecordError

log = logging.getLogger(__name__)

#: The kind of an entry that uploads a case (``POST /api/v1/cases``).
KIND_CASE = "case"


class OutboxState(enum.Enum):
    """Where an outbox entry stands.  Values are stable identifiers."""

    PENDING = "pending"  # waiting for (another) attempt
    IN_FLIGHT = "in_flight"  # claimed by the drainer; being sent
    ACKNOWLEDGED = "acknowledged"  # the platform acknowledged it
    DEAD = "dead"  # the platform refused it; hall staff must look at it
    SENT = "acknowledged"  # the name schema 2 used for ACKNOWLEDGED


class Transition(enum.Enum):
    CLAIM = "claim"
    ACKNOWLEDGE = "acknowledge"
    RETRY = "retry"
    DEAD_LETTER = "dead_letter"
    RELEASE = "release"
    REQUEUE = "requeue"


_P, _F, _A, _D = OutboxState.PENDING, OutboxState.IN_FLIGHT, OutboxState.ACKNOWLEDGED, OutboxState.DEAD
#: The one state machine: each transition, the states it leaves from and the state it leads to.
TRANSITIONS: Mapping[Transition, tuple[frozenset[OutboxState], OutboxState]] = {
    Transition.CLAIM: (frozenset({_P}), _F),
    Transition.ACKNOWLEDGE: (frozenset({_P, _F}), _A),
    Transition.RETRY: (frozenset({_P, _F}), _P),
    Transition.DEAD_LETTER: (frozenset({_P, _F}), _D),
    Transition.RELEASE: (frozenset({_F}), _P),
    Transition.REQUEUE: (frozenset({_D}), _P),
}
#: Audit events of the transitions that leave a trace, for cases and for other jobs.
_EVENTS = {
    Transition.ACKNOWLEDGE: ("case.uploaded", "job.sent"),
    Transition.DEAD_LETTER: ("case.dead_lettered", "job.dead_lettered"),
    Transition.REQUEUE: ("case.requeued", "job.requeued"),
}


@dataclass(frozen=True)
class OutboxEntry:
    """One entry of the queue; for a case, ``payload`` is the case body and ``item_id`` its item."""

    entry_id: str  # the idempotency key
    kind: str
    case_id: str | None
    item_id: str | None
    after: str | None  # not sent before this entry is acknowledged
    payload: bytes
    created_at: float
    state: OutboxState
    attempts: int
    next_attempt_at: float
    last_error: str | None

    @property
    def job_id(self) -> str:
        return self.entry_id

    @property
    def is_case(self) -> bool:
        return self.kind == KIND_CASE


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered entry as hall staff see it: no payload."""

    entry_id: str
    kind: str
    case_id: str | None
    item_id: str | None  # for a case
    created_at: float
    attempts: int
    last_error: str | None


_SELECT = (
    "SELECT e.entry_id, e.kind, e.case_id, c.item_id, e.after_entry, COALESCE(e.payload, c.payload), "
    "e.created_at, e.state, e.attempts, e.next_attempt_at, e.last_error FROM outbox_entries e "
    "LEFT JOIN cases c ON e.kind = 'case' AND c.case_id = e.entry_id"
)
_DUE = (
    " WHERE e.state = 'pending' AND e.next_attempt_at <= ? AND (? IS NULL OR (e.kind = 'case') = ?) AND "
    "(e.after_entry IS NULL OR EXISTS (SELECT 1 FROM outbox_entries p WHERE p.entry_id = e.after_entry "
    "AND p.state = 'acknowledged')) ORDER BY e.kind <> 'case', e.next_attempt_at, e.created_at LIMIT ?"
)
#: All kinds, cases only or other jobs only (parameters: :func:`_kind_params`).
_KIND_FILTER = "(? IS NULL OR (kind = 'case') = ?)"
_E_KIND_FILTER = "(? IS NULL OR (e.kind = 'case') = ?)"


def _entry(r: Any) -> OutboxEntry:
    payload = b"" if r[5] is None else bytes(r[5])
    return OutboxEntry(r[0], r[1], r[2], r[3], r[4], payload, r[6], OutboxState(r[7]), r[8], r[9], r[10])


def _kind_params(cases: bool | None) -> tuple[int | None, int | None]:
    flag = None if cases is None else int(cases)
    return flag, flag


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


def insert_case_entry(db: sqlite_utils.Database, case_id: str, created_at: float) -> None:
    """The outbox entry of a new case, inside the caller's write transaction (with the case row)."""
    db.execute(
        "INSERT INTO outbox_entries (entry_id, kind, case_id, created_at, state, attempts, next_attempt_at) "
        "VALUES (?, 'case', ?, ?, 'pending', 0, ?)",
        (case_id, case_id, created_at, created_at),
    )


class Outbox:
    """``store.outbox``: the one queue; see the module docstring."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._settled = threading.Condition()  # notified when an entry is acknowledged or dead-lettered

    # ------------------------------------------------------------------ adding

    def add(
        self,
        entry_id: str,
        kind: str,
        payload: bytes,
        created_at: float,
        *,
        case_id: str | None = None,
        after: str | None = None,
        attachment: attachments.NewAttachment | None = None,
    ) -> None:
        """Queue a job other than a case (with the attachment it uploads, if any) and an audit row,
        in one transaction.  Cases are queued by ``store.cases.add``."""
        if kind == KIND_CASE:
            raise ValueError("cases are queued with store.cases.add")
        with self._database.write() as db:
            if db.execute("SELECT 1 FROM outbox_entries WHERE entry_id = ?", (entry_id,)).fetchone():
                raise DuplicateCaseError(f"outbox entry {entry_id} already exists")
            if attachment is not None:
                if case_id is None:
                    raise ValueError("an attachment job needs its case id")
                attachments.insert(db, case_id, attachment, created_at)
            db.execute(
                "INSERT INTO outbox_entries (entry_id, kind, case_id, after_entry, payload, created_at, state, "
                "attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                (entry_id, kind, case_id, after, payload, created_at, created_at),
            )
            audit.append(db, "job.queued", {"job_id": entry_id, "kind": kind, "case_id": case_id}, created_at)

    # ------------------------------------------------------------------ the drainer's side

    def due(self, limit: int, now: float, *, cases: bool | None = None) -> list[OutboxEntry]:
        """Pending entries due at ``now`` whose ``after`` (if any) was acknowledged: cases first,
        then by due time.  ``cases``: True only cases, False only other jobs, None both."""
        with self._database.read() as db:
            rows = db.execute(_SELECT + _DUE, (now, *_kind_params(cases), limit)).fetchall()
        return [_entry(r) for r in rows]

    def claim(self, limit: int, now: float) -> list[OutboxEntry]:
        """Take what is due (as :meth:`due`) into ``in_flight``, in one transaction (not waiting
        for the disk: an entry whose claim a power cut loses is pending, as after any restart)."""
        with self._database.write(durable=False) as db:
            rows = db.execute(_SELECT + _DUE, (now, None, None, limit)).fetchall()
            found = [_entry(r) for r in rows]
            if found:
                db.execute(
                    "UPDATE outbox_entries SET state = 'in_flight' WHERE state = 'pending' AND entry_id IN "
                    f"({_placeholders(len(found))})",
                    [e.entry_id for e in found],
                )
        return [dataclasses.replace(e, state=OutboxState.IN_FLIGHT) for e in found]

    def release(self, entry_ids: Sequence[str]) -> None:
        """Claimed entries that were not tried go back to ``pending`` (no attempt counted)."""
        if not entry_ids:
            return
        with self._database.write(durable=False) as db:
            db.execute(
                "UPDATE outbox_entries SET state = 'pending' WHERE state = 'in_flight' AND entry_id IN "
                f"({_placeholders(len(entry_ids))})",
                list(entry_ids),
            )

    def recover_in_flight(self) -> int:
        """Entries left in flight (the process died mid-send) go back to ``pending``; the drainer
        calls this before its first round.  Re-sending is safe: the key is the same."""
        with self._database.write(durable=False) as db:
            n = int(
                db.execute("UPDATE outbox_entries SET state = 'pending' WHERE state = 'in_flight'").rowcount
            )
        if n:
            log.warning("outbox: %d entr%s found in flight, queued again", n, "y" if n == 1 else "ies")
        return n

    def acknowledge(self, entry_id: str, ack: bytes, at: float) -> None:
        """The platform acknowledged the entry; ``ack`` is its raw answer."""
        self._move(
            entry_id,
            Transition.ACKNOWLEDGE,
            "attempts = attempts + 1, sent_at = ?, ack = ?, last_error = NULL",
            (at, ack),
            at,
        )

    def retry(self, entry_id: str, error: str, next_attempt_at: float) -> None:
        """An attempt failed for a passing reason; try again at ``next_attempt_at``."""
        self._move(
            entry_id,
            Transition.RETRY,
            "attempts = attempts + 1, last_error = ?, next_attempt_at = ?",
            (error, next_attempt_at),
            None,
        )

    def dead_letter(self, entry_id: str, error: str) -> None:
        """The platform refused the entry (or this build cannot send it): park it for hall staff."""
        self._move(
            entry_id,
            Transition.DEAD_LETTER,
            "attempts = attempts + 1, last_error = ?",
            (error,),
            self._database.clock(),
        )

    def requeue(self, entry_id: str, now: float) -> None:
        """Put a dead letter back in the queue (maintenance mode); the one requeue path."""
        self._move(entry_id, Transition.REQUEUE, "next_attempt_at = ?", (now,), now)

    def _move(
        self, entry_id: str, transition: Transition, sets: str, params: tuple[Any, ...], at: float | None
    ) -> None:
        sources, target = TRANSITIONS[transition]
        with self._database.write() as db:
            row = db.execute(
                "SELECT kind, state FROM outbox_entries WHERE entry_id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                raise UnknownRecordError(f"no outbox entry {entry_id}")
            kind, state = str(row[0]), OutboxState(row[1])
            if state not in sources:
                raise InvalidTransitionError(
                    f"outbox entry {entry_id}: cannot {transition.value} from {state.value}"
                )
            db.execute(
                f"UPDATE outbox_entries SET state = ?, {sets} WHERE entry_id = ?",
                (target.value, *params, entry_id),
            )
            events = _EVENTS.get(transition)
            if events is not None and at is not None:
                if kind == KIND_CASE:
                    audit.append(db, events[0], {"case_id": entry_id}, at)
                else:
                    audit.append(db, events[1], {"job_id": entry_id}, at)
        if target in (OutboxState.ACKNOWLEDGED, OutboxState.DEAD):
            with self._settled:
                self._settled.notify_all()

    def wait_acknowledged(self, entry_id: str, timeout_s: float) -> bool:
        """Whether the entry is acknowledged within ``timeout_s`` (at once if it already is).

        Woken by the commit that acknowledges (or dead-letters) an entry in this process; False when
        the time ran out or the entry was dead-lettered."""
        deadline = time.monotonic() + timeout_s
        with self._settled:
            while True:
                entry = self.get(entry_id)
                if entry is not None and entry.state is OutboxState.ACKNOWLEDGED:
                    return True
                remaining = deadline - time.monotonic()
                if (entry is not None and entry.state is OutboxState.DEAD) or remaining <= 0:
                    return False
                self._settled.wait(remaining)

    # ------------------------------------------------------------------ reading

    def get(self, entry_id: str) -> OutboxEntry | None:
        with self._database.read() as db:
            r = db.execute(_SELECT + " WHERE e.entry_id = ?", (entry_id,)).fetchone()
        return None if r is None else _entry(r)

    def entries(
        self, *, kind: str | None = None, case_id: str | None = None, state: OutboxState | None = None
    ) -> list[OutboxEntry]:
        """Entries, oldest first, optionally of one kind, for one case and/or in one state."""
        st = None if state is None else state.value
        with self._database.read() as db:
            rows = db.execute(
                _SELECT + " WHERE (? IS NULL OR e.kind = ?) AND (? IS NULL OR e.case_id = ?) AND "
                "(? IS NULL OR e.state = ?) ORDER BY e.created_at, e.rowid",
                (kind, kind, case_id, case_id, st, st),
            ).fetchall()
        return [_entry(r) for r in rows]

    def ack(self, entry_id: str) -> bytes | None:
        """The platform's raw acknowledgement of the entry (None before it)."""
        with self._database.read() as db:
            r = db.execute("SELECT ack FROM outbox_entries WHERE entry_id = ?", (entry_id,)).fetchone()
        return None if r is None or r[0] is None else bytes(r[0])

    def counts(self, *, cases: bool | None = None) -> dict[OutboxState, int]:
        """Entries per state (every state present, zero included); ``cases`` as in :meth:`due`."""
        counts = dict.fromkeys(OutboxState, 0)
        with self._database.read() as db:
            for state, n in db.execute(
                f"SELECT state, COUNT(*) FROM outbox_entries WHERE {_KIND_FILTER} GROUP BY state",
                _kind_params(cases),
            ):
                counts[OutboxState(state)] = int(n)
        return counts

    def dead_letters(self, limit: int = 200, *, cases: bool | None = None) -> list[DeadLetter]:
        """Dead letters, cases first, oldest first, without their payload (maintenance mode)."""
        with self._database.read() as db:
            rows = db.execute(
                "SELECT e.entry_id, e.kind, e.case_id, c.item_id, e.created_at, e.attempts, e.last_error "
                "FROM outbox_entries e LEFT JOIN cases c ON e.kind = 'case' AND c.case_id = e.entry_id "
                f"WHERE e.state = 'dead' AND {_E_KIND_FILTER} "
                "ORDER BY e.kind <> 'case', e.created_at, e.entry_id LIMIT ?",
                (*_kind_params(cases), limit),
            ).fetchall()
        return [DeadLetter(*r) for r in rows]

    def next_due_at(self, *, cases: bool | None = None) -> float | None:
        """When the earliest pending entry becomes due (None when nothing is pending)."""
        with self._database.read() as db:
            row = db.execute(
                f"SELECT MIN(next_attempt_at) FROM outbox_entries WHERE state = 'pending' AND {_KIND_FILTER}",
                _kind_params(cases),
            ).fetchone()
        return None if row[0] is None else float(row[0])
