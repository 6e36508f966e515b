"""The catalogue in the scripted demo: choosing an item by tapping its row, and screenshots of
the whole catalogue browsed by department, by life event and by pinyin initials."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ui.screens.catalogue import CatalogueScreen
from ui.viewmodels import Step

if TYPE_CHECKING:
    from terminal.demo import DemoDriver

#: (file label, tab, filter key or None, search text)
VIEWS = (
    ("all", "all", None, ""),
    ("department-hpf", "department", "德州市住房公积金管理中心", ""),
    ("department-public-security", "department", "德州市公安局德城分局", ""),
    ("life-event-birth", "life_event", "birth", ""),
    ("life-event-business-start", "life_event", "business-start", ""),
    ("search-pinyin-ydjy", "all", None, "ydjy"),
)


def _screen(driver: DemoDriver) -> CatalogueScreen:
    screen = driver.window.findChild(CatalogueScreen)
    if screen is None:
        raise RuntimeError("the window has no catalogue screen")
    return screen


def tap_item(driver: DemoDriver, item_id: str) -> None:
    """Tap ``item_id``'s row in the list (after showing all items when the current view hides it)."""
    screen = _screen(driver)
    if screen.item_model.row_of(item_id) < 0:
        screen.search.clear()
        screen.show_tab("all")
    row = screen.item_model.row_of(item_id)
    if row < 0:
        raise RuntimeError(f"item {item_id!r} is not in the catalogue")
    index = screen.item_model.index(row)
    screen.list.scrollTo(index)
    QApplication.processEvents()
    QTest.mouseClick(
        screen.list.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        screen.list.visualRect(index).center(),
    )
    driver.wait_until(lambda: screen.selected == item_id, 5.0, f"row {item_id} selected")


def catalogue_shots(driver: DemoDriver, out: Path) -> dict[str, Any]:
    """From the attract screen: the catalogue browsed six ways, one PNG each, then cancelled."""
    driver.wait_step(Step.ATTRACT)
    driver.click("start")
    driver.wait_step(Step.CHOOSE_ITEM)
    screen = _screen(driver)
    shots: list[dict[str, Any]] = []
    for label, tab, key, text in VIEWS:
        screen.search.setText(text)
        screen.show_tab(tab, key)
        QApplication.processEvents()
        name = f"catalogue-{len(shots) + 1:02d}-{label}.png"
        driver.window.grab().save(str(out / name))
        shots.append(
            {"file": name, "tab": tab, "filter": key, "search": text, "items": screen.item_model.rowCount()}
        )
    screen.search.clear()
    screen.show_tab("all")
    total = screen.item_model.rowCount()
    driver.click("cancel")
    driver.click("cancelConfirm")  # 确定要取消吗？ → 确认取消 (no item chosen: no rating)
    driver.wait_step(Step.ATTRACT)
    return {"items": total, "screenshots": shots}
