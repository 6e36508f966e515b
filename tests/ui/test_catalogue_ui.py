"""The catalogue screen in the real window over the repository's 30+ items: one model/view list
(no widget per item) that scrolls by finger drag and by its page buttons, tabs for departments
and life events, search, and the chosen item starts the session."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QScroller

from kiosk.i18n import set_language
from kiosk.session.machine import Step
from terminal.catalogue_demo import tap_item
from tests.conftest import Factory
from ui.screens.catalogue import CatalogueScreen

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def chinese() -> None:
    set_language("zh")


def _keys(screen: CatalogueScreen) -> list[str]:
    return [screen.item_model.key(i) for i in range(screen.item_model.rowCount())]


def _drag(screen: CatalogueScreen, dy: int) -> None:
    """A finger drag on the list, through the window as the touch screen's pointer events come:
    press, move in steps, release."""
    vp = screen.list.viewport()
    win = vp.window().windowHandle()
    start = QPoint(vp.width() // 2, vp.height() - 20 if dy < 0 else 20)

    def at(p: QPoint) -> QPoint:
        return vp.mapTo(vp.window(), p)

    QTest.mousePress(win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(start))
    for i in range(1, 21):
        QTest.mouseMove(win, at(start + QPoint(0, dy * i // 20)), 10)
    QTest.mouseRelease(
        win, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(start + QPoint(0, dy)), 10
    )


def test_browse_scroll_filter_and_start(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    screen = ui.window.findChild(CatalogueScreen)
    assert len(_keys(screen)) == len(terminal.session.catalogue.items()) >= 30
    assert not [b for b in ui.window.findChildren(QPushButton) if b.objectName().startswith("item:")]

    bar = screen.list.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    _drag(screen, -300)  # the finger moves up: the list scrolls down
    driver.wait_until(lambda: bar.value() > 0, 5.0, "list scrolled by the drag")
    QScroller.scroller(screen.list.viewport()).stop()  # the kinetic scroll ends here
    bar.setValue(0)
    driver.click("catalogueDown")
    assert bar.value() > 0
    driver.click("catalogueUp")
    assert bar.value() == 0

    driver.click("catalogueTab:department")
    assert screen.filters.isVisible()
    screen.show_tab("department", "德州市住房公积金管理中心")
    assert sorted(_keys(screen)) == [
        "hpf-loan",
        "hpf-withdrawal-loan",
        "hpf-withdrawal-rent",
        "hpf-withdrawal-retirement",
    ]
    driver.click("catalogueTab:life_event")
    screen.show_tab("life_event", "birth")
    assert set(_keys(screen)) == {"birth-registration", "newborn-medical-insurance", "maternity-allowance"}
    assert screen.bundle.isVisible() and "出生一件事" in screen.bundle.text()

    driver.click("catalogueTab:all")
    screen.search.setText("lhdj")  # 离婚登记
    QApplication.processEvents()
    assert _keys(screen)[0] == "divorce-registration"
    assert "工作人员审核" in screen.detail.text() and "《中华人民共和国民法典》" in screen.detail.text()
    screen.search.clear()
    tap_item(driver, "divorce-registration")  # a manual item: collected here, decided by staff
    driver.click("startItem")
    driver.wait_step(Step.READ_CARD)
    assert terminal.session.data.item_id == "divorce-registration"
