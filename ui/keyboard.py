"""Typing on the glass: Qt Virtual Keyboard (Pinyin and English) inside the window.

:func:`enable_virtual_keyboard` must run before the ``QApplication`` exists: it selects the
``qtvirtualkeyboard`` input method and Qt Quick's software renderer (the panel draws without a
GPU, also offscreen).  :class:`KeyboardPanel` hosts ``InputPanel`` (``ui/qml/keyboard.qml``) in a
``QQuickWidget`` at the bottom of the window: it shows when an editable field takes the focus and
hides when none has it, and takes the room from the screen above it, so the window can scroll the
focused field into view above the keys.  A field's input method hints choose the layout: digits
(``ImhDigitsOnly``), a phone pad (``ImhDialableCharactersOnly``), letters.

:class:`KeyTapper` presses the panel's keys like a finger (mouse press and release at the key's
centre): the tests and the scripted demo type with it, Pinyin syllables then a tap on the
candidate.
"""

from __future__ import annotations

import os
from pathlib import Path

import shiboken6
from PySide6.QtCore import QEventLoop, QLoggingCategory, QPointF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtQml import QQmlEngine
from PySide6.QtQuick import QQuickItem, QQuickWindow, QSGRendererInterface
from PySide6.QtQuickWidgets import QQuickWidget
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QTextEdit,
    QWidget,
)

QML = Path(__file__).with_name("qml") / "keyboard.qml"
IM_MODULE = "qtvirtualkeyboard"
_QUIET = (
    "qt.multimedia.*=false\nqt.qml.propertyCache.*=false\nqt.virtualkeyboard.*=false\nqt.qpa.*.debug=false"
)


def enable_virtual_keyboard() -> None:
    """Select the on-screen keyboard (before the ``QApplication`` is created).

    The window hosts the keys itself (:class:`KeyboardPanel`); the plugin's own top-level
    "desktop" keyboard window is switched off.  Without that, a field focused in a window that has
    no panel (a screen shown on its own) made the plugin build its desktop window from QML inside
    ``setFocus``, and that load blocked the GUI thread for good (its loader threads' log messages
    wait for a Python message handler on the blocked thread)."""
    os.environ.setdefault("QT_IM_MODULE", IM_MODULE)
    os.environ["QT_VIRTUALKEYBOARD_DESKTOP_DISABLE"] = "1"
    QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.Software)


def virtual_keyboard_enabled() -> bool:
    return os.environ.get("QT_IM_MODULE") == IM_MODULE


def is_editable(widget: QWidget | None) -> bool:
    if isinstance(widget, QLineEdit):
        return not widget.isReadOnly()
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    if isinstance(widget, QAbstractSpinBox):
        return not widget.isReadOnly()
    return False


class KeyboardPanel(QQuickWidget):
    """The keyboard strip at the bottom of the window (hidden while nothing is typed)."""

    shown = Signal(bool)  # True once the keys are up, False when they went away

    def __init__(self, parent: QWidget | None = None) -> None:
        QQuickWindow.setGraphicsApi(QSGRendererInterface.GraphicsApi.Software)  # before the scene exists
        super().__init__(_engine(), parent)
        self.setObjectName("keyboard")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a tap on a key leaves the field focused
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setResizeMode(QQuickWidget.ResizeMode.SizeRootObjectToView)
        # the window's width decides the keys' width, never the other way round
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)
        self.setClearColor(QColor("#f3f6fb"))
        self.setAccessibleName("屏幕键盘 On-screen keyboard")
        # The keyboard's QML loads on Qt's loader threads; their chatter (the optional PipeWire
        # audio backend, a property override in the style) must not reach a Python message
        # handler from those threads while this one waits for them.
        QLoggingCategory.setFilterRules(_QUIET)
        self.setSource(QUrl.fromLocalFile(str(QML)))
        self.hide()
        self._fraction = 0.38  # of the window height the keys may take at most
        im = QGuiApplication.inputMethod()
        im.visibleChanged.connect(self._sync)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    @property
    def available(self) -> bool:
        return virtual_keyboard_enabled() and self.rootObject() is not None

    def set_locale(self, language: str) -> None:
        root = self.rootObject()
        if root is not None:
            root.setProperty("keyboardLocale", "zh_CN" if language == "zh" else "en_US")

    def fit(self, window_width: int, window_height: int) -> None:
        """Size the keys to the window: full width, but never more than ~38 % of its height."""
        root = self.rootObject()
        if root is None:
            return
        aspect = 3.2  # width : height of the keyboard's default style
        width = min(window_width, int(window_height * self._fraction * aspect))
        root.setProperty("keyboardWidth", width)
        self._apply_height()

    def _apply_height(self) -> None:
        root = self.rootObject()
        if root is not None:
            self.setFixedHeight(max(1, int(root.property("wantedHeight") or 0)))

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if not self.available:
            return
        if is_editable(new) and new is not None and new.window() is self.window():
            # after the platform input context has learnt of the new focus object
            QTimer.singleShot(0, self, self._show_for_focus)
        elif not is_editable(new):
            QGuiApplication.inputMethod().hide()

    def _show_for_focus(self) -> None:
        if not is_editable(QApplication.focusWidget()):
            return
        im = QGuiApplication.inputMethod()
        im.update(Qt.InputMethodQuery.ImQueryAll)
        im.show()
        if self.isVisible():
            self.shown.emit(True)  # another field: keep it in view too

    def _sync(self) -> None:
        up = QGuiApplication.inputMethod().isVisible() and self.available
        if up:
            self._apply_height()
        if up != self.isVisible():
            self.setVisible(up)
            self.shown.emit(up)

    def detach(self) -> None:
        """Leave the window that is closing (the next window takes the panel over)."""
        QGuiApplication.inputMethod().hide()
        self.hide()
        self.setParent(None)  # type: ignore[call-overload]

    def root_item(self) -> QQuickItem | None:
        return self.rootObject()


