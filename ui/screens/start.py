"""The attract screen (the choice of the item is ui/screens/catalogue.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.screens.base import Screen, label
from ui.screens.consult import ConsultPanel
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
        self.consult = ConsultPanel(facade)  # 智能咨询: open, it takes the screen's room
        self.hall_panel = HallPanel(facade)
        self.consult.opened.connect(self._consulting)
        self.layout_.addWidget(self.consult)
        self.layout_.addWidget(self.hall_panel)
        self.layout_.addStretch(3)

    def _consulting(self, on: bool) -> None:
        for w in (self.title, self.hint, self.start, self.hall_panel):
            w.setVisible(not on)

    def enter(self) -> None:
        self.consult.close_panel()  # each citizen starts at the welcome screen itself
        self.retranslate()

    def retranslate(self) -> None:  # a language switch keeps the consultation where it is
        self.title.setText(tr("attract.welcome"))
        self.hint.setText(tr("attract.hint"))
        self.start.setText(tr("attract.touch"))
        self.consult.retranslate()
