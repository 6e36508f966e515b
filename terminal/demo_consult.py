"""The demo's guided consultation (智能咨询): two citizens who do not know an item's name answer the
questions on the welcome screen, one led to an item, one to a life event applied for as one
application; each starts at the ID card step (then cancels); a screenshot of every question and
answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from kiosk.session.machine import Step
from ui.screens.consult import ConsultPanel

if TYPE_CHECKING:
    from terminal.demo import DemoDriver

#: (label, the options tapped in order, 0-based)
PATHS = (
    ("senior", (2, 1)),  # 养老与退休 → 60岁以上，申领老年人优待证: an item
    ("birth", (0, 0)),  # 家庭 → 家里添了宝宝: a life event
)


def _question(driver: DemoDriver) -> str:
    found: QLabel = driver.find("consultQuestion", QLabel)
    return found.text()


def _run_path(driver: DemoDriver, label: str, taps: tuple[int, ...], shots: list[str]) -> dict[str, Any]:
    def shot(what: str) -> None:
        QApplication.processEvents()
        name = f"consult-{label}-{len(shots) + 1:02d}-{what}.png"
        driver.window.grab().save(str(driver.out / name))
        shots.append(name)

    driver.wait_step(Step.ATTRACT)
    driver.click("consult:open")
    asked: list[dict[str, str]] = []
    for n, option in enumerate(taps, start=1):
        question = _question(driver)
        shot(f"question{n}")
        answer = driver.find(f"consult:option:{option}", QPushButton).text()
        asked.append({"question": question, "answer": answer})
        driver.click(f"consult:option:{option}")
    shot("answer")
    panel = driver.window.findChild(ConsultPanel)
    if panel is None or panel.view is None:
        raise RuntimeError("the welcome screen shows no consultation")
    panel_view = panel.view
    record: dict[str, Any] = {
        "path": label,
        "asked": asked,
        "kind": panel_view.kind,
        "target": panel_view.target,
    }
    driver.click("consult:begin")
    driver.wait_step(Step.READ_CARD)  # the item, or the life event as one application (一件事)
    data = driver.terminal.session.data
    record["started"] = list(data.bundle.item_ids) if data.bundle is not None else data.item_id
    shot("started")
    driver.click("cancel")
    driver.click("cancelConfirm")
    driver.wait_step(Step.RATING)
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)
    return record


def run_consult_demo(driver: DemoDriver) -> dict[str, Any]:
    """Both consultations from the welcome screen; their screenshots and where each led."""
    shots: list[str] = []
    sessions = [_run_path(driver, label, taps, shots) for label, taps in PATHS]
    return {"sessions": sessions, "screenshots": shots}
