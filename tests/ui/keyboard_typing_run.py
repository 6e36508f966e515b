"""Typing on the on-screen keyboard in a fresh process (run by tests/ui/test_keyboard_typing.py):
the virtual keyboard's platform plugin serves the first window of a process, as on the
terminal, so this runs as its own process and prints what happened as JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QLineEdit

    from kiosk.config import TerminalConfig
    from kiosk.i18n import set_language
    from terminal.app import make_app
    from terminal.runtime import build_terminal
    from ui.a11y_states import ScreenStates, settle
    from ui.facade import KioskFacade
    from ui.keyboard import KeyTapper
    from ui.main_window import KioskWindow
    from ui.viewmodels import Step

    tmp = Path(tempfile.mkdtemp(prefix="kbd-"))
    make_app()
    set_language("zh")
    terminal = build_terminal(TerminalConfig(data_dir=str(tmp)), tmp / "work")
    facade = KioskFacade(terminal.session)
    window = KioskWindow(facade)
    window.resize(1280, 800)
    window.show()
    settle()
    out: dict[str, object] = {}
    try:
        for name in ScreenStates(window, facade, terminal.session.data).each():
            if name != "form_keyboard":
                continue
            edit = window.findChild(QLineEdit, "field:business_name")
            window.activateWindow()
            edit.setFocus()
            tapper = KeyTapper(window.keyboard)
            out["shown"] = tapper.wait_shown()
            out["im_visible"] = QGuiApplication.inputMethod().isVisible()
            kb_top = window.keyboard.mapTo(window, window.keyboard.rect().topLeft()).y()
            out["field_above_keys"] = edit.mapTo(window, edit.rect().bottomLeft()).y() <= kb_top
            out["typed"] = tapper.type_pinyin("beijing", "北京")
            out["text"] = edit.text()
            out["taps"] = tapper.taps
            phone = window.findChild(QLineEdit, "field:phone")
            out["phone_hints"] = bool(phone.inputMethodHints() & Qt.InputMethodHint.ImhDialableCharactersOnly)
            phone.setFocus()
            tapper.wait_shown()
            out["phone_keys"] = sorted(tapper.keys())
            tapper.type_latin("139")
            settle()
            out["phone_text"] = phone.text()
            err = window.screens[Step.FORM].fields["phone"].error  # type: ignore[attr-defined]
            out["phone_error"] = err.text() if err.isVisible() else ""
    finally:
        facade.shutdown()
        window.close()
        terminal.close()
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
