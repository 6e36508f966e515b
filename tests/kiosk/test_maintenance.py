"""Maintenance mode at service level, on a whole demo terminal (simulators, sandbox, real store).

The staff card here is the demo's: the in-process reader running the staff applet through
the pyscard connection's code path.  tests/kiosk/test_maintenance_pcsc.py does the same
through the real pcscd + vpcd testbed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.base import DeviceStatus, RequiredAction
from devices.smartcard.vcard import Applet
from kiosk.cases.outbox import JOB_PUBLICITY
from kiosk.config import MaintenanceConfig, TerminalConfig
from kiosk.documents.ocr import RapidOcrEngine
from kiosk.identity.face import FaceVerifier
from kiosk.maintenance.service import (
    LeaveReason,
    MaintenanceLocked,
    MaintenanceService,
    Paper,
    required_action,
    tail_lines,
)
from kiosk.session.machine import CITIZEN_STEPS, TRANSITIONS, SessionMachine, Step, TransitionError
from offline_cache.store import OutboxState
from terminal.runtime import DEMO_STAFF_ID, SimulatorBench, Terminal, build_terminal

pytestmark = pytest.mark.slow


def wait_for(cond: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def events(terminal: Terminal, prefix: str = "maintenance") -> list[tuple[str, dict[str, object]]]:
    return [
        (r.event, dict(r.details)) for r in terminal.store.audit_trail.records() if r.event.startswith(prefix)
    ]


@pytest.fixture(scope="module")
def terminal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    tmp = tmp_path_factory.mktemp("maint")
    config = TerminalConfig(data_dir=str(tmp), maintenance=MaintenanceConfig(idle_timeout_s=600))
    t = build_terminal(config, tmp / "work", face=FaceVerifier(threshold=0.6), ocr=RapidOcrEngine())
    try:
        yield t
    finally:
        t.close()


@pytest.fixture
def bench(terminal: Terminal) -> Iterator[SimulatorBench]:
    """The demo bench; after each test: card out, maintenance left, back on the attract screen."""
    assert terminal.bench is not None and terminal.staff_watcher is not None
    yield terminal.bench
    terminal.bench.remove_staff_card()
    watcher = terminal.staff_watcher
    wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 5.0, "card removed")
    maint(terminal).leave()
    if terminal.session.step is not Step.ATTRACT:
        terminal.session.cancel()
    terminal.bench.printer.refill()


def maint(terminal: Terminal) -> MaintenanceService:
    assert terminal.maintenance is not None
    return terminal.maintenance


# ------------------------------------------------------------------ the state machine
def test_maintenance_is_reachable_only_from_attract_and_out_of_service() -> None:
    sources = {s for s, targets in TRANSITIONS.items() if Step.MAINTENANCE in targets}
    assert sources == {Step.ATTRACT, Step.OUT_OF_SERVICE}
    assert TRANSITIONS[Step.MAINTENANCE] == frozenset({Step.ATTRACT})
    assert Step.MAINTENANCE not in CITIZEN_STEPS  # no citizen idle timeout / cancel button there
    machine = SessionMachine()
    machine.go(Step.CHOOSE_ITEM)
    with pytest.raises(TransitionError):
        machine.go(Step.MAINTENANCE)
    machine2 = SessionMachine()
    machine2.go(Step.OUT_OF_SERVICE)
    machine2.go(Step.MAINTENANCE)
    with pytest.raises(TransitionError):
        machine2.go(Step.CHOOSE_ITEM)
    machine2.go(Step.ATTRACT)


# ------------------------------------------------------------------ unlock and leave
def test_staff_card_enters_and_removing_it_leaves(terminal: Terminal, bench: SimulatorBench) -> None:
    assert terminal.session.step is Step.ATTRACT
    bench.present_staff_card()
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 5.0, "maintenance")
    assert maint(terminal).staff_id == DEMO_STAFF_ID
    assert (
        "maintenance_entered",
        {"staff": DEMO_STAFF_ID, "from": "attract", "by_card": True, "role": "technician"},
    ) in events(terminal)
    assert terminal.staff_watcher is not None and terminal.staff_watcher.status() is DeviceStatus.READY

    bench.remove_staff_card()
    wait_for(lambda: terminal.session.step is Step.ATTRACT, 5.0, "attract")
    assert not maint(terminal).active
    assert events(terminal)[-1] == ("maintenance_left", {"staff": DEMO_STAFF_ID, "reason": "card_removed"})
    with pytest.raises(MaintenanceLocked):
        maint(terminal).outbox()
    assert terminal.store.audit_trail.verify()


def test_wrong_key_and_unknown_staff_and_other_cards_are_refused(
    terminal: Terminal, bench: SimulatorBench
) -> None:
    class BankCard:
        def reset(self) -> None:
            pass

        def process(self, raw: bytes) -> bytes:
            return bytes.fromhex("6A82")

    cases: list[tuple[Callable[[], None], str, str | None]] = [
        (lambda: bench.present_staff_card(clone=True), "auth_failed", DEMO_STAFF_ID),  # certificate, no key
        (lambda: bench.present_staff_card("S9999"), "unknown_staff", "S9999"),
        (lambda: _insert(bench, BankCard()), "not_staff_card", None),
    ]
    for present, reason, staff in cases:
        before = len(events(terminal))
        present()
        wait_for(lambda n=before: len(events(terminal)) > n, 5.0, f"refusal {reason}")
        event, details = events(terminal)[-1]
        assert (event, details["reason"], details["staff"]) == ("maintenance_refused", reason, staff)
        time.sleep(0.3)  # the watcher must not enter anyway
        assert terminal.session.step is Step.ATTRACT and not maint(terminal).active
        bench.remove_staff_card()
        wait_for(
            lambda: (
                terminal.staff_watcher is not None
                and terminal.staff_watcher.status() is DeviceStatus.NO_MEDIA
            )
        )


def _insert(bench: SimulatorBench, applet: Applet) -> None:
    bench.staff_reader.insert(applet)


def test_not_entered_in_the_middle_of_a_session(terminal: Terminal, bench: SimulatorBench) -> None:
    terminal.session.start()
    assert terminal.session.step is Step.CHOOSE_ITEM
    session_id = terminal.session.data.session_id
    before = len(events(terminal))
    bench.present_staff_card()
    wait_for(lambda: len(events(terminal)) > before, 5.0, "refusal")
    assert events(terminal)[-1] == (
        "maintenance_refused",
        {"staff": DEMO_STAFF_ID, "reason": "session_in_progress", "step": "choose_item"},
    )
    assert terminal.session.step is Step.CHOOSE_ITEM and terminal.session.data.session_id == session_id
    assert not maint(terminal).active
    terminal.session.cancel()
    # Card out and in again once the citizen has gone: now it unlocks.
    bench.remove_staff_card()
    time.sleep(0.3)
    bench.present_staff_card()
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 5.0, "maintenance")


def test_entered_from_out_of_service_and_left_to_attract(terminal: Terminal, bench: SimulatorBench) -> None:
    terminal.session.machine.go(Step.OUT_OF_SERVICE)
    bench.present_staff_card()
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 5.0, "maintenance")
    assert maint(terminal).leave(LeaveReason.STAFF)
    assert terminal.session.step is Step.ATTRACT
    assert events(terminal)[-1] == ("maintenance_left", {"staff": DEMO_STAFF_ID, "reason": "staff"})


def test_idle_timeout_leaves(terminal: Terminal, bench: SimulatorBench) -> None:
    bench.present_staff_card()
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 5.0, "maintenance")
    assert terminal.staff_watcher is not None
    terminal.staff_watcher.idle_timeout_s = 0.5
    try:
        wait_for(lambda: terminal.session.step is Step.ATTRACT, 5.0, "idle timeout")
    finally:
        terminal.staff_watcher.idle_timeout_s = 600
    assert events(terminal)[-1] == ("maintenance_left", {"staff": DEMO_STAFF_ID, "reason": "idle_timeout"})


# ------------------------------------------------------------------ what staff do
def _enter(terminal: Terminal, bench: SimulatorBench) -> MaintenanceService:
    bench.present_staff_card()
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 5.0, "maintenance")
    return maint(terminal)


def test_diagnostics(terminal: Terminal, bench: SimulatorBench) -> None:
    m = _enter(terminal, bench)
    bench.printer.paper_low()
    # Earlier tests' sessions loaded the models (terminal/models.py); the report says they are out.
    terminal.warm_up().join(timeout=120)
    terminal.session.face.verifier.unload()
    terminal.session.materials.ocr.unload()
    diag = m.diagnostics()
    devices = {d.name: d for d in diag.devices}
    assert {
        "idcard",
        "camera",
        "document_camera",
        "receipt_printer",
        "document_printer",
        "staff_card",
    } <= set(devices)
    assert devices["receipt_printer"].status is DeviceStatus.MEDIA_LOW
    assert devices["receipt_printer"].action is RequiredAction.CLEAR_BY_STAFF
    assert devices["staff_card"].status is DeviceStatus.READY
    # The ID card reader is probed (the SAM answers), not reported from its last state.
    assert devices["idcard"].status in {DeviceStatus.READY, DeviceStatus.NO_MEDIA}
    assert devices["idcard"].action is RequiredAction.NONE
    # The cameras are closed between citizens: probed by taking a frame.
    assert devices["camera"].status is DeviceStatus.READY
    assert devices["document_camera"].status is DeviceStatus.READY
    assert diag.platform.reachable and diag.platform.latency_ms is not None
    skew = diag.platform.clock_skew_s  # measured from the platform's Date header
    assert skew is not None and abs(skew) < 5
    assert {m.name: m.loaded for m in diag.models} == {"face": False, "ocr": False}
    assert diag.disk.free_bytes > 0 and diag.disk.total_bytes >= diag.disk.free_bytes
    packages = {p.item_id: p for p in diag.packages}
    assert set(packages) == {p.stem for p in (Path(__file__).resolve().parents[2] / "items").glob("*.json")}
    assert all(p.last_verified_at is not None and not p.stale for p in packages.values())
    assert diag.faults >= 1
    assert events(terminal)[-1] == ("maintenance_diagnostics", {"staff": DEMO_STAFF_ID})

    # The platform goes away: diagnostics say so, with the error.
    terminal.client.sandbox.set_faults(down=True)
    try:
        down = m.diagnostics().platform
    finally:
        terminal.client.sandbox.set_faults(down=False)
    assert not down.reachable and down.latency_ms is None and "HTTP 503" in (down.error or "")


def test_consumables_and_test_print(terminal: Terminal, bench: SimulatorBench) -> None:
    m = _enter(terminal, bench)
    assert m.consumables().receipt_paper is Paper.PRESENT
    bench.printer.paper_low()
    low = m.consumables()
    assert (low.receipt_paper, low.receipt_action) == (Paper.LOW, RequiredAction.CLEAR_BY_STAFF)
    bench.printer.paper_out()
    out = m.consumables()
    assert (out.receipt_paper, out.receipt_status) == (Paper.OUT, DeviceStatus.NO_MEDIA)
    assert out.document_printer_status is DeviceStatus.READY

    failed = m.test_print()
    assert not failed.printed and failed.error and failed.action is RequiredAction.CLEAR_BY_STAFF
    bench.printer.refill()
    count = len(bench.printer.receipts)
    ok = m.test_print()
    assert ok.printed and ok.status is DeviceStatus.READY
    receipt = bench.printer.wait_for_receipts(count + 1)[-1]
    assert "打印测试 / TEST PRINT" in receipt.text and DEMO_STAFF_ID in receipt.text
    assert (
        "maintenance_test_print_done",
        {"staff": DEMO_STAFF_ID, "printed": True, "status": "ready"},
    ) in events(terminal)


def test_outbox_dead_letter_requeue(terminal: Terminal, bench: SimulatorBench) -> None:
    m = _enter(terminal, bench)
    case_id = str(uuid.uuid4())
    # A case the platform really rejects (unknown item → HTTP 400): dead-lettered by the drainer.
    terminal.store.cases.add(
        case_id, "no-such-item", b'{"applicant": {"id_number": "371402195203140022"}}', time.time()
    )
    terminal.drainer.kick()
    wait_for(lambda: terminal.store.cases.get(case_id).state is OutboxState.DEAD, 10.0, "dead letter")  # type: ignore[union-attr]
    view = m.outbox()
    assert view.counts[OutboxState.DEAD] >= 1
    dead = {d.case_id: d for d in view.dead}[case_id]
    assert dead.item_id == "no-such-item" and dead.attempts == 1
    assert "HTTP 400" in dead.error and "371402195203140022" not in dead.error
    assert not m.requeue(str(uuid.uuid4()))  # not a dead letter: nothing happens

    assert m.requeue(case_id)
    assert ("maintenance_requeue", {"staff": DEMO_STAFF_ID, "case": case_id, "requeued": True}) in events(
        terminal
    )
    assert "case.requeued" in [r.event for r in terminal.store.audit_trail.records()]
    # Requeued: the drainer tries it again (and the platform rejects it again).
    wait_for(lambda: terminal.store.cases.get(case_id).attempts == 2, 10.0, "second attempt")  # type: ignore[union-attr]
    wait_for(lambda: terminal.store.cases.get(case_id).state is OutboxState.DEAD, 10.0, "dead again")  # type: ignore[union-attr]
    assert m.requeue_all() >= 1
    assert events(terminal)[-1][0] == "maintenance_requeue_all"


def test_dead_publicity_job_is_shown_and_requeued(terminal: Terminal, bench: SimulatorBench) -> None:
    """Jobs other than cases (publicity records, revocations, certificates) dead-letter too."""
    m = _enter(terminal, bench)
    job_id = str(uuid.uuid4())
    # A record the platform really refuses (not a publicity record at all → HTTP 422).
    terminal.store.outbox.add(job_id, JOB_PUBLICITY, b"{}", time.time())
    terminal.drainer.kick()

    def job_state() -> OutboxState:
        return next(j.state for j in terminal.store.outbox.entries() if j.job_id == job_id)

    wait_for(lambda: job_state() is OutboxState.DEAD, 10.0, "dead job")
    view = m.outbox()
    dead = {d.case_id: d for d in view.dead}[job_id]
    assert dead.item_id == JOB_PUBLICITY and "422" in dead.error
    assert view.counts[OutboxState.DEAD] >= 1
    assert m.requeue(job_id)
    wait_for(
        lambda: next(j.attempts for j in terminal.store.outbox.entries() if j.job_id == job_id) == 2,
        10.0,
        "retried",
    )
    wait_for(lambda: job_state() is OutboxState.DEAD, 10.0, "dead again")
    assert m.requeue_all() >= 1


def test_dead_letter_errors_are_redacted(terminal: Terminal, bench: SimulatorBench) -> None:
    """A platform error that echoes a field never shows an ID number or phone to staff."""
    m = _enter(terminal, bench)
    case_id = str(uuid.uuid4())
    # Not due for an hour: the drainer leaves it alone, so the error below is the only one.
    terminal.store.cases.add(case_id, "senior-card", b"{}", time.time() + 3600)
    terminal.store.outbox.dead_letter(
        case_id, 'rejected: HTTP 422: {"input": "371402195203140022", "phone": "13905340000"}'
    )
    dead = {d.case_id: d for d in m.outbox().dead}[case_id]
    assert "371402195203140022" not in dead.error and "13905340000" not in dead.error
    assert "[id-number]" in dead.error and "[phone]" in dead.error
    m.requeue_all()


def test_sync_now(terminal: Terminal, bench: SimulatorBench) -> None:
    m = _enter(terminal, bench)
    result = m.sync_now()
    assert "error" not in result and set(result) >= {"senior-card"}
    assert events(terminal)[-1] == ("maintenance_sync_done", {"staff": DEMO_STAFF_ID, "ok": True})


def test_logs_are_shown_as_written(terminal: Terminal, bench: SimulatorBench) -> None:
    m = _enter(terminal, bench)
    m.log_dir.mkdir(parents=True, exist_ok=True)
    (m.log_dir / "kiosk.log").write_text("".join(f"app line {i}\n" for i in range(500)), encoding="utf-8")
    (m.log_dir / "wire.log").write_text("tx 20 01\nrx [id-number]\n", encoding="utf-8")
    tail = m.logs(3)
    assert tail.app == ("app line 497", "app line 498", "app line 499")
    assert tail.wire == ("tx 20 01", "rx [id-number]")
    assert events(terminal)[-1] == ("maintenance_logs", {"staff": DEMO_STAFF_ID, "lines": 3})


def test_tail_lines_reads_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_text("".join(f"{i:06d} {'x' * 50}\n" for i in range(20000)), encoding="utf-8")
    assert [line[:6] for line in tail_lines(path, 1500, block=4096)] == [
        f"{i:06d}" for i in range(18500, 20000)
    ]
    assert tail_lines(tmp_path / "missing.log", 10) == []


def test_required_actions() -> None:
    assert required_action("idcard", DeviceStatus.NO_MEDIA) is RequiredAction.NONE  # no card: normal
    assert required_action("receipt_printer", DeviceStatus.NO_MEDIA) is RequiredAction.CLEAR_BY_STAFF
    assert required_action("camera", DeviceStatus.OFFLINE) is RequiredAction.MAINTENANCE
    assert required_action("camera", DeviceStatus.READY) is RequiredAction.NONE


# ------------------------------------------------------------------ card + PIN and roles (issue 17)
def test_card_and_pin_enter_with_the_role_and_the_role_limits_functions(
    terminal: Terminal, bench: SimulatorBench
) -> None:
    from kiosk.maintenance.access import Function
    from kiosk.maintenance.service import MaintenanceForbidden
    from kiosk.maintenance.staff_card import Role, StaffCardRefusal
    from kiosk.session.events import StaffPinRequired
    from tests.kiosk.piv_cards import verified_card

    m = maint(terminal)
    seen: list[object] = []
    terminal.session.subscribe(seen.append)
    auditor = verified_card("A-0001", "135790", Role.AUDITOR)
    terminal.session.start()  # a citizen is being served: no PIN pad over the session
    try:
        busy = m.card_verified(auditor, "reader")
        assert busy.refusal is StaffCardRefusal.SESSION_IN_PROGRESS and m.access.pending is None
    finally:
        terminal.session.cancel()
    waiting = m.card_verified(auditor, "reader")
    assert not waiting.ok and terminal.session.step is Step.ATTRACT
    assert seen[-1] == StaffPinRequired("A-0001", "reader", 5)  # the PIN pad, five tries left
    wrong = m.submit_pin("000000")
    assert wrong.attempts_left == 4 and not m.active
    assert events(terminal)[-1] == (
        "maintenance_refused",
        {"staff": "A-0001", "reason": "wrong_pin", "reader": "reader", "attempts_left": 4},
    )
    assert m.submit_pin("135790").ok
    assert terminal.session.step is Step.MAINTENANCE and m.role is Role.AUDITOR
    assert m.allowed() == {Function.DIAGNOSTICS, Function.OUTBOX, Function.LOGS}
    assert m.outbox().counts is not None and m.logs(2) is not None
    for forbidden in (m.test_print, m.sync_now, m.requeue_all, m.consumables):
        with pytest.raises(MaintenanceForbidden):
            forbidden()
    assert events(terminal)[-1] == (
        "maintenance_forbidden",
        {"staff": "A-0001", "role": "auditor", "function": "consumables"},
    )
    m.leave()
    assert m.allowed() == frozenset()


def test_five_wrong_pins_raise_the_alarm(terminal: Terminal, bench: SimulatorBench) -> None:
    from kiosk.maintenance.staff_card import StaffCardRefusal
    from tests.kiosk.piv_cards import verified_card

    m = maint(terminal)
    alarms: list[dict[str, object]] = []
    m.access.alarm_sink = alarms.append
    try:
        card = verified_card("O-0009", "246802")
        m.card_verified(card, "reader")
        outcomes = [m.submit_pin("999999") for _ in range(5)]
    finally:
        m.access.alarm_sink = None
    assert outcomes[-1].refusal is StaffCardRefusal.LOCKED_OUT and not m.active
    lockouts = events(terminal, "maintenance_lockout")
    assert lockouts[-1][1]["staff"] == "O-0009" and alarms == [lockouts[-1][1]]
    # Locked: the right PIN is not even asked for.
    assert m.card_verified(card, "reader").refusal is StaffCardRefusal.LOCKED_OUT
    assert terminal.store.audit_trail.verify()
