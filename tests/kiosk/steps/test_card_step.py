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
from kiosk.session.events import CardAccepted, CardNotLifted
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


def test_nothing_placed_times_out_on_the_same_step(store: Store, sim: IdCardSimulator) -> None:
    ctx = make_ctx(store, card_timeout_s=0.8)
    recorder = Recorder()
    ctx.events.subscribe(recorder)
    reader = SerialIdCardReader(sim.port, 115200, poll_interval=0.05)
    card = CardStep(ctx, reader, SimulatorPhotoDecoder())
    walk_to(ctx, Step.READ_CARD, "senior-card")
    started = time.monotonic()
    try:
        assert card.read() is None
    finally:
        reader.close()
    assert time.monotonic() - started < 3.0
    assert ctx.machine.step is Step.READ_CARD and ctx.data.identity.card is None
    assert not recorder.of(CardAccepted)


def test_a_cancelled_wait_returns_promptly(ctx: SessionContext, card: CardStep) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    threading.Timer(0.3, ctx.cancelled.set).start()
    started = time.monotonic()
    assert card.read() is None  # the card timeout is 10 s
    assert time.monotonic() - started < 2.0


def test_staff_confirm_the_identity_and_the_case_is_flagged(ctx: SessionContext, card: CardStep) -> None:
    walk_to(ctx, Step.STAFF_ASSIST, "senior-card")
    assert not ctx.data.identity.staff_assisted_identity
    card.confirm_by_staff()
    assert ctx.machine.step is Step.FORM and ctx.data.identity.staff_assisted_identity


def test_no_qr_identity_without_a_scanner(ctx: SessionContext, card: CardStep) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    assert not card.qr_available
    assert card.identify_by_qr(timeout_s=0.2) is None
