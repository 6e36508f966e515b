"""The card step alone: the serial ID card reader against the simulated module (real wire
protocol on a pty), a real store, no terminal."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from devices.idcard.driver import SerialIdCardReader
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.simulator import IdCardSimulator
from kiosk.session.context import SessionContext
from kiosk.session.events import CardAccepted, CardNotLifted, CardRefused, CardWaiting
from kiosk.session.machine import EndReason, Step
from kiosk.session.steps.card import CardStep
from offline_cache.store import Store
from tests.kiosk.steps.helpers import Recorder, make_ctx, walk_to


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    s = IdCardSimulator().start()
    yield s
    s.stop()


@pytest.fixture
def card(ctx: SessionContext, sim: IdCardSimulator) -> Iterator[CardStep]:
    reader = SerialIdCardReader(sim.port, 115200, poll_interval=0.05)
    step = CardStep(ctx, reader, SimulatorPhotoDecoder())
    yield step
    step.close()
    reader.close()


def test_a_card_read_moves_to_the_face_check_and_is_audited_masked(
    ctx: SessionContext, sim: IdCardSimulator, card: CardStep, recorder: Recorder
) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    sim.insert("senior")
    read = card.read()
    assert read is not None and read.text.id_number == "371402195203140022"
    assert ctx.machine.step is Step.FACE_CHECK
    assert ctx.data.identity.card is read and ctx.data.identity.identity_source == "card"
    assert ctx.data.identity.card_photo is not None  # decoded for the face check
    accepted = recorder.of(CardAccepted)
    assert len(accepted) == 1 and accepted[0].source == "card"  # type: ignore[attr-defined]
    audit = [r for r in ctx.store.audit_trail.records() if r.event == "card_read"]
    assert len(audit) == 1
    assert "371402195203140022" not in str(audit[0].details)  # the number is masked


def test_a_card_left_from_the_last_session_is_not_read_again(
    ctx: SessionContext, sim: IdCardSimulator, card: CardStep, recorder: Recorder
) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    sim.insert("senior")
    assert card.read() is not None
    ctx.machine.reset(EndReason.CANCELLED)  # the citizen walks away, the card stays
    assert card.awaiting_lift
    walk_to(ctx, Step.READ_CARD, "senior-card")
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(card.read()), daemon=True)
    worker.start()
    worker.join(timeout=1.5)
    assert worker.is_alive() and ctx.data.identity.card is None  # nothing read from the old card
    assert len(recorder.of(CardNotLifted)) == 1  # asked once to lift and place it again
    sim.remove()
    deadline = time.monotonic() + 5.0
    while card.awaiting_lift and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not card.awaiting_lift  # the reader saw no card
    sim.insert("senior")  # placed again: this session's card
    worker.join(timeout=5.0)
    assert got and got[0] is not None and ctx.machine.step is Step.FACE_CHECK


def test_the_card_lift_watch_polls_at_the_configured_interval(store: Store, sim: IdCardSimulator) -> None:
    """``session.card_lift_poll_s``: how often an accepted card is looked for until it is lifted."""
    ctx = make_ctx(store, card_timeout_s=10.0, card_lift_poll_s=0.05)
    reader = SerialIdCardReader(sim.port, 115200, poll_interval=0.05)
    polls: list[float] = []
    present = reader.card_present

    def counted() -> bool:
        polls.append(time.monotonic())
        return present()

    reader.card_present = counted  # type: ignore[method-assign]
    card = CardStep(ctx, reader, SimulatorPhotoDecoder())
    try:
        walk_to(ctx, Step.READ_CARD, "senior-card")
        sim.insert("senior")
        assert card.read() is not None and card.awaiting_lift
        time.sleep(0.6)  # the card stays on the reader: the watch keeps asking
        assert len(polls) >= 4  # every 0.05 s (the default 0.5 s would have asked once)
        sim.remove()
        deadline = time.monotonic() + 5.0
        while card.awaiting_lift and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not card.awaiting_lift
    finally:
        card.close()
        reader.close()


class JumpingClock:
    """A monotonic clock that moves ``step`` seconds on every reading: a long wait without waiting."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_card_placed_after_the_card_timeout_is_still_read(store: Store, sim: IdCardSimulator) -> None:
    ctx = make_ctx(store, card_timeout_s=60.0)
    recorder = Recorder()
    ctx.events.subscribe(recorder)
    reader = SerialIdCardReader(sim.port, 115200, poll_interval=0.05)
    clock = JumpingClock(15.0)  # each turn of the wait counts as 15 s
    card = CardStep(ctx, reader, SimulatorPhotoDecoder(), monotonic=clock)
    walk_to(ctx, Step.READ_CARD, "senior-card")
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(card.read()), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 20.0
        while clock.now < 150.0 and time.monotonic() < deadline:  # two and a half minutes "later"
            time.sleep(0.05)
        assert clock.now >= 150.0 and worker.is_alive()  # still listening past card_timeout_s
        assert ctx.machine.step is Step.READ_CARD and ctx.data.identity.card is None
        sim.insert("senior")
        worker.join(timeout=10.0)
    finally:
        ctx.cancelled.set()
        worker.join(timeout=5.0)
        card.close()
        reader.close()
    assert got and got[0] is not None and ctx.machine.step is Step.FACE_CHECK
    waiting = recorder.of(CardWaiting)
    assert waiting and all(e.waited_s >= 60.0 for e in waiting)  # type: ignore[attr-defined]
    assert len(recorder.of(CardAccepted)) == 1


