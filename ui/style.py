"""The stylesheet: large type and targets, high contrast, scaled to the screen.

Every size in :data:`STYLE` is written for a 1280×800 panel at scale 1; :func:`stylesheet`
multiplies them by the window's scale factor (:mod:`ui.scale`) and, in elderly mode
(长辈模式), by 1.5 with a floor on text and target sizes.  All text colours keep a contrast of
at least 4.5:1 on their background (checked on the rendered pixels by :mod:`ui.a11y_check`);
state is never shown by colour alone (disabled buttons are dashed, errors carry a ⚠ sign).
"""

from __future__ import annotations

import re

STYLE = """
QWidget { font-family: "Noto Sans CJK SC", "Noto Sans CJK", sans-serif; font-size: 24px; color: #1d2330; }
QMainWindow, #root { background: #f3f6fb; }
#screenBody, #screenScroll, #screenScroll > QWidget > QWidget { background: transparent; }
#header { background: #0b5cad; }
#header QLabel { color: white; font-size: 26px; font-weight: bold; }
#header QPushButton { background: transparent; color: white; border: 2px solid white; border-radius: 10px;
                      padding: 4px 16px; min-height: 48px; min-width: 48px; font-size: 22px; }
#header QPushButton:checked { background: white; color: #0b3c74; }
#title, #consultQuestion { font-size: 38px; font-weight: bold; color: #0b3c74; padding: 8px; }
#subtitle, #resultPrintStatus { font-size: 26px; color: #3b4a63; }
#hint { font-size: 22px; color: #4a5873; }
#big { font-size: 56px; font-weight: bold; color: #0b5cad; }
#faceChallenge { font-size: 44px; font-weight: bold; color: #0b5cad; }
#faceQuality { font-size: 26px; color: #3b4a63; }
#facePreview { background: #20242c; border-radius: 16px; }
#stepLabel { font-size: 18px; padding: 6px 4px; border-radius: 8px; background: #dde5f1; color: #3b4a63; }
#stepLabel[state="current"] { background: #0b5cad; color: white; font-weight: bold; }
#stepLabel[state="done"] { background: #c9def3; color: #0b3c74; }
QPushButton { border-radius: 14px; padding: 8px 24px; font-size: 26px; border: none; min-height: 48px; }
QPushButton[big="true"] { min-height: 64px; min-width: 150px; }
QPushButton[role="primary"] { background: #0b5cad; color: white; }
QPushButton[role="primary"]:pressed { background: #094a8b; }
QPushButton[role="secondary"] { background: white; color: #0b5cad; border: 2px solid #0b5cad; }
QPushButton[role="secondary"]:checked { background: #0b5cad; color: white; }
QPushButton[role="option"] { background: white; color: #0b3c74; border: 2px solid #0b5cad; min-width: 90px; }
QPushButton[role="option"]:checked { background: #0b5cad; color: white; border: 4px solid #062c55; }
QPushButton[role="scroll"] { background: #dde5f1; color: #0b3c74; border: 2px solid #0b5cad; padding: 4px;
                             min-width: 64px; min-height: 64px; font-size: 30px; }
#start { min-height: 110px; font-size: 34px; }
#expressForm QLineEdit { min-height: 48px; font-size: 22px; }
#expressForm #fieldError { font-size: 18px; }
#confirmTop, #confirmTop > QWidget > QWidget { background: transparent; }
QPushButton[role="danger"] { background: #c0392b; color: white; }
QPushButton[role="item"] { background: white; color: #1d2330; border: 2px solid #c9d6ea; text-align: left;
                           padding: 14px 24px; font-size: 28px; }
QPushButton:disabled { background: #dfe4ec; color: #3b4a63; border: 2px dashed #6b7890; }
QLineEdit, QDateEdit { min-height: 56px; font-size: 26px; padding: 4px 12px; border: 2px solid #5a6a85;
                       border-radius: 10px; background: white; placeholder-text-color: #5a6a85; }
QLineEdit[readOnly="true"] { background: #eef2f8; color: #3b4a63; }
QLineEdit[error="true"] { border: 3px solid #b03426; }
QDateEdit::drop-down { width: 56px; }
#fieldError { color: #a8321f; font-size: 20px; }
#card { background: white; border-radius: 16px; border: 1px solid #d5deec; }
#outcome_approve { color: #1b7340; font-size: 48px; font-weight: bold; }
#outcome_reject { color: #b03426; font-size: 48px; font-weight: bold; }
#outcome_manual { color: #8a5a0a; font-size: 48px; font-weight: bold; }
#warning { background: #fff4e0; border: 2px solid #e0a43a; border-radius: 12px; padding: 12px; font-size: 22px; }
#idleBanner { background: #8a5a0a; color: white; font-size: 26px; padding: 10px; }
QScrollBar:vertical { width: 28px; background: #dde5f1; border-radius: 8px; }
QScrollBar::handle:vertical { background: #3b4a63; min-height: 64px; border-radius: 8px; }
QScrollBar::add-line, QScrollBar::sub-line { height: 0px; }
QCalendarWidget QAbstractItemView { font-size: 24px; }
QCalendarWidget QToolButton { font-size: 24px; min-height: 48px; min-width: 48px; color: #0b3c74; }
"""

#: The minimum text size (px at the window's scale) and touch target of each mode.
MIN_TEXT = {"normal": 18, "elderly": 30}
MIN_TARGET = {"normal": 48, "elderly": 60}
ELDERLY_FACTOR = 1.5

_SIZE = re.compile(r"(?P<prop>[a-z-]+)\s*:\s*(?P<body>[^;]*?\d+px[^;]*);")
_PX = re.compile(r"(\d+)px")


def stylesheet(scale: float = 1.0, elderly: bool = False) -> str:
    """:data:`STYLE` with every pixel size scaled; in elderly mode text ≥ 30 px and the height
    of targets ≥ 60 px."""
    factor = scale * (ELDERLY_FACTOR if elderly else 1.0)
    mode = "elderly" if elderly else "normal"

    def size(prop: str, px: int) -> int:
        if prop in {"border", "border-radius"} or px <= 4:
            return max(1, round(px * scale))
        value = round(px * factor)
        if prop == "font-size":
            return max(value, round(MIN_TEXT[mode] * scale))
        if prop in {"min-height", "min-width"} and elderly:
            return max(value, round(MIN_TARGET[mode] * scale))
        return value

    def one(match: re.Match[str]) -> str:
        prop = match.group("prop")
        body = _PX.sub(lambda m: f"{size(prop, int(m.group(1)))}px", match.group("body"))
        return f"{prop}: {body};"

    return _SIZE.sub(one, STYLE)


def scale_for(width: int, height: int) -> float:
    """The size factor of a window: 1 up to a 1280×800 panel (and in portrait up to 1080 wide),
    growing with the shorter fit beyond it, at most 2."""
    portrait = height > width  # then the width limits
    factor = min(width / 1080, height / 1920) if portrait else min(width / 1280, height / 800)
    return max(1.0, min(2.0, factor))
