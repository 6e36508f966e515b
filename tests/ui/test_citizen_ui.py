"""Help from a person and a clear path, as a citizen meets them at the window: staff-assisted
identity only with the staff card at the terminal (the real staff card watcher on the simulated
PC/SC reader), 呼叫工作人员 on every screen, cancel asks first, the step bar marks its states with
icons and skips steps the item does not have, the result screen's account."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from kiosk.i18n import set_language, tr
from kiosk.session.events import SessionEnded, StaffCallRequested
from kiosk.session.machine import Step
from terminal.catalogue_demo import tap_item
from terminal.demo_profile import DEMO_STAFF_ID, DemoCitizen
from tests.conftest import Factory
from ui.facade_citizen import CommitmentView
from ui.screens.decision import commitment_html, printed_lines
from ui.viewmodels import PrintedView

pytestmark = pytest.mark.slow

#: The senior's card with somebody else's face: the face check fails and staff must step in.
STRANGER = DemoCitizen("senior", "senior-card", ("biden_live.jpg",))


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")
    yield
    set_language("zh")


def _audit(terminal: object, event: str) -> list[dict[str, object]]:
    return [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == event]  # type: ignore[attr-defined]


def test_staff_assisted_identity_needs_the_staff_card(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk(face_max_attempts=1)
    assert terminal.bench is not None
    driver.begin(STRANGER.item_id)
    driver.present(STRANGER)
    driver.wait_step(Step.STAFF_ASSIST, timeout=60)
    # nothing on the screen lets the citizen go on alone
    buttons = [b.objectName() for b in ui.window.findChildren(QPushButton) if b.isVisible()]
    assert "staffConfirmed" not in buttons
    assert not any(name.startswith("staffPin") for name in buttons)  # no PIN pad before a staff card
    assert driver.find("staffInstruction").text() == tr("citizen.staff.present_card")
    time.sleep(1.0)
    assert ui.window.current_step() is Step.STAFF_ASSIST and terminal.session.data.identity.staff_id is None

    # a cloned staff card (right id, wrong key) is refused
    terminal.bench.present_staff_card(clone=True)
    driver.wait_until(lambda: driver.find("staffStatus").text() == tr("citizen.staff.refused"), 10, "refusal")
    assert ui.window.current_step() is Step.STAFF_ASSIST and terminal.session.data.identity.staff_id is None
    terminal.bench.remove_staff_card()
    time.sleep(0.6)

    # the real staff card (the demo profile's registry entry unlocks with the card alone)
    terminal.bench.present_staff_card()
    driver.wait_step(Step.FORM, timeout=10)
    terminal.bench.remove_staff_card()
    identity = terminal.session.data.identity
    assert identity.staff_id == DEMO_STAFF_ID and identity.staff_assisted_identity
    [confirmed] = _audit(terminal, "staff_identity")
    assert confirmed["staff"] == DEMO_STAFF_ID and confirmed["session"] == terminal.session.data.session_id
    assert not terminal.maintenance.active  # type: ignore[union-attr]  # no maintenance over a session


def test_call_staff_from_any_screen(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    seen: list[object] = []
    terminal.session.subscribe(seen.append)
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    call = driver.find("callStaff", QPushButton)
    assert call.text() == "呼叫工作人员" and call.accessibleName() == "呼叫工作人员"
    driver.click("callStaff")
    driver.wait_until(lambda: StaffCallRequested("choose_item") in seen, 5, "staff call")
    assert call.text() == tr("citizen.call.sent")
    driver.wait_until(lambda: bool(_audit(terminal, "staff_call")), 5, "audited")
    assert _audit(terminal, "staff_call")[-1]["step"] == "choose_item"
    tap_item(driver, STRANGER.item_id)
    driver.click("startItem")
    driver.wait_step(Step.READ_CARD)
    assert driver.find("callStaff", QPushButton).isVisible()


def test_cancel_asks_first_and_the_session_end_is_announced(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    ended: list[str] = []
    ui.facade.citizen.sessionEnded.connect(ended.append)
    seen: list[object] = []
    terminal.session.subscribe(seen.append)
    driver.begin(STRANGER.item_id)
    session_id = terminal.session.data.session_id
    header = [w.objectName() for w in ui.window.findChild(QPushButton, "cancel").parentWidget().children()]
    assert abs(header.index("cancel") - header.index("language")) > 1  # not next to each other
    driver.click("cancel")
    overlay = driver.find("cancelConfirmOverlay")
    assert ui.window.cancel_confirm.question.text() == "确定要取消吗？"
    assert overlay.isVisible() and driver.find("cancelKeep").text() == "继续办理"
    assert ui.window.current_step() is Step.READ_CARD
    driver.click("cancelKeep")
    assert not overlay.isVisible() and ui.window.current_step() is Step.READ_CARD
    assert terminal.session.data.session_id == session_id
    driver.click("cancel")
    assert driver.find("cancelConfirm").text() == "确认取消"
    driver.click("cancelConfirm")
    driver.wait_step(Step.RATING)  # the rating is still offered
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)
    driver.wait_until(lambda: ended == ["cancelled"], 5, "session ended")
    # the rating that follows a cancel runs in a session of its own, which ends with the citizen's reason
    assert [e.reason for e in seen if isinstance(e, SessionEnded)] == ["cancelled"]


def test_step_bar_skips_missing_steps_and_marks_state_with_icons(kiosk: Factory) -> None:
    _terminal, ui, driver = kiosk()
    driver.begin(STRANGER.item_id)  # the senior card item has no materials
    labels = {
        lab.text().split(" ", 1)[1]: lab
        for lab in ui.window.steps.findChildren(QLabel, "stepLabel")
        if lab.isVisibleTo(ui.window.steps)
    }
    assert tr("step.materials") not in labels
    assert labels[tr("step.choose_item")].text().startswith("✓")
    assert labels[tr("step.read_card")].text().startswith("▶")
    assert labels[tr("step.form")].text().startswith("○")
    assert labels[tr("step.read_card")].accessibleName() == "读取身份证：当前步骤"


def test_the_result_account_lists_what_was_printed_and_one_next_step() -> None:
    printed = PrintedView(
        receipt_printed=True,
        certificate_printed=False,
        queue_number="A012",
        delivery="window",
        slips_printed=("pickup", "queue"),
        commitment_job="job-3",
    )
    lines = printed_lines(printed, "manual", sms=False)
    assert lines[0] == "已为您打印：办件回执、告知承诺书（A4纸）、取件单、排队号 A012"
    assert lines[1] == tr("citizen.next.queue", n="A012")
    assert lines[2] == tr("citizen.result.track") and "短信" not in "".join(lines)
    assert printed_lines(printed, "manual", sms=True)[2] == tr("citizen.result.sms")
    failed = PrintedView(False, False, None, None)
    assert printed_lines(failed, "approve", sms=False)[:2] == [
        tr("citizen.result.nothing_printed"),
        tr("citizen.next.collect_receipt"),
    ]
    here = PrintedView(True, True, None, "print_here")
    assert printed_lines(here, "approve", sms=True)[:2] == [
        "已为您打印：办件回执、证照",
        tr("citizen.next.certificate"),
    ]


def test_the_commitment_is_shown_as_printed() -> None:
    view = CommitmentView(
        ("告知承诺书", "Commitment"), ("本人承诺……", "I promise ..."), (("租赁合同原件", "Lease"),), 20
    )
    html = commitment_html(view)
    assert "告知承诺书" in html and "本人承诺……" in html and "租赁合同原件" in html and "20" in html


def test_the_idle_timeout_announces_the_end_of_the_session(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk(idle_timeout_s=2.0, idle_warning_s=1.0)
    ended: list[str] = []
    ui.facade.citizen.sessionEnded.connect(ended.append)
    driver.begin(STRANGER.item_id)  # the card step waits; nobody comes
    driver.wait_step(Step.ATTRACT, timeout=10)
    driver.wait_until(lambda: ended == ["idle_timeout"], 5, "session ended")
    assert terminal.session.data.item_id is None
