"""Out of service: the terminal cannot serve; the failure and the action that clears it.

After a failed start-up self-check (terminal/selfcheck.py) the screen lists every failing check
with its required action (a missing device, no trusted catalogue: provision the terminal), as the
facade's service part (:mod:`ui.facade_service`) reports it; the terminal leaves the screen by
itself once the check passes.
"""

from __future__ import annotations

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.facade_service import FailedCheckView
from ui.screens.base import Screen, label
from ui.viewmodels import Step
from ui.widgets import Title


class OutOfServiceScreen(Screen):
    step = Step.OUT_OF_SERVICE

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.detail = label()
        self.action = label(name="hint")
        self.checks = label(name="hint")
        self.checks.setObjectName("oosChecks")
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.detail)
        self.layout_.addWidget(self.action)
        self.layout_.addWidget(self.checks)
        self.layout_.addStretch(2)
        facade.service.changed.connect(self._show_checks)

    def enter(self) -> None:
        problem = self.facade.view.problem
        self.title.setText(tr("oos.title"))
        self.detail.setText(tr("oos.detail"))
        self.action.setText("")
        if problem is not None and problem.title_key != "problem.selfcheck":
            self.action.setText(f"{tr(problem.title_key)}：{tr(problem.action_key)}")
        self._show_checks(self.facade.service.failures)
        self.facade.service.refresh()

    def _show_checks(self, failures: tuple[FailedCheckView, ...]) -> None:
        self.checks.setText("\n".join(f"{tr(f.title_key)}：{tr(f.action_key)}" for f in failures))