_ENGINE: list[QQmlEngine] = []
_PANEL: list[KeyboardPanel] = []


def shared_panel() -> KeyboardPanel:
    """The process's one keyboard panel (one ``InputPanel`` registered with the virtual keyboard's
    platform plugin); :meth:`KeyboardPanel.detach` keeps it alive when its window goes.

    Known limit: the plugin does not bring the keys up for a second window of the same process
    (seen with Qt 6.11 offscreen); the terminal has one window, and the tests that type run in
    a fresh process (tests/ui/test_keyboard_typing.py)."""
    if _PANEL and shiboken6.isValid(_PANEL[0]):
        return _PANEL[0]
    _PANEL[:] = [KeyboardPanel()]
    return _PANEL[0]


def _engine() -> QQmlEngine:
    """One QML engine for the process's keyboard (the virtual keyboard's input context lives in
    it)."""
    if not _ENGINE:
        _ENGINE.append(QQmlEngine())
    return _ENGINE[0]


def _walk(item: QQuickItem, out: list[QQuickItem]) -> None:
    for child in item.childItems():
        out.append(child)
        _walk(child, out)


class KeyTapper:
    """Types through the panel's keys with taps at their centres; counts the characters typed."""

    def __init__(self, panel: KeyboardPanel) -> None:
        self.panel = panel
        self.taps = 0

    def _items(self) -> list[QQuickItem]:
        root = self.panel.root_item()
        out: list[QQuickItem] = []
        if root is not None:
            _walk(root, out)
        return out

    def keys(self) -> dict[str, QQuickItem]:
        """Visible keys by the text they type."""
        found: dict[str, QQuickItem] = {}
        for it in self._items():
            text = it.property("text")
            if it.property("key") is not None and isinstance(text, str) and it.isVisible() and it.width() > 0:
                found.setdefault(text, it)
        return found

    def candidates(self) -> dict[str, QQuickItem]:
        """The word candidates shown now (Pinyin), by text."""
        found: dict[str, QQuickItem] = {}
        for it in self._items():
            parent = it.parentItem()
            text = it.property("text")
            if (
                parent is not None
                and parent.metaObject().className().startswith("SelectionListItem")
                and isinstance(text, str)
                and text
                and it.isVisible()
            ):
                found.setdefault(text, parent)
        return found

    def _settled_candidates(self, timeout_ms: int = 2000) -> dict[str, QQuickItem]:
        """The candidates once their strip has slid into view (inside the panel)."""
        waited = 0
        while waited < timeout_ms:
            found = self.candidates()
            first = next(iter(found.values()), None)
            if first is not None:
                y = first.mapToScene(QPointF(0, 0)).y()
                QTest.qWait(60)
                if y >= 0 and abs(first.mapToScene(QPointF(0, 0)).y() - y) < 0.5:
                    return found
            else:
                QTest.qWait(60)
            waited += 60
        return self.candidates()

    def tap_item(self, item: QQuickItem) -> None:
        point = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
        QTest.mouseClick(self.panel, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
        self.taps += 1
        _settle()

    def tap(self, key_text: str) -> None:
        keys = self.keys()
        if key_text not in keys:
            raise LookupError(f"no key {key_text!r} on the keyboard shown ({sorted(keys)[:40]})")
        self.tap_item(keys[key_text])

    def type_latin(self, text: str) -> int:
        """Letters and digits as they are on the keys (the current layout)."""
        for ch in text:
            self.tap(ch)
        return len(text)

    def type_pinyin(self, pinyin: str, word: str) -> int:
        """Spell ``pinyin`` on the keys, then tap the candidate ``word``; returns ``len(word)``."""
        for ch in pinyin:
            self.tap(ch)
        found = self._settled_candidates()
        if word not in found:
            raise LookupError(f"candidate {word!r} not offered for {pinyin!r} ({list(found)[:12]})")
        self.tap_item(found[word])
        return len(word)

    def wait_shown(self, timeout_ms: int = 3000) -> bool:
        """Let the panel come up (and its slide-in finish) after a field took the focus."""
        waited = 0
        while not self.panel.isVisible() and waited < timeout_ms:
            QTest.qWait(20)
            waited += 20
        QTest.qWait(400)  # the InputPanel's slide-in transition
        return self.panel.isVisible()


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
