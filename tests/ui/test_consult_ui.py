"""智能咨询 in the real window, with the tree the sandbox platform served at start-up: plain
questions on big buttons lead to an item that starts at the ID card step, to a life event whose
items the catalogue opens on, or to a window; back and restart; each question spoken."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from tests.conftest import Factory
from ui.screens.consult import ConsultPanel

pytestmark = pytest.mark.slow


class RecordingSpeaker:
    """The speaker boundary: what would be said, in which language."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str | None]] = []

    def say(self, text: str, lang: str | None = None) -> None:
        self.said.append((text, lang))

    def stop(self) -> None:
        pass

    def set_volume(self, volume: float) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def _options(ui: object) -> list[str]:
    QApplication.processEvents()
    window = ui.window  # type: ignore[attr-defined]
    buttons = [b for b in window.findChildren(QPushButton) if b.objectName().startswith("consult:option:")]
    return [b.text() for b in sorted(buttons, key=lambda b: b.objectName()) if b.isVisible()]


def test_questions_lead_to_an_item_that_starts(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    driver.wait_step(Step.ATTRACT)
    # the terminal attaches its own speaker once loaded (terminal/app.py); this one replaces it
    driver.wait_until(lambda: ui.facade.voice.speaker is not None, 60.0, "the terminal's speaker")
    speaker = RecordingSpeaker()
    ui.facade.voice.attach(speaker)
    ui.facade.voice.default_enabled = True  # voice on by configuration ([ui] voice)
    ui.facade.voice.set_enabled(True)
    assert terminal.session.catalogue.consultation() is not None  # synced from the sandbox with the packages
    driver.click("consult:open")
    panel = ui.window.findChild(ConsultPanel)
    assert not driver.window.findChild(QPushButton, "start").isVisible()  # the consultation takes the room
    assert _options(ui)[2] == "养老与退休"
    assert "您想办理哪方面的事情？请选择：1. 家庭" in speaker.said[-1][0]
    assert not driver.window.findChild(QPushButton, "consult:back").isEnabled()

    driver.click("consult:option:2")  # 养老与退休
    assert _options(ui) == ["我到了退休年龄，办退休", "60岁以上，申领老年人优待证", "参加城乡居民养老保险"]
    driver.click("consult:back")
    assert _options(ui)[0].startswith("家庭")
    driver.click("consult:option:2")
    driver.click("consult:option:1")  # 60岁以上
    answer = driver.find("consultAnswer", QLabel).text()
    assert "老年人优待证申领" in answer and "德州市民政局" in answer
    assert speaker.said[-1][0] == "为您找到：老年人优待证申领"
    assert panel.view is not None and panel.view.depth == 2

    driver.click("language")  # the language switch keeps the consultation where it is
    assert "Department" in driver.find("consultAnswer", QLabel).text()
    assert driver.find("consult:begin", QPushButton).text() == "Start this service"
    driver.click("language")
    assert driver.find("consult:begin", QPushButton).text() == "开始办理"

    driver.click("consult:begin")
    driver.wait_step(Step.READ_CARD)
    assert terminal.session.data.item_id == "senior-card"


def test_life_event_starts_as_one_application_and_restart(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    driver.wait_step(Step.ATTRACT)
    driver.click("consult:open")
    driver.click("consult:option:1")  # 工作与经营
    driver.click("consult:option:0")  # 开店或开办企业
    driver.click("consult:restart")
    assert _options(ui)[0].startswith("家庭")
    driver.click("consult:option:0")  # 家庭
    driver.click("consult:option:0")  # 家里添了宝宝
    answer = driver.find("consultAnswer", QLabel).text()
    assert "出生一件事" in answer and "出生登记" in answer and "生育津贴申领" in answer
    assert driver.find("consult:begin", QPushButton).text() == "一次办理这件事"
    driver.click("consult:begin")
    driver.wait_step(Step.READ_CARD)
    bundle = terminal.session.data.bundle
    assert bundle is not None and bundle.event_id == "birth"
    assert bundle.item_ids == ("birth-registration", "maternity-allowance", "newborn-medical-insurance")


def test_a_window_answer_offers_nothing_to_start_and_closes(kiosk: Factory) -> None:
    _terminal, ui, driver = kiosk()
    driver.wait_step(Step.ATTRACT)
    driver.click("consult:open")
    driver.click("consult:option:5")  # 生活困难
    driver.click("consult:option:3")  # 以上都不是
    assert "请到综合咨询窗口（1号窗口）办理" in driver.find("consultAnswer", QLabel).text()
    assert not ui.window.findChild(QPushButton, "consult:begin").isVisible()
    driver.click("consult:close")
    assert driver.find("start", QPushButton).isVisible()
    assert driver.find("consult:open", QPushButton).isVisible()
    assert ui.window.current_step() is Step.ATTRACT


def test_demo_consultations(kiosk: Factory) -> None:
    from terminal.demo_consult import run_consult_demo

    _terminal, _ui, driver = kiosk()
    record = run_consult_demo(driver)
    senior, birth = record["sessions"]
    assert senior["kind"] == "item" and senior["started"] == "senior-card"
    assert [a["answer"] for a in senior["asked"]] == ["养老与退休", "60岁以上，申领老年人优待证"]
    assert birth["kind"] == "life_event" and birth["started"] == [
        "birth-registration",
        "maternity-allowance",
        "newborn-medical-insurance",
    ]
    assert len(record["screenshots"]) == 8
    for name in record["screenshots"]:
        assert (driver.out / name).stat().st_size > 10_000


def test_a_consultation_left_alone_closes(kiosk: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.screens.consult

    monkeypatch.setattr(ui.screens.consult, "IDLE_CLOSE_S", 0.5)
    _terminal, ui_, driver = kiosk()
    driver.wait_step(Step.ATTRACT)
    driver.click("consult:open")
    panel = ui_.window.findChild(ConsultPanel)
    assert panel.view is not None
    driver.wait_until(lambda: panel.view is None, 10.0, "the consultation closed when left alone")
    assert driver.find("start", QPushButton).isVisible()
