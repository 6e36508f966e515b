"""Two-factor staff access to maintenance mode: staff card + PIN, lockout, alarm, roles.

Seed 001 §9.3.3 asks for two factors.  The staff card (a PIV card whose certificate the hall's
issuer CA signed, :mod:`kiosk.maintenance.staff_card`) is the first; the PIN is the second, checked
by the card itself (PIV VERIFY), after which the card must sign a fresh challenge with the
certificate's key.  :class:`StaffAccess` holds the state between the two (a checked card waiting
for its PIN) and the terminal's own anti-hammering, on top of the card's PIN retry counter:

* ``max_failures`` (5) wrong PINs for one staff id within ``window_s`` lock that staff id for
  ``lock_s`` (15 min); a card that blocks its PIN (retry counter at zero) locks it at once;
* ``max_failures`` refused cards (another issuer, revoked, unknown staff, a cloned certificate:
  not a bank card put on the reader by mistake) within ``window_s`` lock every unlock on this
  terminal for ``lock_s``;
* the counters and locks are kept in the store's ``meta`` table (encrypted, survive a restart, so
  pulling the plug does not reset them);
* reaching a lock is an **alarm**: an audit record ``maintenance_lockout`` and a call of the
  alarm sink (``MaintenanceService.alarm_sink``: the platform alert; see docs/security.md).

Roles decide which maintenance functions a staff member may use (:data:`ROLE_FUNCTIONS`).
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.maintenance.staff_card import (
    PinCheck,
    Role,
    StaffCardRefusal,
    StaffCardResult,
    StaffEntry,
)
from offline_cache.store import Store

log = logging.getLogger(__name__)

MAX_FAILURES = 5
WINDOW_S = 15 * 60.0
LOCK_S = 15 * 60.0
#: How long a verified card waits for its PIN.
PIN_TIMEOUT_S = 60.0
META_KEY = "maintenance.access"
#: The terminal-wide counter of refused cards.
_CARDS = "*cards"
#: Card refusals that count towards the lock (a bank card or a card pulled too early does not).
COUNTED_REFUSALS = frozenset(
    {
        StaffCardRefusal.AUTH_FAILED,
        StaffCardRefusal.UNKNOWN_STAFF,
        StaffCardRefusal.WRONG_ISSUER,
        StaffCardRefusal.REVOKED,
    }
)
#: The card's answer to the PIN step → the refusal shown (OK, WRONG_PIN and BLOCKED handled apart).
_PIN_REFUSALS = {
    PinCheck.AUTH_FAILED: StaffCardRefusal.AUTH_FAILED,
    PinCheck.CARD_REMOVED: StaffCardRefusal.CARD_REMOVED,
    PinCheck.CARD_ERROR: StaffCardRefusal.CARD_ERROR,
    PinCheck.PIN_REQUIRED: StaffCardRefusal.CARD_ERROR,
}


class Function(enum.Enum):
    """Maintenance functions.  Values are stable identifiers (audit trail, UI)."""

    DIAGNOSTICS = "diagnostics"
    CONSUMABLES = "consumables"
    TEST_PRINT = "test_print"
    SYNC = "sync"
    OUTBOX = "outbox"
    REQUEUE = "requeue"
    LOGS = "logs"


ROLE_FUNCTIONS: dict[Role, frozenset[Function]] = {
    Role.OPERATOR: frozenset(
        {
            Function.DIAGNOSTICS,
            Function.CONSUMABLES,
            Function.TEST_PRINT,
            Function.SYNC,
            Function.OUTBOX,
            Function.REQUEUE,
        }
    ),
    Role.TECHNICIAN: frozenset(Function),
    Role.AUDITOR: frozenset({Function.DIAGNOSTICS, Function.OUTBOX, Function.LOGS}),
}


@dataclass(frozen=True)
class Pending:
    """A verified card waiting for its PIN."""

    staff_id: str
    entry: StaffEntry
    reader: str
    since: float


@dataclass(frozen=True)
class PinOutcome:
    """The answer to a PIN: entered, or why not (with the attempts left before the lock)."""

    staff_id: str | None
    role: Role | None = None
    refusal: StaffCardRefusal | None = None
    attempts_left: int | None = None
    locked_until: float | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None and self.staff_id is not None


class StaffAccess:
    """The second factor and the lockout (thread-safe; the watcher and the GUI worker call it)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        lock_s: float = LOCK_S,
        pin_timeout_s: float = PIN_TIMEOUT_S,
        allow_card_only: bool = False,
    ) -> None:
        self.store = store
        self._clock = clock
        self.max_failures = max_failures
        self.window_s = window_s
        self.lock_s = lock_s
        self.pin_timeout_s = pin_timeout_s
        #: Demo profile only: a registry entry without PIN unlocks with the card alone.
        self.allow_card_only = allow_card_only
        self.alarm_sink: Callable[[dict[str, Any]], None] | None = None
        self._lock = threading.RLock()
        self._pending: Pending | None = None

    # ------------------------------------------------------------------ persisted state
    def _state(self) -> dict[str, dict[str, Any]]:
        raw = self.store.meta.get(META_KEY)
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:
            state = {}
        if not isinstance(state, dict):
            state = {}
        return {"failures": dict(state.get("failures", {})), "locked": dict(state.get("locked", {}))}

    def _save(self, state: dict[str, Any]) -> None:
        self.store.meta.set(META_KEY, json.dumps(state, sort_keys=True))

    def locked_until(self, staff_id: str | None = None) -> float | None:
        """When the lock on ``staff_id`` (or on every unlock) ends; None when not locked."""
        now = self._clock()
        locked = self._state()["locked"]
        ends = [float(locked[k]) for k in (_CARDS, staff_id) if k is not None and k in locked]
        ends = [t for t in ends if t > now]
        return max(ends) if ends else None

    def _fail(
        self, subject: str, reason: str, reader: str, *, lock_now: bool = False
    ) -> tuple[int, float | None]:
        """Count one refusal for ``subject`` (``lock_now``: lock whatever the count); returns
        (attempts left, lock end if it locked now)."""
        now = self._clock()
        state = self._state()
        recent = [float(t) for t in state["failures"].get(subject, []) if now - float(t) < self.window_s]
        recent.append(now)
        until: float | None = None
        if lock_now or len(recent) >= self.max_failures:
            until = now + self.lock_s
            state["locked"][subject] = until
            recent = []
        state["failures"][subject] = recent
        self._save(state)
        if until is not None:
            self._alarm(subject, reason, reader, until)
        return max(0, self.max_failures - len(recent)) if until is None else 0, until

    def _clear(self, *subjects: str) -> None:
        state = self._state()
        for subject in subjects:
            state["failures"].pop(subject, None)
            state["locked"].pop(subject, None)
        self._save(state)

    def _alarm(self, subject: str, reason: str, reader: str, until: float) -> None:
        alarm = {
            "alarm": "maintenance_lockout",
            "scope": "terminal" if subject == _CARDS else "staff",
            "staff": None if subject == _CARDS else subject,
            "reason": reason,
            "reader": reader,
            "failures": self.max_failures,
            "locked_until": round(until, 3),
        }
        log.error(
            "SECURITY ALARM: maintenance unlock locked until %.0f after %d refusals (%s, %s)",
            until,
            self.max_failures,
            alarm["scope"],
            reason,
        )
        self.store.audit_trail.append("maintenance_lockout", alarm)
        if self.alarm_sink is not None:
            try:
                self.alarm_sink(alarm)
            except Exception:  # the audit record is there; the sink retries on its own terms
                log.exception("the lockout alarm could not be handed to the platform")

    # ------------------------------------------------------------------ the two factors
    @property
    def pending(self) -> Pending | None:
        with self._lock:
            p = self._pending
            if p is not None and self._clock() - p.since > self.pin_timeout_s:
                self._pending = p = None
            return p

    def card_refused(self, result: StaffCardResult, reader: str) -> PinOutcome:
        """A card did not verify; forged/unknown cards count towards the terminal-wide lock."""
        refusal = result.refusal or StaffCardRefusal.CARD_ERROR
        if refusal in COUNTED_REFUSALS:
            with self._lock:
                left, until = self._fail(_CARDS, refusal.value, reader)
            return PinOutcome(result.staff_id, None, refusal, left, until)
        return PinOutcome(result.staff_id, None, refusal)

    def card_verified(self, result: StaffCardResult, reader: str) -> PinOutcome:
        """The card's certificate checked out (first factor).  Returns ``ok`` when the card alone
        suffices (demo profile, and only with a card that signs without its PIN), a refusal (locked
        out, a card that fails the challenge), or ``refusal=None, ok=False`` meaning "waiting for
        the PIN" (:meth:`submit_pin`)."""
        staff_id, entry = result.staff_id, result.entry
        if staff_id is None or entry is None:
            return PinOutcome(staff_id, None, StaffCardRefusal.UNKNOWN_STAFF)
        with self._lock:
            self._pending = None
            until = self.locked_until(staff_id)
            if until is not None:
                return PinOutcome(staff_id, None, StaffCardRefusal.LOCKED_OUT, 0, until)
            if entry.pin_check is None:
                return PinOutcome(staff_id, None, StaffCardRefusal.PIN_NOT_PROVISIONED)
            if self.allow_card_only:
                answer = entry.pin_check(None)
                if answer.check is PinCheck.OK:
                    return PinOutcome(staff_id, entry.role)
                if answer.check is not PinCheck.PIN_REQUIRED:
                    return self._card_failed(staff_id, answer.check, reader)
            self._pending = Pending(staff_id, entry, reader, self._clock())
            return PinOutcome(None, None, None, self.attempts_left(staff_id))

    def _card_failed(self, staff_id: str, check: PinCheck, reader: str) -> PinOutcome:
        refusal = _PIN_REFUSALS.get(check, StaffCardRefusal.CARD_ERROR)
        if refusal is StaffCardRefusal.AUTH_FAILED:  # a cloned certificate: counts like a forged card
            left, until = self._fail(_CARDS, refusal.value, reader)
            return PinOutcome(staff_id, None, refusal, left, until)
        return PinOutcome(staff_id, None, refusal)

    def attempts_left(self, staff_id: str) -> int:
        now = self._clock()
        recent = [t for t in self._state()["failures"].get(staff_id, []) if now - float(t) < self.window_s]
        return max(0, self.max_failures - len(recent))

    def submit_pin(self, pin: str) -> PinOutcome:
        """The second factor for the pending card.  A wrong PIN counts towards the staff id's lock."""
        with self._lock:
            pending = self.pending
            if pending is None:
                return PinOutcome(None, None, StaffCardRefusal.CARD_REMOVED)
            until = self.locked_until(pending.staff_id)
            if until is not None:
                self._pending = None
                return PinOutcome(pending.staff_id, None, StaffCardRefusal.LOCKED_OUT, 0, until)
            assert pending.entry.pin_check is not None
            answer = pending.entry.pin_check(pin)
            if answer.check is PinCheck.OK:
                self._pending = None
                self._clear(pending.staff_id, _CARDS)
                return PinOutcome(pending.staff_id, pending.entry.role)
            if answer.check in (PinCheck.WRONG_PIN, PinCheck.BLOCKED):
                blocked = answer.check is PinCheck.BLOCKED
                reason = "card_blocked" if blocked else StaffCardRefusal.WRONG_PIN.value
                left, until = self._fail(pending.staff_id, reason, pending.reader, lock_now=blocked)
                if until is not None:
                    self._pending = None
                    return PinOutcome(pending.staff_id, None, StaffCardRefusal.LOCKED_OUT, 0, until)
                if answer.tries_left is not None:  # the card's counter may be lower than ours
                    left = min(left, answer.tries_left)
                return PinOutcome(pending.staff_id, None, StaffCardRefusal.WRONG_PIN, left)
            self._pending = None
            return self._card_failed(pending.staff_id, answer.check, pending.reader)

    def cancel(self) -> bool:
        """Forget the pending card (removed, or staff pressed cancel).  True when one was pending."""
        with self._lock:
            had, self._pending = self._pending is not None, None
            return had
