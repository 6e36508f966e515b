"""The terminal's one window: header, step bar, the current step's screen."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import language, set_language, tr
from ui.citizen_help import CallStaffButton, CancelConfirm
from ui.facade import KioskFacade
from ui.screens import Screen, all_screens
from ui.style import STYLE
from ui.viewmodels import CITIZEN_STEPS, Step
from ui.voice_controls import VoiceControls
from ui.widgets import StepBar

log = logging.getLogger(__name__)


class KioskWindow(QMainWindow):
    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade
        self.setWindowTitle(tr("app.title"))
        self.setStyleSheet(STYLE)
        root = QWidget()
        root.setObjectName("root")
        outer = QVBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        header = QWidget()
        header.setObjectName("header")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(24, 10, 24, 10)
        self.hall = QLabel(facade.hall_name)
        self.lang = QPushButton()
        self.lang.setObjectName("language")
        self.lang.clicked.connect(self.toggle_language)
        self.cancel = QPushButton()
        self.cancel.setObjectName("cancel")
        self.call_staff = CallStaffButton(facade)  # 呼叫工作人员, on every screen
        self.voice_controls = VoiceControls(facade.voice)  # 重听, voice on/off, volume
        # cancel far from the language button, at the other end of the header; it asks first
        hl.addWidget(self.cancel)
        hl.addWidget(self.hall)
        hl.addStretch(1)
        hl.addWidget(self.call_staff)
        hl.addWidget(self.voice_controls)
        hl.addWidget(self.lang)
        outer.addWidget(header)

        self.steps = StepBar()
        outer.addWidget(self.steps)
        self.idle_banner = QLabel()
        self.idle_banner.setObjectName("idleBanner")
        self.idle_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.idle_banner.hide()
        outer.addWidget(self.idle_banner)

        self.stack = QStackedWidget()
        self.screens: dict[Step, Screen] = {}
        for screen in all_screens(facade):
            self.screens[screen.step] = screen
            self.stack.addWidget(screen)
        outer.addWidget(self.stack, 1)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.status)
        self.setCentralWidget(root)
        self.cancel_confirm = CancelConfirm(facade, root)
        self.cancel.clicked.connect(self.cancel_confirm.ask)

        facade.stepChanged.connect(self.show_step)
        facade.idleWarning.connect(self.on_idle_warning)
        facade.busy.connect(lambda key: self.status.setText(tr(key) if key else ""))
        facade.bug.connect(lambda _name: self.status.setText(tr("problem.title")))
        self._retranslate_chrome()
        self.show_step(facade.view.step)

    def show_step(self, step: Step) -> None:
        screen = self.screens.get(step)
        if screen is None:
            log.error("no screen for step %s", step.value)
            return
        screen.enter()
        self.stack.setCurrentWidget(screen)
        self.steps.set_step(step, self.facade.citizen.step_marks(step))
        self.steps.setVisible(step is not Step.MAINTENANCE)  # no citizen progress there
        self.call_staff.setVisible(step is not Step.MAINTENANCE)
        self.cancel.setVisible(step in CITIZEN_STEPS)
        self.facade.on_step_entered(step)

    def current_step(self) -> Step:
        w = self.stack.currentWidget()
        assert isinstance(w, Screen)
        return w.step

    def toggle_language(self) -> None:
        set_language("en" if language() == "zh" else "zh")
        self.facade.touch()
        self._retranslate_chrome()
        self.steps.set_step(self.current_step(), self.facade.citizen.step_marks(self.current_step()))
        screen = self.stack.currentWidget()
        if isinstance(screen, Screen):
            screen.retranslate()

    def _retranslate_chrome(self) -> None:
        self.lang.setText(tr("common.language"))
        self.cancel.setText(tr("common.cancel"))
        self.call_staff.retranslate()
        self.cancel_confirm.retranslate()
        self.voice_controls.retranslate()
        self.setWindowTitle(tr("app.title"))

    def on_idle_warning(self, seconds: int) -> None:
        if seconds < 0:
            self.idle_banner.hide()
        else:
            self.idle_banner.setText(tr("idle.warning", s=seconds))
            self.idle_banner.show()


class ActivityFilter(QObject):
    """Any touch, click or key press restarts the idle timer."""

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin):
            self.facade.touch()
        return False
