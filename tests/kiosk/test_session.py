"""The session state machine: transitions, reset, listeners, idle timer and step timings."""

from __future__ import annotations

from collections import deque

import pytest

from kiosk.session.machine import (
    CITIZEN_STEPS,
    HAPPY_PATH,
    TRANSITIONS,
    EndReason,
    SessionMachine,
    Step,
    TransitionError,
)


class FakeClock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def walk_to(machine: SessionMachine, target: Step) -> None:
    """From ATTRACT along the happy path until ``target``."""
    machine.go(Step.CHOOSE_ITEM)
    for step in HAPPY_PATH[1:]:
        if machine.step is target:
            return
        machine.go(step)
    assert machine.step is target


def test_every_step_has_a_transition_entry() -> None:
    assert set(TRANSITIONS) == set(Step)
    for targets in TRANSITIONS.values():
        assert targets <= set(Step)


def test_every_step_is_reachable_from_attract() -> None:
    seen = {Step.ATTRACT}
    queue = deque([Step.ATTRACT])
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == set(Step)


def test_happy_path_transitions_are_allowed_and_return_to_attract() -> None:
    machine = SessionMachine(clock=FakeClock())
    previous = Step.ATTRACT
    for step in HAPPY_PATH:
        assert step in TRANSITIONS[previous]
        assert machine.can_go(step)
        machine.go(step)
        assert machine.step is step
        previous = step
    machine.go(Step.ATTRACT)
    assert machine.step is Step.ATTRACT


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (Step.ATTRACT, Step.READ_CARD),
        (Step.ATTRACT, Step.RESULT),
        (Step.CHOOSE_ITEM, Step.SUBMIT),
        (Step.READ_CARD, Step.FORM),
        (Step.FACE_CHECK, Step.REVIEW),
        (Step.REVIEW, Step.SUBMIT),
        (Step.SUBMIT, Step.FORM),
        (Step.RESULT, Step.ATTRACT),
        (Step.RATING, Step.CHOOSE_ITEM),
    ],
)
def test_disallowed_transition_raises_and_keeps_the_step(start: Step, target: Step) -> None:
    machine = SessionMachine(clock=FakeClock())
    if start is not Step.ATTRACT:
        walk_to(machine, start)
    data_before = machine.data
    timings_before = list(machine.data.timings)
    assert not machine.can_go(target)
    with pytest.raises(TransitionError, match=f"{start.value} -> {target.value}"):
        machine.go(target)
    assert machine.step is start
    assert machine.data is data_before
    assert machine.data.timings == timings_before


def test_out_of_service_only_leaves_to_attract_or_maintenance() -> None:
    machine = SessionMachine(clock=FakeClock())
    machine.go(Step.OUT_OF_SERVICE)
    for step in Step:
        if step not in (Step.ATTRACT, Step.MAINTENANCE):
            with pytest.raises(TransitionError):
                machine.go(step)
    machine.go(Step.ATTRACT)
    assert machine.step is Step.ATTRACT


@pytest.mark.parametrize("step", [s for s in Step if s in CITIZEN_STEPS])
def test_reset_from_any_citizen_step_wipes_the_session(step: Step) -> None:
    machine = SessionMachine(clock=FakeClock())
    if step in HAPPY_PATH:
        walk_to(machine, step)
    elif step is Step.STAFF_ASSIST:
        walk_to(machine, Step.FACE_CHECK)
        machine.go(Step.STAFF_ASSIST)
    else:
        assert step is Step.DEVICE_PROBLEM
        walk_to(machine, Step.READ_CARD)
        machine.go(Step.DEVICE_PROBLEM)
    data = machine.data
    data.item_id = "senior-card"
    data.identity.card = object()
    data.application.form["phone"] = "13905340000"
    old_id = data.session_id

    old = machine.reset(EndReason.CANCELLED)

    assert machine.step is Step.ATTRACT
    assert old is data
    assert old.session_id == old_id
    assert old.item_id == "senior-card"
    assert old.application.form == {"phone": "13905340000"}
    new = machine.data
    assert new is not old
    assert new.session_id != old_id
    assert new.item_id is None
    assert new.identity.card is None
    assert new.application.form == {}
    assert new.application.materials == {}
    assert new.application.decision is None
    assert new.timings == []


def test_listeners_get_old_and_new_step() -> None:
    machine = SessionMachine(clock=FakeClock())
    calls: list[tuple[Step, Step]] = []
    machine.subscribe(lambda old, new: calls.append((old, new)))
    machine.go(Step.CHOOSE_ITEM)
    machine.go(Step.READ_CARD)
    machine.go(Step.DEVICE_PROBLEM)
    machine.reset(EndReason.IDLE_TIMEOUT)
    assert calls == [
        (Step.ATTRACT, Step.CHOOSE_ITEM),
        (Step.CHOOSE_ITEM, Step.READ_CARD),
        (Step.READ_CARD, Step.DEVICE_PROBLEM),
        (Step.DEVICE_PROBLEM, Step.ATTRACT),
    ]


