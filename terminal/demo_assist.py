"""The demo's remote-help session (``make demo``): the citizen taps 远程帮办 on the item screen,
consents, an agent accepts in the console (headless Chromium, fake camera and microphone), the
agent sees the kiosk screen, the citizen hangs up.  Screenshots of the terminal and the console go
to the demo's output; the summary gets the call as the platform recorded it."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import requests
from PySide6.QtWidgets import QApplication

from kiosk.assist.state import CallState
from kiosk.session.machine import Step

log = logging.getLogger(__name__)


def run_assist_demo(driver: Any, out: Path) -> dict[str, Any]:
    """One remote-help call on the demo terminal (``driver``: terminal.demo.DemoDriver)."""
    from sandbox_platform.assist_browser import ConsoleBrowser

    terminal = driver.terminal
    service = terminal.assist
    if service is None or terminal.sandbox is None:
        return {"skipped": "remote help needs the signing platform client and the sandbox"}
    base = terminal.sandbox.url
    agent = requests.post(
        f"{base}/_sandbox/assist/agents", json={"agent_id": "demo-agent", "name": "演示坐席"}, timeout=10
    ).json()
    shots: list[str] = []

    def shot(label: str) -> None:
        QApplication.processEvents()
        name = f"assist-{len(shots) + 1:02d}-{label}.png"
        driver.window.grab().save(str(out / name))
        shots.append(name)

    browser = ConsoleBrowser(base + agent["console_url"] + "&autoaccept=1").start()
    try:
        driver.click("start")
        driver.wait_step(Step.CHOOSE_ITEM)
        driver.click("assistButton")
        driver.wait_until(lambda: service.status.state is CallState.CONSENT, 10, "the consent question")
        shot("consent")
        started = time.monotonic()
        driver.click("assistAgree")
        driver.wait_until(lambda: service.status.state is CallState.IN_CALL, 60, "the agent's video")
        setup_ms = (time.monotonic() - started) * 1000.0
        driver.wait_until(
            lambda: browser.stats()["screenFrames"] >= 10, 30, "the kiosk screen at the console"
        )
        driver.wait_until(
            lambda: service.media_stats()["video_received"] >= 30, 30, "the agent's video frames"
        )
        shot("in-call")
        console_name = "assist-console.png"
        browser.screenshot(out / console_name)
        shots.append(console_name)
        stats = service.media_stats()
        driver.click("assistHangUp")
        driver.wait_until(lambda: service.status.state is CallState.ENDED, 20, "the end of the call")
        driver.wait_until(lambda: service.wait_idle(0.05), 30, "the recording upload")
        shot("ended")
        driver.click("assistClose")
        driver.click("cancel")
        driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消
        driver.wait_step(Step.ATTRACT)
    finally:
        browser.close()
    calls = requests.get(f"{base}/_sandbox/assist/calls", timeout=10).json()
    call = calls[-1] if calls else {}
    return {
        "call_id": call.get("call_id"),
        "end_reason": call.get("end_reason"),
        "agent": call.get("agent_name"),
        "consent": call.get("consent"),
        "recordings": len(call.get("recordings", [])),
        "setup_ms": round(setup_ms, 1),
        "frames": stats,
        "screenshots": shots,
    }
