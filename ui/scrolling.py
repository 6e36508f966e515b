"""Scrolling by finger: drag-to-scroll (QScroller, touch gesture) on every scroll area, and large ▲ ▼ buttons
beside content that does not fit."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import tr


def enable_drag(area: QAbstractScrollArea) -> None:
    """A finger (or the mouse) drags the content; idempotent."""
    if area.property("dragScroll"):
        return
    area.setProperty("dragScroll", True)
    # touch drags scroll; taps stay clicks (a left-mouse gesture would hold back every press
    # on the buttons inside to see whether it becomes a drag)
    area.viewport().setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.TouchGesture)


def enable_drag_everywhere(root: QWidget) -> None:
    for area in root.findChildren(QAbstractScrollArea):
        enable_drag(area)


class ScrollFrame(QWidget):
    """A scroll area with drag-to-scroll and a column of large up/down buttons that shows only
    while the content is taller than the view."""

    def __init__(self, content: QWidget, name: str = "screenScroll", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.area = QScrollArea()
        self.area.setObjectName(name)
        self.area.setWidgetResizable(True)
        self.area.setFrameShape(QFrame.Shape.NoFrame)
        self.area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.area.setWidget(content)
        enable_drag(self.area)
        self.up = QPushButton("▲")
        self.down = QPushButton("▼")
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        for button, step in ((self.up, -1), (self.down, 1)):
            button.setProperty("role", "scroll")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _c=False, s=step: self.page(s))
        column.addWidget(self.up)
        column.addStretch(1)
        column.addWidget(self.down)
        self.buttons = QWidget()
        self.buttons.setLayout(column)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.area, 1)
        row.addWidget(self.buttons)
        bar = self.area.verticalScrollBar()
        # the range changes while the row is being laid out: show the buttons after that
        bar.rangeChanged.connect(lambda _lo, _hi: QTimer.singleShot(0, self, self._update))
        bar.valueChanged.connect(lambda _v: self._update())
        self.retranslate()
        self._update()

    def retranslate(self) -> None:
        self.up.setAccessibleName(tr("touch.scroll_up"))
        self.down.setAccessibleName(tr("touch.scroll_down"))

    def page(self, direction: int) -> None:
        bar = self.area.verticalScrollBar()
        bar.setValue(bar.value() + direction * max(bar.pageStep() * 3 // 4, 1))

    def _update(self) -> None:
        bar = self.area.verticalScrollBar()
        scrolls = bar.maximum() > 0
        self.up.setVisible(scrolls)  # the column itself stays: it is 0 wide without them
        self.down.setVisible(scrolls)
        self.up.setEnabled(bar.value() > 0)
        self.down.setEnabled(bar.value() < bar.maximum())
