"""The window builds the first step's screen before it is shown and the others later (on first
use, or after the first paint): a screen built late works as one built at start, in the language
and size the window has then."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from kiosk.config import TerminalConfig
from kiosk.i18n import language, set_language, tr
from kiosk.session.machine import Step
from terminal.app import make_app
from terminal.runtime import Terminal, build_terminal
from ui.facade import KioskFacade
from ui.main_window import KioskWindow
from ui.screens.catalogue import CatalogueScreen


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    make_app()
    set_language("zh")
    built = build_terminal(TerminalConfig(data_dir=str(tmp_path)), tmp_path / "work")
    yield built
    built.close()
    set_language("zh")


@pytest.fixture
def window(terminal: Terminal) -> Iterator[KioskWindow]:
    facade = KioskFacade(terminal.session)
    win = KioskWindow(facade)
    win.resize(1280, 800)
    yield win
    facade.shutdown()
    win.close()
    win.deleteLater()
    QApplication.processEvents()


def test_only_the_first_screen_is_built_before_the_window_shows(window: KioskWindow, qtbot: Any) -> None:
    assert window.current_step() is Step.ATTRACT
    assert window.screens.built(Step.ATTRACT)
    # and the staff's: a staff card's PIN request or refusal may come on any screen
    assert window.screens.built(Step.MAINTENANCE)
    assert window.stack.count() == 2
    assert {Step.CHOOSE_ITEM, Step.FORM, Step.RESULT} <= set(window.screens.pending())
    window.show()
    qtbot.waitUntil(lambda: not window.screens.pending(), timeout=20000)  # the rest, after the paint
    assert window.stack.count() == len(Step) == len(window.screens)
    factor = window.screens[Step.ATTRACT].scale
    assert all(screen.scale == factor for screen in window.screens.values())
    assert window.current_step() is Step.ATTRACT  # building the rest never changes the screen shown


def test_a_screen_built_on_first_use_follows_the_language_and_size(window: KioskWindow) -> None:
    window.resize(1920, 1080)  # a bigger scale than at start (hidden: no resize event)
    window.restyle()
    window.toggle_language()
    assert language() == "en"
    assert not window.screens.built(Step.CHOOSE_ITEM)
    assert window.present(Step.CHOOSE_ITEM)
    screen = window.stack.currentWidget()
    assert isinstance(screen, CatalogueScreen) and screen is window.screens[Step.CHOOSE_ITEM]
    assert screen.title.text() == tr("items.title", "en") != tr("items.title", "zh")
    assert screen.scale == window.screens[Step.ATTRACT].scale > 1.0
    window.toggle_language()  # and switches back like any other screen
    assert screen.title.text() == tr("items.title", "zh")
    assert window.screens.get(Step.CHOOSE_ITEM) is screen  # built once


def test_a_terminal_starting_out_of_service_builds_that_screen_first(terminal: Terminal) -> None:
    from devices.base import RequiredAction
    from kiosk.session.values import Problem

    problem = Problem("selfcheck", RequiredAction.MAINTENANCE, "selfcheck.detail", None, allow_manual=False)
    terminal.session.ctx.raise_problem(problem, terminal.session.data)
    assert terminal.session.step is Step.OUT_OF_SERVICE
    facade = KioskFacade(terminal.session)
    win = KioskWindow(facade)
    try:
        assert win.current_step() is Step.OUT_OF_SERVICE
        assert win.screens.built(Step.OUT_OF_SERVICE) and not win.screens.built(Step.ATTRACT)
    finally:
        facade.shutdown()
        win.close()
        win.deleteLater()
        QApplication.processEvents()
