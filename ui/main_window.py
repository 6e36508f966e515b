"""The terminal's one window: header, step bar, the current step's screen."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QColor, QPalette, QResizeEvent, QShowEvent
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
from ui.screen_stack import ScreenStack
from ui.screens import Screen, screen_factories
from ui.slots import never_raises
from ui.style import ELDERLY_FACTOR, scale_for, stylesheet
from ui.viewmodels import CITIZEN_STEPS, Step
from ui.voice_controls import VoiceControls
from ui.widgets import StepBar

log = logging.getLogger(__name__)

#: The screens not built with the window are built this long after it is shown (ui/screen_stack.py).
PREBUILD_AFTER_MS = 100


class KioskWindow(QMainWindow):
    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.facade = facade
        self.setWindowTitle(tr("app.title"))
        self._style_key: tuple[float, bool] | None = None
        self._typing = False  # the on-screen keys are up: the header's extra rows make room
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
        rows = QVBoxLayout(header)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(0)
        top = QWidget()
        hl = QHBoxLayout(top)
        hl.setContentsMargins(24, 10, 24, 10)
        rows.addWidget(top)
        # the helpers (呼叫工作人员, 远程帮办, voice, 长辈模式): in the top row when they fit beside the
        # hall name, in a row of their own when they do not (portrait, elderly mode: _fit_header)
        self.header_tools = QWidget()
        self.header_tools.setObjectName("headerTools")
        tools = QHBoxLayout(self.header_tools)
        tools.setContentsMargins(0, 0, 0, 0)
        self._header_rows = rows
        self._tools_layout = tools
        self.header_tools.installEventFilter(self)  # a helper shown or hidden: fit the header again
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
        self.elderly.clicked.connect(self._toggle_elderly)
        self.header_layout = hl
        # cancel far from the language button, at the other end of the header; it asks first
        hl.addWidget(self.cancel)
        hl.addWidget(self.hall, 1)
        tools.addWidget(self.call_staff)
        tools.addWidget(self.voice_controls)
        tools.addWidget(self.elderly)
        hl.addWidget(self.header_tools)
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
        self._scale_factor = 1.0
        # Each screen built when its step is first shown; the rest after the first paint.
        self.screens = ScreenStack(
            self.stack, screen_factories(facade), lambda s: s.apply_scale(self._scale_factor)
        )
        # Built now all the same: staff-card events (PIN asked, card refused) come on any screen.
        self.screens[Step.MAINTENANCE]
        self._prebuild_due = True  # the rest once the window is shown (showEvent)
        outer.addWidget(self.stack, 1)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.status)
        self.keyboard = shared_panel()  # takes its room from the screen above while typing
        self.keyboard.shown.connect(self._keyboard_shown)
        self._follows_keyboard = True
        outer.addWidget(self.keyboard)
        self.setCentralWidget(root)
        self.cancel_confirm = CancelConfirm(facade, root)
        self.cancel.clicked.connect(self.cancel_confirm.ask)
        # The facade outlives windows (tests make many): bound methods only, which PySide
        # disconnects when the window is destroyed; a lambda would run on the deleted widgets.
        facade.elderlyModeChanged.connect(self._elderly_mode_changed)
        facade.languageReset.connect(self._language_reset)

        facade.stepChanged.connect(self.show_step)
        facade.idleWarning.connect(self.on_idle_warning)
        facade.busy.connect(self._show_busy)
        facade.bug.connect(self._show_bug)
        self._retranslate_chrome()
        self.restyle()
        self.show_step(facade.view.step)

    @never_raises(None)
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

    @never_raises(None)
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

    @never_raises(None)
    def _language_reset(self) -> None:
        """A new citizen: the chrome in the terminal's language again (screens enter anew)."""
        self._retranslate_chrome()

    @never_raises(None)
    def _toggle_elderly(self) -> None:
        self.facade.touch_ui.toggle_elderly()

    @never_raises(None)
    def _elderly_mode_changed(self, _on: bool) -> None:
        self.restyle()

    @never_raises(None)
    def _show_busy(self, key: str) -> None:
        self.status.setText(tr(key) if key else "")

    @never_raises(None)
    def _show_bug(self, _name: str) -> None:
        self.show_failure()

    def show_failure(self) -> None:
        """The problem line (after a bug reset the session, or one of the window's slots failed)."""
        self.status.setText(tr("problem.title"))

    @never_raises(None)
    def restyle(self) -> None:
        """Sizes for this window and mode: the stylesheet, screen margins, the keyboard."""
        elderly = self.facade.touch_ui.elderly
        scale = scale_for(self.width(), self.height())
        key = (round(scale, 2), elderly)
        self.elderly.setChecked(elderly)
        self.elderly.setText(tr("touch.elderly_off") if elderly else tr("touch.elderly"))
        if key == self._style_key:
            self._fit_header()
            return
        self._style_key = key
        self.setStyleSheet(stylesheet(scale, elderly))
        factor = scale * (ELDERLY_FACTOR if elderly else 1.0)
        self._scale_factor = factor
        self.header_layout.setContentsMargins(
            round(24 * scale), round(6 * scale), round(24 * scale), round(6 * scale)
        )
        self.header_layout.setSpacing(round(12 * scale))
        for screen in self.screens.values():
            screen.apply_scale(factor)
        self.keyboard.fit(self.width(), self.height())
        self._fit_header()

    @never_raises(None)
    def closeEvent(self, event: QCloseEvent) -> None:
        # The panel is the process's one (ui/keyboard.py) and outlives this window: a closed
        # window must not follow it any more (its layout is deleted soon after, by deleteLater,
        # while the next window brings the keys up).
        try:
            if self._follows_keyboard:
                self._follows_keyboard = False
                self.keyboard.shown.disconnect(self._keyboard_shown)
            self.keyboard.detach()
        finally:
            super().closeEvent(event)

    @never_raises(None)
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._prebuild_due:  # after the first paint, not before it
            self._prebuild_due = False
            QTimer.singleShot(PREBUILD_AFTER_MS, self, self.screens.build_rest)

    @never_raises(None)
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.restyle()

    @never_raises(False)
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.header_tools and event.type() is QEvent.Type.LayoutRequest:
            QTimer.singleShot(0, self, self._fit_header)  # dropped if this window is deleted first
        return False

    @never_raises(None)
    def _fit_header(self) -> None:
        """The helper buttons beside the hall name when the header has room for them, else in a
        second header row, and the voice controls in a third when even that is too narrow (never
        clipped: portrait screens, elderly mode)."""
        hl, tools, rows = self.header_layout, self._tools_layout, self._header_rows
        margins = hl.contentsMargins()
        room = self.width() - margins.left() - margins.right()

        def width(w: QWidget) -> int:
            w.ensurePolished()
            return 0 if w.isHidden() else w.sizeHint().width() + hl.spacing()

        voice = self.voice_controls
        helpers = [tools.itemAt(i).widget() for i in range(tools.count())]
        helpers_w = sum(width(w) for w in helpers if w is not None and w is not voice)
        voice_w = width(voice)
        hall = self.hall.fontMetrics().horizontalAdvance(self.hall.text()[:8])  # the name may wrap
        top_w = width(self.cancel) + width(self.lang) + hall + hl.spacing()
        voice_in_tools = helpers_w + voice_w <= room
        tools_in_top = voice_in_tools and top_w + helpers_w + voice_w <= room
        if voice_in_tools and tools.indexOf(voice) < 0:
            rows.removeWidget(voice)
            tools.insertWidget(max(0, tools.indexOf(self.elderly)), voice)
        elif not voice_in_tools and tools.indexOf(voice) >= 0:
            tools.removeWidget(voice)
            rows.addWidget(voice, 0, Qt.AlignmentFlag.AlignRight)
        if tools_in_top and hl.indexOf(self.header_tools) < 0:
            rows.removeWidget(self.header_tools)
            hl.insertWidget(hl.indexOf(self.lang), self.header_tools)
            tools.setContentsMargins(0, 0, 0, 0)
        elif not tools_in_top and hl.indexOf(self.header_tools) >= 0:
            hl.removeWidget(self.header_tools)
            rows.insertWidget(1, self.header_tools)
            tools.setContentsMargins(margins.left(), 0, margins.right(), margins.bottom())
        extra_rows = not self._typing  # rows of their own give way to the keys while typing
        self.header_tools.setVisible(extra_rows or hl.indexOf(self.header_tools) >= 0)
        voice.setVisible(extra_rows or tools.indexOf(voice) >= 0)

    @never_raises(None)
    def _keyboard_shown(self, up: bool) -> None:
        """Keep the field being typed in view above the keys (the step bar and the status line
        make room while the keys are up)."""
        step = self.current_step()
        self.steps.setVisible(not up and step is not Step.MAINTENANCE)
        self.status.setVisible(not up)
        self._typing = up
        self._fit_header()
        if up:
            QTimer.singleShot(0, self, self._reveal_focused)  # dropped if this window is deleted first

    @never_raises(None)
    def _reveal_focused(self) -> None:
        focused = QApplication.focusWidget()
        screen = self.stack.currentWidget()
        if focused is not None and isinstance(screen, Screen) and screen.isAncestorOf(focused):
            screen.reveal(focused)

    def _retranslate_chrome(self) -> None:
        self.keyboard.set_locale(language())
        self.elderly.setText(tr("touch.elderly_off") if self.facade.touch_ui.elderly else tr("touch.elderly"))
        self.lang.setText(tr("common.language"))
        self.cancel.setText(tr("common.cancel"))
        self.call_staff.retranslate()
        self.cancel_confirm.retranslate()
        self.voice_controls.retranslate()
        self.setWindowTitle(tr("app.title"))

    @never_raises(None)
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

    @never_raises(False)  # called for every event of the application: it must never raise
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin):
            self.facade.touch()
        return False
