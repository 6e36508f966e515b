"""Typing the enrolment code on the first-boot screen's on-screen keys, in a fresh process (run by
tests/ui/test_first_boot.py): the virtual keyboard's platform plugin serves the first window of a
process, as on the terminal.  Prints what happened as JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _mode_key(tapper: object) -> object:
    for item in tapper._items():  # type: ignore[attr-defined]
        if item.metaObject().className().startswith("SymbolModeKey") and item.isVisible():
            return item
    raise LookupError("no symbol mode key")


def type_code(tapper: object, text: str) -> int:
    """Letters on the letter layout, digits on the symbol layout (its mode key switches)."""
    digits = False
    for ch in text:
        if ch.isdigit() != digits:
            tapper.tap_item(_mode_key(tapper))  # type: ignore[attr-defined]
            digits = not digits
        tapper.tap(ch)  # type: ignore[attr-defined]
    return len(text)


def main() -> int:
    from PySide6.QtWidgets import QLineEdit

    from kiosk.i18n import set_language
    from terminal.app import make_app
    from terminal.first_boot import FirstBoot
    from ui.a11y_states import settle
    from ui.first_boot import FirstBootWindow
    from ui.keyboard import KeyTapper

    tmp = Path(tempfile.mkdtemp(prefix="firstboot-kbd-"))
    make_app()
    set_language("zh")
    window = FirstBootWindow(FirstBoot(tmp / "etc" / "terminal.toml", tmp / "data"))
    window.resize(1280, 800)
    window.show()
    settle()
    out: dict[str, object] = {}
    try:
        code = window.findChild(QLineEdit, "firstBoot:code")
        window.activateWindow()
        code.setFocus()
        tapper = KeyTapper(window.keyboard)
        out["shown"] = tapper.wait_shown()
        kb_top = window.keyboard.mapTo(window, window.keyboard.rect().topLeft()).y()
        out["field_above_keys"] = code.mapTo(window, code.rect().bottomLeft()).y() <= kb_top
        out["typed"] = type_code(tapper, "k7q2x9ab")
        out["text"] = code.text()
    finally:
        window.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
