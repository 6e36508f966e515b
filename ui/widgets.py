"""Touch-first widgets: big buttons, the step bar, the signature pad."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from kiosk.i18n import tr
from ui.viewmodels import HAPPY_PATH, Step


class BigButton(QPushButton):
    """A large touch target (R-UX): its minimum size comes from the stylesheet
    (``QPushButton[big="true"]``), scaled with the window and elderly mode."""

    def __init__(self, text: str = "", role: str = "primary", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setProperty("role", role)
        self.setProperty("big", True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)


class Title(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("title")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)


class StepBar(QWidget):
    """Where the citizen is: the happy path with the current step highlighted."""

    _SHOWN = tuple(s for s in HAPPY_PATH if s is not Step.SUBMIT)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(4)
        self._labels: dict[Step, QLabel] = {}
        for step in self._SHOWN:
            lab = QLabel()
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setObjectName("stepLabel")
            lab.setWordWrap(True)  # two lines rather than a window wider than the screen
            lay.addWidget(lab, 1)
            self._labels[step] = lab
        self.set_step(Step.ATTRACT)

    #: The state marks: an icon as well as the colour (never colour alone).
    ICONS = {"done": "✓", "current": "▶", "todo": "○"}

    def set_step(self, step: Step, marks: Sequence[Any] | None = None) -> None:
        """``marks``: the item's steps with their states (``.step``, ``.state``); without them the
        whole happy path, done/current/todo by position."""
        if marks is None:
            current = HAPPY_PATH.index(step) if step in HAPPY_PATH else -1
            marks = [
                _Mark(
                    s, "current" if s is step else ("done" if 0 <= HAPPY_PATH.index(s) < current else "todo")
                )
                for s in self._SHOWN
            ]
        states = {m.step: m.state for m in marks}
        for s, lab in self._labels.items():
            state = states.get(s)
            lab.setVisible(state is not None)  # steps the item does not have are not shown
            if state is None:
                continue
            lab.setProperty("state", state)
            lab.setText(f"{self.ICONS[state]} {tr(f'step.{s.value}')}")
            lab.setAccessibleName(f"{tr(f'step.{s.value}')}：{tr(f'citizen.step.{state}')}")
            lab.style().unpolish(lab)
            lab.style().polish(lab)
        self.setVisible(step is not Step.ATTRACT)


@dataclass(frozen=True)
class _Mark:
    step: Step
    state: str


class SignaturePad(QWidget):
    """Signs with a finger: strokes drawn on a white canvas, exported as PNG."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(600, 220)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setProperty("interactive", True)
        self.setAccessibleName(tr("touch.signature_pad"))
        self._strokes: list[list[QPoint]] = []

    def clear(self) -> None:
        self._strokes.clear()
        self.update()
        self.changed.emit()

    def is_empty(self) -> bool:
        return not any(len(s) > 1 for s in self._strokes)

    def add_stroke(self, points: list[QPoint]) -> None:
        """Programmatic strokes (tests, the scripted demo)."""
        self._strokes.append(list(points))
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._strokes.append([event.position().toPoint()])
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._strokes:
            self._strokes[-1].append(event.position().toPoint())
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self.changed.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        self._draw(p)
        p.end()

    def _draw(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("white"))
        p.setPen(QPen(QColor("#bbbbbb"), 1, Qt.PenStyle.DashLine))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.setPen(QPen(QColor("black"), 4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        for stroke in self._strokes:
            for a, b in itertools.pairwise(stroke):
                p.drawLine(a, b)

    def to_png(self) -> bytes:
        img = QImage(self.size(), QImage.Format.Format_RGB32)
        p = QPainter(img)
        self._draw(p)
        p.end()
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        img.save(buf, "PNG")
        return bytes(data.data())


def pixmap_from_jpeg(data: bytes, max_w: int, max_h: int) -> QPixmap:
    pm = QPixmap()
    pm.loadFromData(data)
    return pm.scaled(
        max_w, max_h, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
