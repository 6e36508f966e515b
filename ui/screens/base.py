"""What every screen shares: the base class and a few layout helpers.

A screen's content (:attr:`Screen.layout_`) sits in a scroll area that drags by finger and
shows large ▲ ▼ buttons when it does not fit (the keyboard or elderly mode take room); the main
action goes into :attr:`Screen.footer` below it, never scrolled out of sight
(:meth:`Screen.add_main_action`).  Sizes follow the window's scale (:meth:`Screen.apply_scale`)
and every interactive widget gets an accessible name when the screen is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.a11y import name_widgets
from ui.facade import KioskFacade
from ui.scrolling import ScrollFrame, enable_drag_everywhere
from ui.viewmodels import Step


def label(text: str = "", name: str = "subtitle", wrap: bool = True) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName(name)
    lab.setWordWrap(wrap)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab


def clear_layout(layout: QVBoxLayout) -> None:
    """Remove every widget of ``layout`` now (not at the next event loop turn)."""
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.hide()
            w.setParent(None)  # type: ignore[call-overload]
            w.deleteLater()
        elif item.layout() is not None:
            clear_layout(item.layout())  # type: ignore[arg-type]


class Screen(QWidget):
    step: Step

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade
        self.body = QWidget()
        self.body.setObjectName("screenBody")
        self.layout_ = QVBoxLayout(self.body)
        self.scroll = ScrollFrame(self.body)
        self.footer = QHBoxLayout()
        self._outer = QVBoxLayout(self)
        self._outer.addWidget(self.scroll, 1)
        self._outer.addLayout(self.footer)
        self.scale = 1.0
        self.apply_scale(1.0)
        self._naming = False
        self.body.installEventFilter(self)  # rebuilt content is named too

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() is QEvent.Type.LayoutRequest and not self._naming:
            self._naming = True
            QTimer.singleShot(0, self, self._name_now)  # dropped if the screen is deleted first
        return False

    def _name_now(self) -> None:
        self._naming = False
        name_widgets(self)

    def add_main_action(self, button: QPushButton, *others: QPushButton) -> None:
        """The screen's main action (and buttons beside it) at the bottom right, always in view."""
        button.setProperty("mainAction", True)
        if self.footer.count() == 0:
            self.footer.addStretch(1)
        for other in others:
            self.footer.addWidget(other)
        self.footer.addWidget(button)

    def apply_scale(self, scale: float) -> None:
        """Margins and spacing for the window's size factor (elderly mode included)."""
        self.scale = scale
        self._outer.setContentsMargins(
            round(40 * scale), round(12 * scale), round(24 * scale), round(16 * scale)
        )
        self._outer.setSpacing(round(10 * scale))
        self.layout_.setContentsMargins(0, 0, round(8 * scale), 0)
        self.layout_.setSpacing(round(14 * scale))
        self.footer.setSpacing(round(16 * scale))

    def shown(self) -> None:
        """After :meth:`enter` (and after a language switch): names and drag-to-scroll."""
        name_widgets(self)
        self.scroll.retranslate()
        enable_drag_everywhere(self)

    def reveal(self, widget: QWidget) -> None:
        """Scroll the screen so ``widget`` is in view (above the keyboard)."""
        self.scroll.area.ensureWidgetVisible(widget, 0, round(24 * self.scale))

    def enter(self) -> None:
        """Called each time the step is shown: refresh from the facade's view."""

    def retranslate(self) -> None:
        """Called when the language changes."""
        self.enter()
