"""The window as a citizen meets it: cancel and idle timeout wipe the session,
the language switches, a bad step never leaves a traceback on screen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit

from kiosk.i18n import set_language, tr
from kiosk.session.machine import Step
from terminal.catalogue_demo import tap_item
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory
from ui.screens.catalogue import CatalogueScreen

pytestmark = pytest.mark.slow
SENIOR, BUSINESS, EXPIRED = DEMO_CITIZENS


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")
    yield
    set_language("zh")


def test_idle_timeout_warns_then_wipes_the_session(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk(idle_timeout_s=3.0, idle_warning_s=2.0)
    assert terminal.bench is not None
    driver.begin(SENIOR.item_id)
    driver.present(SENIOR)
    driver.wait_step(Step.FORM, timeout=30)
    assert terminal.session.data.identity.card is not None
    session_id = terminal.session.data.session_id

    banner = ui.window.idle_banner
    driver.wait_until(banner.isVisible, 5.0, "idle warning")
    assert "秒后将退出" in banner.text()
    driver.wait_step(Step.RATING, timeout=5)  # the rating is still offered; the citizen's data is gone
    data = terminal.session.data
    assert data.session_id != session_id
    assert data.identity.card is None and data.item_id == SENIOR.item_id and data.application.form == {}
    driver.wait_step(Step.ATTRACT, timeout=10)  # nobody rates: the session ends
    assert not banner.isVisible()
    data = terminal.session.data
    assert data.identity.card is None and data.item_id is None and data.application.form == {}
    events = [(r.event, r.details.get("reason")) for r in terminal.store.audit_trail.records()]
    assert ("session_end", "idle_timeout") in events


def test_touch_during_warning_keeps_the_session(kiosk: Factory) -> None:
    _terminal, ui, driver = kiosk(idle_timeout_s=3.0, idle_warning_s=2.0)
    driver.click("start")
    driver.wait_until(ui.window.idle_banner.isVisible, 5.0, "idle warning")
    tap_item(driver, BUSINESS.item_id)  # a touch: the timer starts again
    assert not ui.window.idle_banner.isVisible()
    assert ui.window.current_step() is Step.CHOOSE_ITEM


def test_cancel_from_the_form_wipes_and_stops_devices(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    assert terminal.bench is not None
    driver.begin(BUSINESS.item_id)
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=30)
    name = driver.find("field:name", QLineEdit)
    assert name.text() == "李建国" and name.isReadOnly()
    driver.click("cancel")
    driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消
    driver.wait_step(Step.RATING)  # the rating is still offered
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)
    assert terminal.session.data.identity.card is None
    terminal.bench.idcard.remove()  # the citizen takes the card along
    # The next citizen starts clean.
    driver.begin(BUSINESS.item_id)
    assert terminal.session.data.application.form == {}


def test_a_card_left_on_the_reader_is_not_the_next_sessions(kiosk: Factory) -> None:
    """The citizen cancels and leaves the card: the next session asks for it to be lifted and
    placed again, and reads it only then."""
    terminal, _ui, driver = kiosk()
    assert terminal.bench is not None
    driver.begin(BUSINESS.item_id)
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=30)
    driver.click("cancel")
    driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消
    driver.wait_step(Step.RATING)  # the rating is still offered
    driver.click("rateSkip")
    driver.wait_step(Step.ATTRACT)
    driver.begin(SENIOR.item_id)  # the card still lies there

    def hints() -> list[str]:
        return [w.text() for w in driver.window.findChildren(QLabel, "hint") if w.isVisible()]

    driver.wait_until(lambda: tr("card.lift_and_place") in hints(), 10.0, "lift-the-card hint")
    assert "请拿起读卡区上的身份证，再重新放置" in hints()
    assert terminal.session.data.identity.card is None and driver.window.current_step() is Step.READ_CARD
    terminal.bench.idcard.remove()
    driver.wait_until(lambda: not terminal.session.card.awaiting_lift, 10.0, "reader saw no card")
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=30)
    assert terminal.session.data.identity.card is not None


def test_form_validation_errors_shown_in_place(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert terminal.bench is not None
    driver.begin(BUSINESS.item_id)
    driver.present(BUSINESS)
    driver.wait_step(Step.FORM, timeout=30)
    phone = driver.find("field:phone", QLineEdit)
    phone.setText("12345")
    driver.click("formNext")
    assert ui.window.current_step() is Step.FORM
    shown = [w.text() for w in ui.window.findChildren(QLabel, "fieldError") if w.text()]
    # each message is marked with ⚠ as well as its colour
    assert any(tr("form.error.phone") in t or tr("form.error.required") in t for t in shown)
    assert all(t.startswith("⚠") for t in shown)


def test_language_switch_to_english_and_back(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    assert driver.find("start").text() == tr("attract.touch", "zh")
    driver.click("language")
    assert driver.find("start").text() == "Touch the screen to start"
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    screen = ui.window.findChild(CatalogueScreen)
    assert _row_text(screen, SENIOR.item_id).startswith(
        terminal.session.catalogue.package(SENIOR.item_id).name_en
    )
    driver.click("language")
    assert _row_text(screen, SENIOR.item_id).startswith("老年人优待证申领")


def _row_text(screen: CatalogueScreen, item_id: str) -> str:
    return str(screen.item_model.index(screen.item_model.row_of(item_id)).data())


def test_search_by_pinyin_initials(kiosk: Factory) -> None:
    _terminal, ui, driver = kiosk()
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    search = driver.find("itemSearch", QLineEdit)
    search.setText("lnr")
    driver.wait_until(lambda: True, 0.5, "search results")
    screen = ui.window.findChild(CatalogueScreen)
    shown = {screen.item_model.key(i) for i in range(screen.item_model.rowCount())}
    assert SENIOR.item_id in shown
    assert BUSINESS.item_id not in shown