def test_listener_not_called_for_a_refused_transition() -> None:
    machine = SessionMachine(clock=FakeClock())
    calls: list[tuple[Step, Step]] = []
    machine.subscribe(lambda old, new: calls.append((old, new)))
    with pytest.raises(TransitionError):
        machine.go(Step.SUBMIT)
    assert calls == []


TIMEOUT = 90.0
WARNING = 20.0


def test_idle_state_warning_window_and_expiry() -> None:
    clock = FakeClock()
    machine = SessionMachine(clock=clock)
    machine.go(Step.CHOOSE_ITEM)
    assert machine.idle_state(TIMEOUT, WARNING) == (False, False, TIMEOUT)

    clock.advance(TIMEOUT - WARNING - 0.5)  # 69.5 s idle: before the warning window
    warn, expired, left = machine.idle_state(TIMEOUT, WARNING)
    assert (warn, expired) == (False, False)
    assert left == pytest.approx(WARNING + 0.5)

    clock.advance(1.0)  # 70.5 s: inside the warning window
    warn, expired, left = machine.idle_state(TIMEOUT, WARNING)
    assert (warn, expired) == (True, False)
    assert left == pytest.approx(WARNING - 0.5)

    clock.advance(WARNING - 0.5)  # exactly at the timeout
    assert machine.idle_state(TIMEOUT, WARNING) == (True, True, 0.0)

    clock.advance(30.0)  # long past: seconds left never negative
    assert machine.idle_state(TIMEOUT, WARNING) == (True, True, 0.0)


@pytest.mark.parametrize("step", [Step.ATTRACT, Step.OUT_OF_SERVICE])
def test_idle_state_never_fires_outside_citizen_steps(step: Step) -> None:
    clock = FakeClock()
    machine = SessionMachine(clock=clock)
    if step is not Step.ATTRACT:
        machine.go(step)
    clock.advance(TIMEOUT * 10)
    assert machine.idle_state(TIMEOUT, WARNING) == (False, False, TIMEOUT)


def test_touch_restarts_the_idle_timer() -> None:
    clock = FakeClock()
    machine = SessionMachine(clock=clock)
    machine.go(Step.CHOOSE_ITEM)
    clock.advance(TIMEOUT - 5.0)
    assert machine.idle_state(TIMEOUT, WARNING)[0] is True
    machine.touch()
    assert machine.idle_seconds() == 0.0
    assert machine.idle_state(TIMEOUT, WARNING) == (False, False, TIMEOUT)
    clock.advance(TIMEOUT - 5.0)
    warn, expired, _left = machine.idle_state(TIMEOUT, WARNING)
    assert (warn, expired) == (True, False)


def test_going_to_a_step_restarts_the_idle_timer() -> None:
    clock = FakeClock()
    machine = SessionMachine(clock=clock)
    machine.go(Step.CHOOSE_ITEM)
    clock.advance(TIMEOUT - 1.0)
    machine.go(Step.READ_CARD)
    assert machine.idle_state(TIMEOUT, WARNING) == (False, False, TIMEOUT)


def test_timings_recorded_per_step_in_ms() -> None:
    clock = FakeClock()
    machine = SessionMachine(clock=clock)
    clock.advance(5.0)  # time on the attract screen
    machine.go(Step.CHOOSE_ITEM)
    clock.advance(1.25)
    machine.go(Step.READ_CARD)
    clock.advance(0.5)
    machine.go(Step.READ_CARD)  # a retry records the step again
    clock.advance(2.0)
    machine.go(Step.FACE_CHECK)
    clock.advance(0.75)
    old = machine.reset(EndReason.CANCELLED)
    assert old.timings == [
        ("attract", 5000.0),
        ("choose_item", 1250.0),
        ("read_card", 500.0),
        ("read_card", 2000.0),
        ("face_check", 750.0),
    ]
    assert machine.data.timings == []


def test_reset_on_attract_records_nothing_and_notifies() -> None:
    clock = FakeClock()
    machine = SessionMachine(clock=clock)
    calls: list[tuple[Step, Step]] = []
    machine.subscribe(lambda old, new: calls.append((old, new)))
    clock.advance(3.0)
    old = machine.reset(EndReason.COMPLETED)
    assert old.timings == []
    assert calls == [(Step.ATTRACT, Step.ATTRACT)]
