"""Help from a person, step by step: staff-assisted identity needs a verified staff card (and its
PIN when the registry holds one), and the citizen's call for staff is audited, published and rung.
A real store and the real second factor and lockout (StaffAccess); no terminal."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.maintenance.access import StaffAccess
from kiosk.maintenance.staff_card import StaffCardRefusal, StaffCardResult
from kiosk.review.engine import Decision, Outcome
from kiosk.session.chime import Chime
from kiosk.session.context import SessionContext
from kiosk.session.events import StaffCallRequested, StaffIdentityUpdate
from kiosk.session.machine import Step
from kiosk.session.steps.case_record import case_payload
from kiosk.session.steps.staff import StaffAssistStep, StaffCall
from offline_cache.store import Store
from tests.kiosk.piv_cards import verified_card
from tests.kiosk.steps.helpers import NOW, Recorder, walk_to

PIN = "246810"


def _audit(store: Store, prefix: str) -> list[tuple[str, dict[str, object]]]:
    return [(r.event, dict(r.details)) for r in store.audit_trail.records() if r.event.startswith(prefix)]


@pytest.fixture
def staff(ctx: SessionContext) -> StaffAssistStep:
    return StaffAssistStep(ctx)


def verified(staff_id: str = "S0042", pin: str | None = PIN) -> StaffCardResult:
    return verified_card(staff_id, pin)


def test_the_staff_card_and_its_pin_confirm_the_identity_with_the_staff_id(
    ctx: SessionContext, store: Store, staff: StaffAssistStep, recorder: Recorder
) -> None:
    walk_to(ctx, Step.STAFF_ASSIST, "senior-card")
    access = StaffAccess(store)
    waiting = staff.card_verified(verified(), "staff-reader", access)
    assert not waiting.ok and waiting.refusal is None and staff.waiting_for_pin
    assert ctx.machine.step is Step.STAFF_ASSIST and not ctx.data.identity.staff_assisted_identity
    assert recorder.of(StaffIdentityUpdate)[-1] == StaffIdentityUpdate("pin", "S0042", None, 5)
    wrong = staff.submit_pin("000000")
    assert wrong.refusal is StaffCardRefusal.WRONG_PIN and ctx.machine.step is Step.STAFF_ASSIST
    assert recorder.of(StaffIdentityUpdate)[-1] == StaffIdentityUpdate("refused", "S0042", "wrong_pin", 4)
    assert staff.submit_pin(PIN).ok
    assert ctx.machine.step is Step.FORM
    assert ctx.data.identity.staff_assisted_identity and ctx.data.identity.staff_id == "S0042"
    assert recorder.of(StaffIdentityUpdate)[-1] == StaffIdentityUpdate("confirmed", "S0042")
    # the case names the staff member who vouched for the identity
    ctx.data.identity.card = IdCardRead(text=sim_card("senior").text, photo_raw=b"", read_at=NOW)
    ctx.data.application.decision = Decision(Outcome.MANUAL, (), (), "p", "1", "0" * 64, "0" * 64, {}, 1.0)
    body = json.loads(case_payload(ctx.config, ctx.data, ctx.package(ctx.data), "c-1", NOW))
    assert body["identity_evidence"]["staff_id"] == "S0042" and body["identity_evidence"]["staff_assisted"]
    trail = _audit(store, "staff_identity")
    assert trail[-1] == (
        "staff_identity",
        {"session": ctx.data.session_id, "staff": "S0042", "reader": "staff-reader"},
    )


def test_refused_without_a_staff_card_or_with_a_refused_one(
    ctx: SessionContext, store: Store, staff: StaffAssistStep, recorder: Recorder
) -> None:
    walk_to(ctx, Step.STAFF_ASSIST, "senior-card")
    # no card was verified: a PIN alone confirms nothing
    assert staff.submit_pin(PIN).refusal is StaffCardRefusal.CARD_REMOVED
    # a card that did not verify (cloned id, wrong key) is shown as refused and confirms nothing
    staff.card_refused(StaffCardResult(None, StaffCardRefusal.AUTH_FAILED))
    assert recorder.of(StaffIdentityUpdate)[-1] == StaffIdentityUpdate("refused", None, "auth_failed")
    # a card that signs without its PIN confirms nothing alone outside the demo profile: PIN asked
    outcome = staff.card_verified(verified(pin=None), "staff-reader", StaffAccess(store))
    assert outcome.refusal is None and not outcome.ok and staff.waiting_for_pin
    assert ctx.machine.step is Step.STAFF_ASSIST
    assert not ctx.data.identity.staff_assisted_identity and ctx.data.identity.staff_id is None
    # a clone (the certificate without its key) is refused after the PIN
    staff.card_verified(verified_card("S0042", PIN, clone=True), "staff-reader", StaffAccess(store))
    assert staff.submit_pin(PIN).refusal is StaffCardRefusal.AUTH_FAILED
    assert _audit(store, "staff_identity_refused")[-1][1]["reason"] == "auth_failed"


def test_the_card_alone_where_the_configuration_allows_it(
    ctx: SessionContext, store: Store, staff: StaffAssistStep
) -> None:
    walk_to(ctx, Step.STAFF_ASSIST, "senior-card")
    outcome = staff.card_verified(verified(pin=None), "r", StaffAccess(store, allow_card_only=True))
    assert outcome.ok and ctx.machine.step is Step.FORM and ctx.data.identity.staff_id == "S0042"


def test_a_staff_card_outside_the_staff_assist_step_confirms_nothing(
    ctx: SessionContext, store: Store, staff: StaffAssistStep
) -> None:
    walk_to(ctx, Step.FACE_CHECK, "senior-card")
    outcome = staff.card_verified(verified(pin=None), "r", StaffAccess(store, allow_card_only=True))
    assert outcome.refusal is StaffCardRefusal.SESSION_IN_PROGRESS
    assert ctx.machine.step is Step.FACE_CHECK and not ctx.data.identity.staff_assisted_identity


def test_the_pin_of_an_ended_session_confirms_nothing(
    ctx: SessionContext, store: Store, staff: StaffAssistStep
) -> None:
    from kiosk.session.machine import EndReason

    walk_to(ctx, Step.STAFF_ASSIST, "senior-card")
    staff.card_verified(verified(), "r", StaffAccess(store))
    ctx.machine.reset(EndReason.IDLE_TIMEOUT)
    walk_to(ctx, Step.STAFF_ASSIST, "senior-card")  # the next citizen
    assert staff.submit_pin(PIN).refusal is StaffCardRefusal.CARD_REMOVED
    assert ctx.machine.step is Step.STAFF_ASSIST and not ctx.data.identity.staff_assisted_identity


def test_calling_staff_is_audited_published_and_rung(
    ctx: SessionContext, store: Store, recorder: Recorder, tmp_path: Path
) -> None:
    walk_to(ctx, Step.FORM, "senior-card")
    call = StaffCall(ctx, Chime(wav_dir=tmp_path))
    assert call.call() == StaffCallRequested("form")
    assert recorder.of(StaffCallRequested) == [StaffCallRequested("form")]
    assert _audit(store, "staff_call") == [("staff_call", {"session": ctx.data.session_id, "step": "form"})]
    [wav] = sorted(tmp_path.glob("chime-*.wav"))
    with wave.open(str(wav)) as w:
        assert w.getnchannels() == 1 and 0.3 < w.getnframes() / w.getframerate() < 1.0


def test_a_terminal_without_a_sound_player_calls_staff_all_the_same(
    ctx: SessionContext, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    walk_to(ctx, Step.READ_CARD, "senior-card")
    chime = Chime(players=("no-such-sound-player",))
    with caplog.at_level("INFO", logger="kiosk.session.chime"):
        StaffCall(ctx, chime).call()
    assert recorder.of(StaffCallRequested) == [StaffCallRequested("read_card")]
    assert any("chime not played" in r.getMessage() for r in caplog.records)
