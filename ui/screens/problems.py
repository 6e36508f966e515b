"""Where a device failure lands: retry, or go on to manual review (out of service: out_of_service.py)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.screens.base import Screen, label
from ui.viewmodels import Step
from ui.widgets import BigButton, Title


class DeviceProblemScreen(Screen):
    step = Step.DEVICE_PROBLEM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.detail = label()
        self.action = label(name="hint")
        self.retry = BigButton()
        self.retry.setObjectName("problemRetry")
        self.retry.clicked.connect(facade.retry)
        self.manual = BigButton(role="secondary")
        self.manual.setObjectName("problemManual")
        self.manual.clicked.connect(facade.continue_to_manual)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.manual)
        row.addWidget(self.retry)
        row.addStretch(1)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.action)
        self.layout_.addLayout(row)
        self.layout_.addStretch(2)

    def enter(self) -> None:
        problem = self.facade.view.problem
        self.title.setText(tr("problem.title"))
        self.retry.setText(tr("common.retry"))
        self.manual.setText(tr("problem.to_manual"))
        if problem is None:
            return
        self.detail.setText(tr(problem.detail_key))
        self.action.setText(tr(problem.action_key))
        self.retry.setVisible(problem.can_retry)
        self.manual.setVisible(problem.allow_manual)
