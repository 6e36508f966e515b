"""The automated accessibility check of a rendered window.

:func:`check_window` looks at what is on screen now (the window grabbed to pixels) and reports,
for the given mode (``normal`` or ``elderly``):

- ``text_size``: text smaller than the mode's minimum (18 / 30 dp at the window's scale);
- ``target_size``: a touch target smaller than the mode's minimum (48 / 60 dp);
- ``contrast``: text whose darkest-vs-background contrast on the rendered pixels is below 4.5:1
  (the background is the commonest colour of the text's box, the text the colour furthest
  from it in luminance);
- ``clipped``: text that needs more room than its widget has;
- ``outside``: a widget (outside any scroll area) not wholly inside the window, or a main
  action (``mainAction`` property) not wholly in view;
- ``no_name``: an interactive widget without an accessible name.

Widgets scrolled out of a scroll area's view are not checked for pixels (they are not on
screen) but are still checked for names and sizes.  Used by tests/ui/test_accessibility.py and
by ``make demo`` (terminal/demo_touch.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFontInfo, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QLineEdit,
    QScrollBar,
    QWidget,
)

from ui.a11y import is_interactive, plain
from ui.style import MIN_TARGET, MIN_TEXT

MIN_CONTRAST = 4.5


@dataclass(frozen=True)
class Violation:
    screen: str
    rule: str
    widget: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.screen}] {self.rule} {self.widget}: {self.detail}"


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB values (…, 3) in 0..255."""
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]


def contrast_ratio(a: float, b: float) -> float:
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def image_array(image: QImage) -> np.ndarray:
    """An RGB uint8 array (h, w, 3) of ``image``."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def text_contrast(pixels: np.ndarray) -> float | None:
    """Contrast of the text in a box of pixels: its commonest colour (the background) against
    the colour furthest from it in luminance.  None when the box is one colour."""
    if pixels.size == 0:
        return None
    flat = pixels.reshape(-1, 3)
    packed = (flat[:, 0].astype(np.int32) << 16) | (flat[:, 1].astype(np.int32) << 8) | flat[:, 2]
    codes, counts = np.unique(packed, return_counts=True)
    bg_code = int(codes[np.argmax(counts)])
    bg = np.array([(bg_code >> 16) & 255, (bg_code >> 8) & 255, bg_code & 255])
    lum = luminance(flat)
    bg_lum = float(luminance(bg[None, :])[0])
    far = float(lum[np.argmax(np.abs(lum - bg_lum))])
    if abs(far - bg_lum) < 1e-6:
        return None
    return contrast_ratio(far, bg_lum)


def _name(w: QWidget) -> str:
    return w.objectName() or f"{type(w).__name__}({plain(_text(w))[:20]!r})"


def _text(w: QWidget) -> str:
    if isinstance(w, QLabel):
        return "" if w.pixmap() is not None and not w.pixmap().isNull() else w.text()
    if isinstance(w, QAbstractButton):
        return w.text()
    if isinstance(w, QLineEdit):
        return w.text() or w.placeholderText()
    return ""


def _visible_rect(w: QWidget, window: QWidget) -> tuple[QRect, bool]:
    """``w``'s rectangle in window coordinates clipped by its ancestors, and whether it lies in
    a scroll area."""
    rect = QRect(w.mapTo(window, QPoint(0, 0)), w.size())
    scrolled = False
    parent = w.parentWidget()
    while parent is not None and parent is not window:
        prect = QRect(parent.mapTo(window, QPoint(0, 0)), parent.size())
        rect = rect.intersected(prect)
        if isinstance(parent, QAbstractScrollArea):
            scrolled = True
        parent = parent.parentWidget()
    return rect.intersected(window.rect()), scrolled


def _clipped(w: QWidget) -> str | None:
    if isinstance(w, QLabel) and _text(w):
        cr = w.contentsRect()
        if w.wordWrap():
            need = w.heightForWidth(w.width())
            if need > w.height() + 1:
                return f"needs {need}px height, has {w.height()}"
        else:
            hint = w.sizeHint()
            if hint.width() > w.width() + 1 or hint.height() > w.height() + 1:
                return f"needs {hint.width()}×{hint.height()}, has {w.width()}×{w.height()} ({cr.width()})"
    elif isinstance(w, QAbstractButton) and _text(w):
        hint = w.sizeHint()
        if hint.width() > w.width() + 1 or w.fontMetrics().height() > w.height():
            return f"needs {hint.width()}px width, has {w.width()}"
    elif isinstance(w, QLineEdit) and w.fontMetrics().height() > w.contentsRect().height():
        return f"text {w.fontMetrics().height()}px high in {w.contentsRect().height()}px"
    return None


def check_window(
    window: QWidget, screen: str, mode: str, scale: float, size: tuple[int, int] | None = None
) -> list[Violation]:
    """Every violation of the window as rendered now (see the module docstring); ``size``: the
    screen's size, which the window must not outgrow."""
    found: list[Violation] = []
    if size is not None and (window.width() > size[0] or window.height() > size[1]):
        found.append(
            Violation(
                screen,
                "outside",
                "window",
                f"{window.width()}×{window.height()} > screen {size[0]}×{size[1]}",
            )
        )
    pixels = image_array(window.grab().toImage())
    dpr = pixels.shape[1] / max(window.width(), 1)
    min_text = MIN_TEXT[mode] * scale - 0.5
    min_target = MIN_TARGET[mode] * scale - 0.5

    def add(rule: str, w: QWidget, detail: str) -> None:
        found.append(Violation(screen, rule, _name(w), detail))

    for w in window.findChildren(QWidget):
        if not w.isVisible() or w.window() is not window:
            continue
        visible, scrolled = _visible_rect(w, window)
        interactive = is_interactive(w)
        if interactive and not w.accessibleName():
            add("no_name", w, "interactive widget without an accessible name")
        touchable = (interactive and not isinstance(w, QScrollBar) and w.isEnabled()) or w.property(
            "mainAction"
        )
        too_small = w.height() < min_target or (isinstance(w, QAbstractButton) and w.width() < min_target)
        if touchable and too_small:
            add("target_size", w, f"{w.width()}×{w.height()} < {min_target:.0f}")
        full = QRect(w.mapTo(window, QPoint(0, 0)), w.size())
        if not scrolled and not window.rect().contains(full):
            add("outside", w, f"{full.getRect()} not inside the window {window.width()}×{window.height()}")
        if w.property("mainAction") and visible != full:
            add("outside", w, "main action not wholly in view")
        text = plain(_text(w))
        if not text or visible.isEmpty():
            continue
        px = QFontInfo(w.font()).pixelSize()
        if px < min_text:
            add("text_size", w, f"{px}px < {min_text + 0.5:.0f}px")
        clip = _clipped(w)
        if clip:
            add("clipped", w, clip)
        box = w.contentsRect().translated(w.mapTo(window, QPoint(0, 0))).intersected(visible)
        # keep borders and rounded corners out of the box
        inset = round((10 if isinstance(w, (QLineEdit, QAbstractButton)) else 3) * scale)
        box = box.adjusted(inset, inset, -inset, -inset)
        if box.width() < 4 or box.height() < 4:
            continue
        x0, y0 = int(box.left() * dpr), int(box.top() * dpr)
        x1, y1 = int((box.right() + 1) * dpr), int((box.bottom() + 1) * dpr)
        ratio = text_contrast(pixels[y0:y1, x0:x1])
        if ratio is not None and ratio < MIN_CONTRAST:
            add("contrast", w, f"{ratio:.2f}:1 < {MIN_CONTRAST}:1")
    return found
