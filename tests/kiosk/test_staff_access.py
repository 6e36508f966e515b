"""Issue 17, staff access: card + PIN (seed 001 §9.3.3), lockout persisted in the real store, the
alarm, and roles.  The PIN is checked by a simulated PIV card (tests/kiosk/piv_cards.py); the pcscd
path is test_maintenance_piv_pcsc.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.maintenance.access import LOCK_S, PIN_TIMEOUT_S, ROLE_FUNCTIONS, Function, StaffAccess
from kiosk.maintenance.staff_card import Role, StaffCardRefusal, StaffCardResult
from offline_cache.store import Store
from tests.kiosk.piv_cards import PIN, verified_card

READER = "reader-0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _verified(staff_id: str = "S0042") -> StaffCardResult:
    return verified_card(staff_id)


def _events(store: Store, name: str) -> list[dict[str, Any]]:
    return [dict(r.details) for r in store.audit_trail.records() if r.event == name]


def test_the_card_alone_opens_nothing_the_pin_does(store: Store) -> None:
    access = StaffAccess(store, clock=Clock())
    waiting = access.card_verified(_verified(), READER)
    assert not waiting.ok and waiting.refusal is None and waiting.attempts_left == 5
    assert access.pending is not None and access.pending.staff_id == "S0042"
    done = access.submit_pin(PIN)
    assert done.ok and done.staff_id == "S0042" and done.role is Role.OPERATOR
    assert access.pending is None
    assert access.submit_pin(PIN).refusal is StaffCardRefusal.CARD_REMOVED  # no card waiting


def test_five_wrong_pins_lock_the_staff_id_persistently_and_raise_the_alarm(
    store: Store, tmp_path: Path
) -> None:
    clock = Clock()
    alarms: list[dict[str, Any]] = []
    access = StaffAccess(store, clock=clock)
    access.alarm_sink = alarms.append
    access.card_verified(_verified(), READER)
    for left in (4, 3, 2, 1):
        outcome = access.submit_pin("000000")
        assert (outcome.refusal, outcome.attempts_left) == (StaffCardRefusal.WRONG_PIN, left)
    locked = access.submit_pin("000000")
    assert locked.refusal is StaffCardRefusal.LOCKED_OUT and locked.locked_until == clock.now + LOCK_S
    assert access.pending is None
    (audit,) = _events(store, "maintenance_lockout")
    assert audit["scope"] == "staff" and audit["staff"] == "S0042" and audit["reason"] == "wrong_pin"
    assert alarms == [audit]
    assert PIN not in str(audit)

    # A restart does not reset the lock (it is in the store), and the right PIN does not help.
    store.close()
    reopened = Store(tmp_path / "kiosk.db", key=bytes(range(32)))
    try:
        again = StaffAccess(reopened, clock=clock)
        refused = again.card_verified(_verified(), READER)
        assert refused.refusal is StaffCardRefusal.LOCKED_OUT
        # Another staff member is not locked out by it.
        assert again.card_verified(_verified("S0007"), READER).refusal is None
        clock.now += LOCK_S + 1
        assert again.card_verified(_verified(), READER).refusal is None
        assert again.submit_pin(PIN).ok
    finally:
        reopened.close()


def test_failures_outside_the_window_and_after_a_success_do_not_add_up(store: Store) -> None:
    clock = Clock()
    access = StaffAccess(store, clock=clock)
    access.card_verified(_verified(), READER)
    for _ in range(4):
        access.submit_pin("111111")
    clock.now += 16 * 60  # past the 15 min window (the PIN request expired too: card again)
    access.card_verified(_verified(), READER)
    assert access.submit_pin("111111").attempts_left == 4
    access.submit_pin(PIN)
    access.card_verified(_verified(), READER)
    assert access.submit_pin("111111").attempts_left == 4  # the success reset the count


def test_forged_cards_lock_every_unlock_but_bank_cards_do_not_count(store: Store) -> None:
    clock = Clock()
    access = StaffAccess(store, clock=clock)
    for _ in range(10):
        assert (
            access.card_refused(StaffCardResult(None, StaffCardRefusal.NOT_STAFF_CARD), READER).attempts_left
            is None
        )
    for left in (4, 3, 2, 1):
        assert (
            access.card_refused(StaffCardResult(None, StaffCardRefusal.AUTH_FAILED), READER).attempts_left
            == left
        )
    last = access.card_refused(StaffCardResult(None, StaffCardRefusal.UNKNOWN_STAFF), READER)
    assert last.locked_until == clock.now + LOCK_S
    (audit,) = _events(store, "maintenance_lockout")
    assert audit["scope"] == "terminal" and audit["staff"] is None
    # Now even a genuine card + PIN waits for the lock to end.
    assert access.card_verified(_verified(), READER).refusal is StaffCardRefusal.LOCKED_OUT
    clock.now += LOCK_S + 1
    access.card_verified(_verified(), READER)
    assert access.submit_pin(PIN).ok


def test_a_card_that_signs_without_its_pin_unlocks_alone_only_in_the_demo(store: Store) -> None:
    production = StaffAccess(store)
    waiting = production.card_verified(verified_card("S1", pin=None), READER)
    assert not waiting.ok and waiting.refusal is None  # the PIN is asked for all the same
    production.cancel()
    demo = StaffAccess(store, allow_card_only=True)
    assert demo.card_verified(verified_card("S1", pin=None), READER).ok
    # A card that wants its PIN: the demo asks for it too.
    assert demo.card_verified(verified_card("S1"), READER).refusal is None and demo.pending is not None


def test_a_pin_request_expires_and_a_removed_card_cancels_it(store: Store) -> None:
    clock = Clock()
    access = StaffAccess(store, clock=clock)
    access.card_verified(_verified(), READER)
    clock.now += PIN_TIMEOUT_S + 1
    assert access.submit_pin(PIN).refusal is StaffCardRefusal.CARD_REMOVED
    access.card_verified(_verified(), READER)
    assert access.cancel() and not access.cancel()
    assert access.submit_pin(PIN).refusal is StaffCardRefusal.CARD_REMOVED


def test_roles() -> None:
    assert ROLE_FUNCTIONS[Role.TECHNICIAN] == frozenset(Function)
    assert Function.LOGS not in ROLE_FUNCTIONS[Role.OPERATOR]
    assert ROLE_FUNCTIONS[Role.AUDITOR] == {Function.DIAGNOSTICS, Function.OUTBOX, Function.LOGS}
