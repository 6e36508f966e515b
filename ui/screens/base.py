"""What every screen shares: the base class and a few layout helpers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.facade import KioskFacade
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
        w = layout.takeAt(0).widget()
        if w is not None:
            w.hide()
            w.setParent(None)  # type: ignore[call-overload]
            w.deleteLater()


class Screen(QWidget):
    step: Step

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(48, 24, 48, 24)
        self.layout_.setSpacing(18)

    def enter(self) -> None:
        """Called each time the step is shown: refresh from the facade's view."""

    def retranslate(self) -> None:
        """Called when the language changes."""
        self.enter()
