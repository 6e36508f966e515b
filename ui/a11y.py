"""Accessible names: every interactive widget gets one (screen readers, the automated check).

:func:`name_widgets` walks a widget tree and, where no name was set by hand, derives one from
what the citizen sees: a button's text, a field's label (its row in a ``QFormLayout``, its buddy,
or the ``a11yLabel`` property), its placeholder.  Text made only of symbols (▲, ✓, an emoji) is
not a name: such widgets need an explicit ``setAccessibleName``.  A derived name is refreshed on
each call (the language may have changed); one set by hand is kept.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

_TAG = re.compile(r"<[^>]+>")
_MEANINGFUL = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")
DERIVED = "a11yDerived"


def plain(text: str) -> str:
    """Visible text without markup, mnemonics and extra spaces."""
    text = _TAG.sub(" ", text.replace("<br>", " ")).replace("&nbsp;", " ").replace("&", "")
    return " ".join(text.split())


def meaningful(text: str) -> bool:
    return bool(_MEANINGFUL.search(text))


def is_interactive(widget: QWidget) -> bool:
    """What a citizen can touch to do something."""
    if widget.property("interactive"):
        return True
    return isinstance(
        widget,
        (QAbstractButton, QLineEdit, QAbstractSpinBox, QComboBox, QAbstractItemView, QAbstractSlider),
    ) and not isinstance(widget.parentWidget(), (QAbstractSpinBox, QComboBox))


def _label_of(widget: QWidget) -> str:
    explicit = widget.property("a11yLabel")
    if isinstance(explicit, str) and explicit:
        return explicit
    parent = widget.parentWidget()
    while parent is not None:
        layout = parent.layout()
        if isinstance(layout, QFormLayout):
            for row in range(layout.rowCount()):
                item = layout.itemAt(row, QFormLayout.ItemRole.FieldRole)
                if item is None:
                    continue
                inner = item.widget() or item.layout()
                if inner is widget or (item.layout() is not None and _contains(item.layout(), widget)):
                    lab = layout.itemAt(row, QFormLayout.ItemRole.LabelRole)
                    if lab is not None and isinstance(lab.widget(), QLabel):
                        return plain(lab.widget().text())
            break
        parent = parent.parentWidget() if not isinstance(parent, QAbstractScrollArea) else None
    for lab in widget.window().findChildren(QLabel):
        if lab.buddy() is widget:
            return plain(lab.text())
    return ""


def _contains(layout: object, widget: QWidget) -> bool:
    from PySide6.QtWidgets import QLayout

    if not isinstance(layout, QLayout):
        return False
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is widget or (item.layout() is not None and _contains(item.layout(), widget)):
            return True
    return False


def derive_name(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton):
        text = plain(widget.text())
        if meaningful(text):
            return text
        tip = plain(widget.toolTip())
        return tip if meaningful(tip) else ""
    if isinstance(widget, (QLineEdit, QAbstractSpinBox, QComboBox)):
        text = _label_of(widget)
        if not text and isinstance(widget, QLineEdit):
            text = plain(widget.placeholderText())
        return text.rstrip(" *")
    if isinstance(widget, QAbstractSlider):
        return "滚动条 Scroll bar"
    return plain(widget.toolTip())


def name_widgets(root: QWidget) -> None:
    """Give every interactive widget under ``root`` (and ``root``) an accessible name."""
    for widget in [root, *root.findChildren(QWidget)]:
        if not is_interactive(widget):
            continue
        if widget.accessibleName() and not widget.property(DERIVED):
            continue  # named by hand
        name = derive_name(widget)
        if name:
            widget.setAccessibleName(name)
            widget.setProperty(DERIVED, True)
