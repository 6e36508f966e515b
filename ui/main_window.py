"""The terminal's one window: header, step bar, the current step's screen."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QColor, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import language, set_language, tr
from ui.a11y import name_widgets
from ui.citizen_help import CallStaffButton, CancelConfirm
from ui.facade import KioskFacade
from ui.keyboard import shared_panel
from ui.screens import Screen, all_screens
from ui.style import ELDERLY_FACTOR, scale_for, stylesheet
from ui.viewmodels import CITIZEN_STEPS, Step
from ui.voice_controls import VoiceControls
from ui.widgets import StepBar

log = logging.getLogger(__name__)


class KioskWindow(QMainWindow):
    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade
        self.setWindowTitle(tr("app.title"))
        self._style_key: tuple[float, bool] | None = None
        palette = self.palette()  # placeholders readable too (4.5:1 on white)
        palette.setColor(QPalette.ColorRole.PlaceholderText, QColor("#5a6a85"))
        self.setPalette(palette)
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
        self.hall.setWordWrap(True)  # a long hall name takes two lines, never the header buttons' room
        self.lang = QPushButton()
        self.lang.setObjectName("language")
        self.lang.clicked.connect(self.toggle_language)
        self.cancel = QPushButton()
        self.cancel.setObjectName("cancel")
        self.call_staff = CallStaffButton(facade)  # 呼叫工作人员, on every screen
        self.voice_controls = VoiceControls(facade.voice)  # 重听, voice on/off, volume
        self.elderly = QPushButton()  # 长辈模式: one tap on every screen
        self.elderly.setObjectName("elderlyMode")
        self.elderly.setCheckable(True)
        self.elderly.clicked.connect(lambda _c=False: facade.touch_ui.toggle_elderly())
        self.header_layout = hl
        # cancel far from the language button, at the other end of the header; it asks first
        hl.addWidget(self.cancel)
        hl.addWidget(self.hall, 1)
        hl.addWidget(self.call_staff)
        hl.addWidget(self.voice_controls)
        hl.addWidget(self.elderly)
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
        # each screen scrolls: the tallest screen's content never makes the window taller
        self.stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.screens: dict[Step, Screen] = {}
        for screen in all_screens(facade):
            self.screens[screen.step] = screen
            self.stack.addWidget(screen)
        outer.addWidget(self.stack, 1)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.status)
        self.keyboard = shared_panel()  # takes its room from the screen above while typing
        self.keyboard.shown.connect(self._keyboard_shown)
        outer.addWidget(self.keyboard)
        self.setCentralWidget(root)
        self.cancel_confirm = CancelConfirm(facade, root)
        self.cancel.clicked.connect(self.cancel_confirm.ask)
        facade.elderlyModeChanged.connect(lambda _on: self.restyle())
        facade.languageReset.connect(self._language_reset)

        facade.stepChanged.connect(self.show_step)
        facade.idleWarning.connect(self.on_idle_warning)
        facade.busy.connect(lambda key: self.status.setText(tr(key) if key else ""))
        facade.bug.connect(lambda _name: self.status.setText(tr("problem.title")))
        self._retranslate_chrome()
        self.restyle()
        self.show_step(facade.view.step)

    def show_step(self, step: Step) -> None:
        if self.present(step):
            self.facade.on_step_entered(step)

    def present(self, step: Step) -> bool:
        """Show the step's screen as the view has it (without starting the step's work)."""
        screen = self.screens.get(step)
        if screen is None:
            log.error("no screen for step %s", step.value)
            return False
        screen.enter()
        self.stack.setCurrentWidget(screen)
        screen.shown()
        self.steps.set_step(step, self.facade.citizen.step_marks(step))
        self.steps.setVisible(step is not Step.MAINTENANCE)  # no citizen progress there
        self.call_staff.setVisible(step is not Step.MAINTENANCE)
        self.cancel.setVisible(step in CITIZEN_STEPS)
        name_widgets(self)  # the chrome too
        return True

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
            screen.shown()
        name_widgets(self)

    def _language_reset(self) -> None:
        """A new citizen: the chrome in the terminal's language again (screens enter anew)."""
        self._retranslate_chrome()

    def restyle(self) -> None:
        """Sizes for this window and mode: the stylesheet, screen margins, the keyboard."""
        elderly = self.facade.touch_ui.elderly
        scale = scale_for(self.width(), self.height())
        key = (round(scale, 2), elderly)
        self.elderly.setChecked(elderly)
        self.elderly.setText(tr("touch.elderly_off") if elderly else tr("touch.elderly"))
        if key == self._style_key:
            return
        self._style_key = key
        self.setStyleSheet(stylesheet(scale, elderly))
        factor = scale * (ELDERLY_FACTOR if elderly else 1.0)
        self.header_layout.setContentsMargins(
            round(24 * scale), round(6 * scale), round(24 * scale), round(6 * scale)
        )
        self.header_layout.setSpacing(round(12 * scale))
        for screen in self.screens.values():
            screen.apply_scale(factor)
        self.keyboard.fit(self.width(), self.height())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.keyboard.detach()
        super().closeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.restyle()

    def _keyboard_shown(self, up: bool) -> None:
        """Keep the field being typed in view above the keys (the step bar and the status line
        make room while the keys are up)."""
        step = self.current_step()
        self.steps.setVisible(not up and step is not Step.MAINTENANCE)
        self.status.setVisible(not up)
        if not up:
            return

        def reveal() -> None:
            focused = QApplication.focusWidget()
            screen = self.stack.currentWidget()
            if focused is not None and isinstance(screen, Screen) and screen.isAncestorOf(focused):
                screen.reveal(focused)

        QTimer.singleShot(0, reveal)

    def _retranslate_chrome(self) -> None:
        self.keyboard.set_locale(language())
        self.elderly.setText(tr("touch.elderly_off") if self.facade.touch_ui.elderly else tr("touch.elderly"))
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
