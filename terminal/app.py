"""Start the terminal's UI on a built terminal."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication

from kiosk.config import TerminalConfig
from kiosk.voice import Speaker, VoiceUnavailable, build_speaker
from terminal.hall import hall_facade
from terminal.runtime import Terminal
from ui.facade import KioskFacade
from ui.facade_assist import AssistFacade
from ui.keyboard import enable_virtual_keyboard
from ui.main_window import ActivityFilter, KioskWindow
from ui.screens.assist import install_assist

log = logging.getLogger(__name__)


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "") in {"offscreen", "minimal", "vnc", "eglfs", "linuxfb"}:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    enable_virtual_keyboard()  # the on-screen keyboard is chosen before the application exists
    app = QApplication(argv if argv is not None else sys.argv[:1])
    families = set(QFontDatabase.families())
    for fam in ("Noto Sans CJK SC", "Noto Sans CJK", "WenQuanYi Micro Hei"):
        if fam in families:
            app.setFont(QFont(fam, 14))
            break
    return app


def speaker(config: TerminalConfig) -> Speaker | None:
    """The voice prompts' speaker (kiosk/voice.py); None where no speech engine is installed."""
    try:
        return build_speaker(neural=config.ui.voice_neural, volume=config.ui.voice_volume)
    except VoiceUnavailable as err:
        log.warning("no voice prompts: %s", err)
        return None


class KioskUi:
    """The window, the facade and the activity filter of one running terminal."""

    def __init__(self, app: QApplication, terminal: Terminal, fullscreen: bool) -> None:
        self.app = app
        self.terminal = terminal
        self.facade = KioskFacade(terminal.session)
        self.facade.hall = hall_facade(terminal)
        self.window = KioskWindow(self.facade)
        self.closed = False
        if terminal.assist is not None:  # 远程帮办: header button and call panel (ui/screens/assist.py)
            self.facade.assist = AssistFacade(terminal.assist, self.facade)
            install_assist(self.window, self.window.call_staff, self.facade.assist)
        self.activity = ActivityFilter(self.facade)
        app.installEventFilter(self.activity)
        self.window.resize(1280, 800)
        if fullscreen:
            self.window.showFullScreen()
        else:
            self.window.show()
        # Enrolment, the first sync and the demo's sandbox platform start once the first screen is
        # painted, not while it is being built (terminal/runtime.py, bench/startup attract_s).
        QTimer.singleShot(0, terminal.window_shown)
        if terminal.bench is not None:
            # Demo profile only: Ctrl+Shift+M puts the simulated staff card on its reader or
            # takes it off (a real terminal has a real reader and no such key).
            self.staff_card_key = QShortcut(QKeySequence("Ctrl+Shift+M"), self.window)
            self.staff_card_key.activated.connect(self.toggle_demo_staff_card)
        # The models load when a citizen leaves the welcome screen (terminal/models.py), never on
        # the GUI thread.  Freed memory goes back on the way to the welcome screen (terminal/heap.py,
        # a session listener; no explicit garbage collection: one after each session crashed the
        # demo sessions in Qt, docs/performance.md).
        self.facade.bg.run(lambda: speaker(terminal.config), on_success=self.facade.voice.attach)

    def toggle_demo_staff_card(self) -> None:
        bench = self.terminal.bench
        if bench is None:
            return
        if bench.staff_reader.present():
            bench.remove_staff_card()
        else:
            bench.present_staff_card()

    def close(self) -> None:
        if self.closed:  # once: the window is deleted after the first close
            return
        self.closed = True
        self.app.removeEventFilter(self.activity)
        if self.facade.assist is not None:
            self.facade.assist.shutdown()
        self.facade.shutdown()
        self.facade.voice.close()
        self.window.close()
        self.window.deleteLater()