def test_an_expired_card_is_refused_at_the_card_step_with_what_to_do(
    ctx: SessionContext, sim: IdCardSimulator, card: CardStep, recorder: Recorder
) -> None:
    walk_to(ctx, Step.READ_CARD, "resident-pension")
    sim.insert("expired")
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(card.read()), daemon=True)
    worker.start()
    deadline = time.monotonic() + 10.0
    while not recorder.of(CardRefused) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        [refused] = recorder.of(CardRefused)
        assert refused.problems == ("expired",)  # type: ignore[attr-defined]
        assert refused.message == ("身份证件已过期", "The ID card has expired")  # type: ignore[attr-defined]
        assert refused.advice_key == "citizen.card.advice_expired"  # type: ignore[attr-defined]
        # the step stays, nothing of the card is kept, and it keeps listening for another card
        assert ctx.machine.step is Step.READ_CARD and ctx.data.identity.card is None and worker.is_alive()
        assert not recorder.of(CardAccepted) and not recorder.of(CardNotLifted)
        refusals = [r for r in ctx.store.audit_trail.records() if r.event == "card_read"]
        assert [r.details.get("refused") for r in refusals] == ["expired"]
        sim.remove()
        time.sleep(0.6)
        sim.insert("senior")  # a valid card is read at once
        worker.join(timeout=10.0)
    finally:
        ctx.cancelled.set()
        worker.join(timeout=5.0)
    assert got and got[0] is not None and ctx.machine.step is Step.FACE_CHECK
    assert len(recorder.of(CardRefused)) == 1  # the refused card was not reported again while it lay there


def test_a_card_with_a_wrong_check_digit_is_refused_with_another_advice(
    ctx: SessionContext, sim: IdCardSimulator, card: CardStep, recorder: Recorder
) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    sim.insert("bad-check-digit")
    threading.Timer(1.5, ctx.cancelled.set).start()
    assert card.read() is None
    [refused] = recorder.of(CardRefused)
    assert "id_number_invalid" in refused.problems  # type: ignore[attr-defined]
    assert refused.advice_key == "citizen.card.advice_number"  # type: ignore[attr-defined]
    assert ctx.machine.step is Step.READ_CARD


def test_a_cancelled_wait_returns_promptly(ctx: SessionContext, card: CardStep) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    threading.Timer(0.3, ctx.cancelled.set).start()
    started = time.monotonic()
    assert card.read() is None  # the card timeout is 10 s
    assert time.monotonic() - started < 2.0


def test_no_qr_identity_without_a_scanner(ctx: SessionContext, card: CardStep) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    assert not card.qr_available
    assert card.identify_by_qr(timeout_s=0.2) is None
