"""A device that goes away mid-session lands in a defined state, and the terminal
keeps serving the next citizen.  The simulators really drop their end: the ID
card reader's pty closes, the printer's TCP listener goes away, the camera's
frames vanish."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from devices.base import RequiredAction
from kiosk.i18n import tr
from kiosk.session.machine import Step
from terminal.demo_profile import DEMO_REJECTED
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SENIOR, BUSINESS, _EXPIRED = DEMO_CITIZENS


def test_id_reader_unplugged_goes_out_of_service_then_serves_next_citizen(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    driver.begin(SENIOR.item_id)
    time.sleep(0.3)  # the reader is polling for a card

    terminal.bench.idcard.unplug()
    driver.wait_step(Step.OUT_OF_SERVICE, timeout=10)
    problem = terminal.session.data.problem
    assert problem.device == "idcard"
    assert problem.action is RequiredAction.MAINTENANCE
    assert terminal.session.data.item_id is None  # the citizen's session was wiped
    shown = " ".join(w.text() for w in ui.window.findChildren(QLabel) if w.isVisible())
    assert tr("oos.title") in shown and tr("action.maintenance") in shown

    time.sleep(2.5)  # still out of service while the reader is gone
    assert ui.window.current_step() is Step.OUT_OF_SERVICE

    terminal.bench.replug_idcard()
    driver.wait_step(Step.ATTRACT, timeout=15)
    record = driver.run_citizen(SENIOR)
    assert record.decision == "approve"
    assert record.receipt_printed
    events = [r.event for r in terminal.store.audit_trail.records()]
    assert "device_problem" in events and "back_in_service" in events


def test_printer_unplugged_at_submit_case_still_filed_and_next_citizen_served(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    bench = terminal.bench
    assert bench is not None
    record = driver.run_citizen(DEMO_REJECTED, hooks={"before_submit": bench.printer.unplug})
    assert record.decision == "reject"
    assert not record.receipt_printed
    assert tr("citizen.result.nothing_printed") in record.result_text
    assert tr("citizen.next.collect_receipt") in record.result_text
    assert record.case_id

    # Next citizen while the printer is still away: served, told to ask at the counter.
    second = driver.run_citizen(SENIOR)
    assert second.decision == "approve" and not second.receipt_printed

    bench.printer.plug_in()
    third = driver.run_citizen(DEMO_REJECTED)
    assert third.receipt_printed
    assert "不予受理" in third.receipt_text

    driver.mark_acknowledged([record, second, third])
    assert record.acknowledged and second.acknowledged and third.acknowledged
    received = [c["case_id"] for c in terminal.client.sandbox.received_cases()]
    assert sorted(received) == sorted([record.case_id, second.case_id, third.case_id])


def test_camera_unplugged_offers_manual_review(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    bench = terminal.bench
    assert bench is not None
    bench.camera.unplug()
    driver.begin(SENIOR.item_id)
    bench.idcard.insert(SENIOR.key)
    driver.wait_step(Step.DEVICE_PROBLEM, timeout=20)
    problem = terminal.session.data.problem
    assert problem.device == "camera" and problem.allow_manual
    driver.click("problemManual")
    driver.wait_step(Step.FORM)
    assert terminal.session.data.identity.staff_assisted_identity
    driver.click("formNext")
    driver.wait_step(Step.CONFIRM_SIGN, timeout=30)
    decision = terminal.session.data.application.decision
    assert decision.outcome.value == "manual"
    assert "staff_identity" in decision.reasons
    record_json = json.dumps(decision.to_record(), ensure_ascii=False)
    assert "staff_identity" in record_json
    driver.click("cancel")
    driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消
    driver.wait_step(Step.RATING)  # the rating is still offered
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)


def test_platform_down_at_submit_case_queued_then_delivered_once(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    assert terminal.sandbox is not None
    record = driver.run_citizen(SENIOR, hooks={"before_submit": terminal.sandbox.stop})
    assert record.decision == "approve"
    assert record.case_id
    assert record.receipt_printed  # the citizen leaves with a receipt all the same
    stored = terminal.store.cases.get(record.case_id)
    assert stored is not None and stored.state.value == "pending" and stored.attempts >= 1

    terminal.sandbox.start()
    driver.mark_acknowledged([record], timeout=30)
    assert record.acknowledged
    received = [c["case_id"] for c in terminal.client.sandbox.received_cases()]
    assert received.count(record.case_id) == 1


def test_terminal_starts_and_serves_from_cache_when_platform_is_down(kiosk: Factory, tmp_path: Path) -> None:
    terminal, _ui, _driver = kiosk()
    assert terminal.sandbox is not None
    catalogue = [p.id for p in terminal.session.catalogue.items()]
    assert len(catalogue) == len(list((Path(__file__).resolve().parents[2] / "items").glob("*.json")))

    # A second service on the same store with the platform unreachable: the cache serves.
    from kiosk.cases.platform_client import PlatformClient
    from kiosk.review.sync import RuleSync
    from kiosk.session.assembly import build_session

    dead_url = "http://127.0.0.1:9"
    dead = PlatformClient(dead_url, terminal.config.terminal_id, timeout=0.5)
    offline = build_session(
        terminal.config,
        terminal.session.devices,
        terminal.store,
        dead,
        terminal.session.face.verifier,
        terminal.session.materials.ocr,
        rulesync=RuleSync(terminal.store, dead_url, tmp_path / "work" / "tuf" / "metadata", tmp_path / "t2"),
        load_cached=False,
    )
    try:
        assert offline.catalogue.load_cached() == len(catalogue)
        report = offline.catalogue.sync()
        assert "error" in report
        assert [p.id for p in offline.catalogue.items()] == catalogue
    finally:
        offline.close()
        dead.close()
