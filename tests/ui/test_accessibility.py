"""The touch screen as a citizen meets it: every screen checked for accessibility (text size,
targets, contrast on the rendered pixels, clipping, names) in normal and elderly mode at four
screen sizes; Chinese typed by tapping the on-screen keyboard's keys; choice fields as option
buttons; language and elderly mode reset for the next citizen."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.config import TerminalConfig
from kiosk.i18n import language, set_language
from kiosk.session.machine import Step
from terminal.app import make_app
from terminal.runtime import Terminal, build_terminal
from ui.a11y_check import check_window
from ui.a11y_states import ScreenStates, check_all, settle
from ui.facade import KioskFacade
from ui.main_window import KioskWindow

SIZES = ((1280, 800), (1366, 768), (1920, 1080), (1080, 1920))


@pytest.fixture(scope="module")
def kiosk_window(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Terminal, KioskFacade, KioskWindow]]:
    tmp = tmp_path_factory.mktemp("a11y")
    make_app()
    set_language("zh")
    terminal = build_terminal(TerminalConfig(data_dir=str(tmp)), tmp / "work")
    facade = KioskFacade(terminal.session)
    window = KioskWindow(facade)
    window.resize(1280, 800)
    window.show()
    settle()
    yield terminal, facade, window
    facade.shutdown()
    window.close()
    terminal.close()
    set_language("zh")
    QApplication.processEvents()


def _state(window: KioskWindow, facade: KioskFacade, terminal: Terminal, wanted: str) -> Iterator[str]:
    for name in ScreenStates(window, facade, terminal.session.data).each():
        if name == wanted:
            yield name


def test_the_checker_finds_each_kind_of_violation() -> None:
    """A deliberately bad window: every rule fires."""
    make_app()
    bad = QWidget()
    bad.resize(400, 300)
    lay = QVBoxLayout(bad)
    tiny = QLabel("小字 small text")
    tiny.setObjectName("tiny")
    tiny.setStyleSheet("font-size: 10px; color: #999999; background: white;")
    pale = QLabel("浅色文字")
    pale.setObjectName("pale")
    pale.setStyleSheet("font-size: 24px; color: #bbbbbb; background: white;")
    clipped = QLabel("这是一段很长很长的文字，放不下")
    clipped.setObjectName("clipped")
    clipped.setStyleSheet("font-size: 24px; color: black; background: white;")
    clipped.setFixedWidth(120)
    button = QPushButton("▲")
    button.setObjectName("noName")
    button.setFixedSize(30, 30)
    for w in (tiny, pale, clipped, button):
        lay.addWidget(w)
    outside = QPushButton("外面", bad)
    outside.setObjectName("outside")
    outside.setAccessibleName("outside")
    outside.setGeometry(350, 250, 120, 80)
    bad.show()
    settle()
    rules = {(v.rule, v.widget) for v in check_window(bad, "bad", "normal", 1.0)}
    assert ("text_size", "tiny") in rules
    assert ("contrast", "pale") in rules
    assert ("clipped", "clipped") in rules
    assert ("no_name", "noName") in rules
    assert ("target_size", "noName") in rules
    assert ("outside", "outside") in rules
    # and a good label passes
    assert not {r for r in rules if r[1] == "good"}
    bad.close()


@pytest.mark.slow
def test_every_screen_at_every_size_and_mode(kiosk_window: tuple[Terminal, KioskFacade, KioskWindow]) -> None:
    terminal, facade, window = kiosk_window
    checked, violations = check_all(window, facade, terminal.session.data, SIZES)
    assert checked == len(ScreenStates(window, facade, terminal.session.data).states()) * len(SIZES) * 2
    assert violations == [], "\n".join(map(str, violations))


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_main_action_and_required_fields_in_view(
    kiosk_window: tuple[Terminal, KioskFacade, KioskWindow], size: tuple[int, int]
) -> None:
    terminal, facade, window = kiosk_window
    window.resize(*size)
    for _ in _state(window, facade, terminal, "form"):
        settle()
        nxt = window.findChild(QPushButton, "formNext")
        assert nxt.isVisible() and window.rect().contains(
            nxt.geometry().translated(nxt.mapTo(window, nxt.rect().topLeft()) - nxt.geometry().topLeft())
        )
        screen = window.screens[Step.FORM]
        first = next(iter(screen.fields.values()))  # required open fields come first
        area = screen.scroll.area.viewport()
        top_left = first.mapTo(area, first.rect().topLeft())
        assert 0 <= top_left.y() < area.height()
    window.resize(1280, 800)


@pytest.mark.slow
def test_choice_field_shows_its_options(kiosk_window: tuple[Terminal, KioskFacade, KioskWindow]) -> None:
    terminal, facade, window = kiosk_window
    for _ in _state(window, facade, terminal, "form"):
        screen = window.screens[Step.FORM]
        grade = screen.fields["contribution_grade"]
        assert set(grade.options) >= {"100", "200", "300", "500"}
        assert grade.value() == "300"  # the package's default, shown checked
        grade.options["500"].click()
        assert grade.value() == "500" and grade.options["500"].accessibleName() == "500元"
        assert not grade.options["300"].isChecked()


@pytest.mark.slow
def test_language_and_elderly_mode_reset_for_the_next_citizen(
    kiosk_window: tuple[Terminal, KioskFacade, KioskWindow],
) -> None:
    _terminal, facade, window = kiosk_window
    changes: list[bool] = []
    facade.elderlyModeChanged.connect(changes.append)
    facade.start()
    settle()
    first = facade.view.session_id
    window.elderly.click()
    window.toggle_language()
    assert facade.elderly_mode and facade.touch_ui.time_factor > 1 and language() == "en"
    facade.cancel()
    deadline = time.monotonic() + 10
    while facade.view.session_id == first and time.monotonic() < deadline:
        settle()
    assert facade.view.session_id != first and facade.view.step is Step.ATTRACT
    assert not facade.elderly_mode and language() == "zh" and changes == [True, False]
    assert not window.elderly.isChecked()


@pytest.mark.slow
def test_language_and_elderly_mode_reset_after_an_idle_timeout(
    kiosk_window: tuple[Terminal, KioskFacade, KioskWindow],
) -> None:
    terminal, facade, window = kiosk_window
    facade.start()
    settle()
    first = facade.view.session_id
    window.elderly.click()
    window.toggle_language()
    assert facade.elderly_mode and language() == "en"
    terminal.session.machine._last_activity -= 100_000  # the citizen walked away long ago
    deadline = time.monotonic() + 10
    while facade.view.session_id == first and time.monotonic() < deadline:
        settle()
    assert facade.view.session_id != first and facade.view.step is Step.ATTRACT
    assert not facade.elderly_mode and language() == "zh" and not window.elderly.isChecked()
