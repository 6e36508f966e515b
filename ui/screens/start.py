"""The attract screen (the choice of the item is ui/screens/catalogue.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.screens.base import Screen, label
from ui.screens.hall import HallPanel
from ui.viewmodels import Step
from ui.widgets import BigButton, Title


class AttractScreen(Screen):
    step = Step.ATTRACT

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.hint = label(name="hint")
        self.start = BigButton()
        self.start.setObjectName("start")
        self.start.setMinimumHeight(120)
        self.start.clicked.connect(facade.start)
        self.layout_.addStretch(2)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.hint)
        self.layout_.addSpacing(40)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.start, 2)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addWidget(HallPanel(facade))
        self.layout_.addStretch(3)

    def enter(self) -> None:
        self.title.setText(tr("attract.welcome"))
        self.hint.setText(tr("attract.hint"))
        self.start.setText(tr("attract.touch"))
