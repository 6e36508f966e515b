"""The process's one on-screen keyboard panel (ui/keyboard.py) outlives the window it sits in: a
closed window stops following it, so the next window bringing the keys up never runs the closed
window's handlers while it waits for deleteLater (that crashed the test process in Qt), and the
plugin never opens a keyboard window of its own for a field outside a kiosk window."""

from __future__ import annotations

import gc
import os

import shiboken6
from PySide6.QtQuick import QQuickWindow
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from terminal.app import make_app
from tests.conftest import Factory


def test_a_closed_window_no_longer_follows_the_shared_keyboard(kiosk: Factory) -> None:
    _terminal, ui, _driver = kiosk()
    old = ui.window
    panel = old.keyboard
    ui.close()  # as at shutdown: closeEvent now, the C++ window deleted later (deleteLater)
    panel.shown.emit(True)  # the keys come up for the next window
    assert not old._typing  # the closed window's chrome did not react
    QTest.qWait(50)  # deferred delete and any timer the old window had queued
    gc.collect()
    QTest.qWait(50)
    assert not shiboken6.isValid(old) and shiboken6.isValid(panel)
    assert panel.parentWidget() is None  # detached, ready for the next window


def test_a_field_outside_a_kiosk_window_does_not_open_a_keyboard_window() -> None:
    make_app()
    assert os.environ["QT_VIRTUALKEYBOARD_DESKTOP_DISABLE"] == "1"
    edit = QLineEdit()
    edit.show()
    edit.activateWindow()
    edit.setFocus()  # used to block for good inside the plugin (its desktop keyboard window)
    QTest.qWait(50)
    assert not [w for w in QApplication.topLevelWindows() if isinstance(w, QQuickWindow) and w.isVisible()]
    edit.close()
    edit.deleteLater()
