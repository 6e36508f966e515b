"""The maintenance screen, offscreen, on a whole demo terminal with a real (encrypted) store:
the staff card opens it, it shows diagnostics, a real dead letter is requeued from it,
leaving returns to the attract screen; a refused card is said on the attract screen."""

from __future__ import annotations

import time
import uuid

import pytest
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTableWidget, QTabWidget

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from offline_cache.store import OutboxState
from terminal.runtime import DEMO_STAFF_ID
from tests.conftest import Factory

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")
    yield
    set_language("zh")


def cells(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) is not None else "" for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_staff_card_opens_the_screen_diagnostics_and_requeue(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    bench = terminal.bench
    assert bench is not None
    driver.wait_step(Step.ATTRACT)

    bench.present_staff_card()
    driver.wait_step(Step.MAINTENANCE, timeout=10)
    assert not ui.window.cancel.isVisible()  # not a citizen step
    staff = driver.find("maintLeave").parent().findChildren(QLabel)
    assert any(DEMO_STAFF_ID in lab.text() for lab in staff)

    # 诊断: every device with its state and action, platform, models, disk, packages.
    diag = driver.find("maintDiagnostics", QTableWidget)
    driver.wait_until(lambda: diag.rowCount() > 0, 15.0, "diagnostics")
    rows = {r[0]: r for r in cells(diag)}
    assert rows["凭条打印机"][1:] == ["正常", "无需处理"]
    assert rows["身份证阅读器"][1] in {"正常", "无介质"}  # probed: the SAM answers
    assert rows["工作人员卡读卡器"][1] == "正常"
    assert rows["政务服务平台"][1].startswith("可连接")
    assert rows["时钟"][1].startswith("与平台相差") and rows["时钟"][2] == "无需处理"  # measured from Date
    assert "规则包 senior-card" in rows

    # 待上传: a case the platform really rejects becomes a dead letter in the real store.
    case_id = str(uuid.uuid4())
    terminal.store.cases.add(case_id, "no-such-item", b'{"form": {}}', time.time())
    terminal.drainer.kick()
    driver.wait_until(
        lambda: terminal.store.cases.get(case_id).state is OutboxState.DEAD,  # type: ignore[union-attr]
        15.0,
        "dead letter",
    )
    terminal.drainer.stop()  # nothing retries behind the screen's back from here
    tabs = driver.find("maintTabs", QTabWidget)
    tabs.setCurrentIndex(3)
    dead = driver.find("maintDeadLetters", QTableWidget)
    driver.wait_until(lambda: any(r[0] == case_id for r in cells(dead)), 10.0, "dead letter shown")
    row = next(r for r in cells(dead) if r[0] == case_id)
    assert row[1:4] == ["no-such-item", "1", row[3]] and "HTTP 400" in row[3]
    assert "失败 1" in driver.find("maintOutboxCounts", QLabel).text()

    driver.click(f"maintRequeue:{case_id}")
    driver.wait_until(lambda: not any(r[0] == case_id for r in cells(dead)), 10.0, "requeued")
    assert terminal.store.cases.get(case_id).state is OutboxState.PENDING  # type: ignore[union-attr]
    audit = [(r.event, dict(r.details)) for r in terminal.store.audit_trail.records()]
    assert ("maintenance_requeue", {"staff": DEMO_STAFF_ID, "case": case_id, "requeued": True}) in audit

    # 日志: the last lines, shown as written (already redacted by logsetup).
    assert terminal.maintenance is not None
    log_dir = terminal.maintenance.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "kiosk.log").write_text(
        "first\nINFO kiosk.session.services case [id-number] queued\n", encoding="utf-8"
    )
    tabs.setCurrentIndex(4)
    app_log = driver.find("maintAppLog", QPlainTextEdit)
    driver.wait_until(lambda: "queued" in app_log.toPlainText(), 10.0, "logs")
    assert app_log.toPlainText().splitlines()[-1] == "INFO kiosk.session.services case [id-number] queued"
    assert driver.find("maintWireLog", QPlainTextEdit).toPlainText() == "（无）"

    # Leaving returns to the attract screen.
    driver.click("maintLeave")
    driver.wait_step(Step.ATTRACT, timeout=10)
    assert terminal.maintenance is not None and not terminal.maintenance.active
    assert ("maintenance_left", {"staff": DEMO_STAFF_ID, "reason": "staff"}) in [
        (r.event, dict(r.details)) for r in terminal.store.audit_trail.records()
    ]
    bench.remove_staff_card()


def test_refused_card_is_said_and_the_attract_screen_stays(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    driver.wait_step(Step.ATTRACT)
    terminal.bench.present_staff_card(clone=True)
    driver.wait_until(lambda: ui.window.status.text() == "工作人员卡认证失败", 10.0, "refusal shown")
    assert ui.window.current_step() is Step.ATTRACT
    terminal.bench.remove_staff_card()


def test_language_switch_in_maintenance(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    terminal.bench.present_staff_card()
    driver.wait_step(Step.MAINTENANCE, timeout=10)
    diag = driver.find("maintDiagnostics", QTableWidget)
    driver.wait_until(lambda: diag.rowCount() > 0, 15.0, "diagnostics")
    ui.window.toggle_language()
    tabs = driver.find("maintTabs", QTabWidget)
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "Diagnostics",
        "Consumables",
        "Sync",
        "Outbox",
        "Logs",
    ]
    assert "Receipt printer" in [r[0] for r in cells(diag)]
    terminal.bench.remove_staff_card()
    driver.wait_step(Step.ATTRACT, timeout=10)


def test_demo_hotkey_presents_and_removes_the_staff_card(kiosk: Factory) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    _terminal, ui, driver = kiosk()
    driver.wait_step(Step.ATTRACT)
    ui.window.activateWindow()
    QTest.keyClick(
        ui.window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    driver.wait_step(Step.MAINTENANCE, timeout=10)
    QTest.keyClick(
        ui.window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    driver.wait_step(Step.ATTRACT, timeout=10)
