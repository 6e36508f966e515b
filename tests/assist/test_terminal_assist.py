"""Remote help on a whole demo terminal (simulators, sandbox platform, real Qt offscreen): mid-form
the citizen calls, the agent corrects a field and accepts the case remotely; the session goes on."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from PySide6.QtWidgets import QLineEdit

from kiosk.assist.state import CallState, EndReason
from sandbox_platform.assist_browser import ConsoleBrowser
from terminal.demo_profile import DEMO_CITIZENS
from ui.viewmodels import Step

pytestmark = [pytest.mark.e2e, pytest.mark.terminal, pytest.mark.slow]


def test_agent_corrects_a_form_field_and_accepts_remotely(kiosk: Any) -> None:
    terminal, ui, driver = kiosk()
    service = terminal.assist
    assert service is not None and service.camera is terminal.session.devices.camera
    senior = DEMO_CITIZENS[0]
    driver.begin(senior.item_id)
    driver.present(senior)
    assert driver.wait_step(Step.FORM, Step.STAFF_ASSIST, Step.DEVICE_PROBLEM, timeout=90.0) is Step.FORM
    editable = [
        e
        for e in ui.window.findChildren(QLineEdit)
        if e.objectName().startswith("field:") and not e.isReadOnly()
    ]
    assert editable, "the senior card form has an editable field"
    key = editable[0].objectName().removeprefix("field:")

    base = terminal.sandbox.url
    token = requests.post(
        f"{base}/_sandbox/assist/agents", json={"agent_id": "a-1", "name": "李坐席"}, timeout=10
    )
    browser = ConsoleBrowser(base + token.json()["console_url"] + "&autoaccept=1").start()
    try:
        driver.click("assistButton")
        driver.click("assistAgree")
        driver.wait_until(lambda: service.status.state is CallState.IN_CALL, 60, "the agent's video")
        driver.wait_until(lambda: key in browser.stats()["fields"], 20, "the form at the console")
        browser.set_value(f"field-{key}", "新的值")
        browser.click(f"send-{key}")
        driver.click("assistConfirmField")
        assert driver.find(f"field:{key}", QLineEdit).text() == "新的值"
        assert terminal.session.data.application.form[key] == "新的值"
        browser.click("ra-accept")
        driver.wait_until(
            lambda: terminal.session.data.case.remote_acceptance is not None, 20, "remote acceptance"
        )
        assert terminal.session.data.case.remote_acceptance == {
            "decision": "accept",
            "agent_id": "a-1",
            "agent_name": "李坐席",
            "note": "",
        }
        assert service.media_stats()["camera_sent"] > 0
        driver.click("assistHangUp")
        driver.wait_until(lambda: service.status.state is CallState.ENDED, 20, "the end of the call")
        driver.wait_until(lambda: service.wait_idle(0.05), 30, "the recording upload")
    finally:
        browser.close()
    # the session goes on where it was, and the audit trail holds the call
    assert ui.window.current_step() is Step.FORM
    events = {r.event: r.details for r in terminal.store.audit_trail.records()}
    assert events["assist_consent"]["agreed"] is True
    assert events["assist_field"] == {
        "session": terminal.session.data.session_id,
        "field": key,
        "accepted": True,
        "agent": "李坐席",
    }
    assert events["remote_acceptance"]["agent_id"] == "a-1" and events["remote_acceptance"]["applied"] is True
    assert terminal.store.audit_trail.verify()
    [call] = requests.get(f"{base}/_sandbox/assist/calls", timeout=10).json()
    assert call["end_reason"] == "hang_up" and len(call["recordings"]) == 1


def test_a_call_holds_the_idle_timeout_and_ends_with_the_session(kiosk: Any) -> None:
    terminal, ui, driver = kiosk(idle_timeout_s=4.0, idle_warning_s=2.0)
    service = terminal.assist
    assert service is not None
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    driver.click("assistButton")
    driver.click("assistAgree")
    driver.wait_until(lambda: service.status.state is CallState.QUEUED, 10, "the queue")
    # nobody touches the screen for longer than the idle timeout: the session stays while waiting
    deadline = time.monotonic() + 6.0
    driver.wait_until(lambda: time.monotonic() > deadline, 10, "six seconds")
    assert ui.window.current_step() is Step.CHOOSE_ITEM
    assert service.status.state is CallState.QUEUED
    # the citizen ends the session: the call ends with it
    driver.click("cancel")
    driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消
    driver.wait_step(Step.ATTRACT)
    driver.wait_until(lambda: service.status.state is CallState.ENDED, 10, "the call ended")
    assert service.status.reason is EndReason.CANCELLED
