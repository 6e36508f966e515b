"""The demo's touch-screen parts: form text typed by tapping the on-screen keyboard's keys
(Pinyin syllables, then the candidate), and the accessibility report with screenshots of every
screen in both modes.

The demo citizens' Chinese text is spelled here as the citizen would type it: (pinyin, word)
chunks whose word the Pinyin engine offers as a candidate.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from terminal.app import KioskUi
from terminal.runtime import Terminal
from ui.a11y_states import check_all, settle
from ui.keyboard import KeyTapper
from ui.screens.base import Screen

log = logging.getLogger(__name__)

SIZES = ((1280, 800), (1366, 768), (1920, 1080), (1080, 1920))
SHOT_SIZES = ((1920, 1080), (1080, 1920))

#: How the demo citizens spell what they type: (pinyin, candidate) chunks, digits as they are.
SPELLING: dict[str, tuple[tuple[str, str], ...]] = {
    "德城区建国便利店": (
        ("de", "德"),
        ("cheng", "城"),
        ("qu", "区"),
        ("jianguo", "建国"),
        ("bianli", "便利"),
        ("dian", "店"),
    ),
    "日用百货零售": (("riyong", "日用"), ("baihuo", "百货"), ("lingshou", "零售")),
}


def scroll_into_view(widget: QWidget) -> None:
    """Scroll the screen holding ``widget`` so it can be tapped (a field being typed lets the
    keyboard go first, as the tap on the button would)."""
    focused = QApplication.focusWidget()
    if isinstance(focused, QLineEdit):
        focused.clearFocus()
        settle(8)
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, Screen):
        parent = parent.parentWidget()
    if isinstance(parent, Screen):
        parent.reveal(widget)
        settle()


def type_on_keyboard(ui: KioskUi, edit: QLineEdit, value: str) -> int:
    """Type ``value`` into ``edit`` with taps on the keyboard's keys; returns the characters typed
    that way (0 when the keyboard is not there or the text has no known spelling)."""
    panel = ui.window.keyboard
    if not panel.available:
        return 0
    chunks: tuple[tuple[str, str], ...] | None
    if value.isascii():
        chunks = None
    else:
        chunks = SPELLING.get(value)
        if chunks is None:
            return 0
    edit.window().activateWindow()  # the keys type into the active window's focused field
    edit.setFocus()
    tapper = KeyTapper(panel)
    if not tapper.wait_shown():
        log.warning("the on-screen keyboard did not come up")
        return 0
    try:
        if chunks is None:
            typed = tapper.type_latin(value)
        else:
            typed = sum(tapper.type_pinyin(pinyin, word) for pinyin, word in chunks)
    except LookupError as err:
        log.warning("typing on the keyboard failed: %s", err)
        return 0
    settle()
    return typed if edit.text() == value else 0


def accessibility_report(ui: KioskUi, terminal: Terminal, out: Path) -> dict[str, Any]:
    """Every citizen screen state in normal and elderly mode at the four sizes, checked; the
    screenshots at 1920×1080 and 1080×1920 in ``out/accessibility/``."""
    window = ui.window
    size = window.size()
    checked, violations = check_all(
        window,
        ui.facade,
        terminal.session.data,
        SIZES,
        shots=out / "accessibility",
        shot_sizes=SHOT_SIZES,
    )
    window.resize(size)
    settle()
    for v in violations:
        log.warning("accessibility: %s", v)
    return {
        "screens_checked": checked,
        "violations": len(violations),
        "violation_list": [str(v) for v in violations],
        "sizes": [f"{w}x{h}" for w, h in SIZES],
        "modes": ["normal", "elderly"],
        "screenshots": sorted(str(p.relative_to(out)) for p in (out / "accessibility").glob("*.png")),
    }
