"""The form's input widgets by field kind: a line edit whose input method hints choose the
on-screen keyboard's layout (Pinyin/English for text, digits for numbers and ID numbers, the
phone pad for phone numbers), a date field with a calendar, option buttons for a choice.

Each field shows what is wrong with it under itself while the citizen types.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCalendarWidget,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import bilingual, tr
from ui.facade_touch import FieldInputView
from ui.viewmodels import FieldView
from ui.widgets import BigButton

IM = Qt.InputMethodHint
HINTS: dict[str, Qt.InputMethodHint] = {
    "number": IM.ImhFormattedNumbersOnly,
    "phone": IM.ImhDialableCharactersOnly,
    "id_number": IM.ImhPreferNumbers | IM.ImhPreferUppercase | IM.ImhNoPredictiveText,
    "date": IM.ImhDate | IM.ImhPreferNumbers,
}


class FormField(QWidget):
    """One field: its input, and the message under it."""

    def __init__(
        self, view: FieldView, spec: FieldInputView | None, on_edit: Callable[[str, str], None]
    ) -> None:
        super().__init__()
        self.key = view.key
        self.kind = spec.kind if spec is not None else view.kind
        self.setObjectName(f"fieldBox:{view.key}")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        self.caption = QLabel(bilingual(*view.label) + (" *" if view.required else ""))
        self.caption.setObjectName("fieldLabel")
        self.caption.setWordWrap(True)
        box.addWidget(self.caption)
        self.edit: QLineEdit | None = None
        self.options: dict[str, QPushButton] = {}
        self.calendar: QCalendarWidget | None = None
        if self.kind == "select" and spec is not None and spec.options:
            box.addWidget(self._option_buttons(view, spec, on_edit))
        else:
            box.addLayout(self._line(view, spec, on_edit))
        self.error = QLabel("")
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        box.addWidget(self.error)
        if self.calendar is not None:
            box.addWidget(self.calendar)

    def _line(
        self, view: FieldView, spec: FieldInputView | None, on_edit: Callable[[str, str], None]
    ) -> QHBoxLayout:
        edit = QLineEdit(view.value)
        edit.setObjectName(f"field:{view.key}")
        edit.setReadOnly(view.readonly)
        edit.setProperty("a11yLabel", bilingual(*view.label))
        edit.setInputMethodHints(HINTS.get(self.kind, IM.ImhNone))
        if spec is not None and spec.max_length:
            edit.setMaxLength(spec.max_length)
        if view.prefilled:
            edit.setToolTip(tr("form.prefilled"))
        edit.textEdited.connect(lambda text: on_edit(self.key, text))
        self.caption.setBuddy(edit)
        self.edit = edit
        row = QHBoxLayout()
        row.addWidget(edit, 1)
        if self.kind == "date" and not view.readonly:
            pick = BigButton(tr("touch.choose_date"), role="secondary")
            pick.setObjectName(f"datePick:{view.key}")
            pick.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            cal = QCalendarWidget()
            cal.setObjectName(f"calendar:{view.key}")
            cal.setGridVisible(True)
            cal.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
            cal.hide()
            current = QDate.fromString(view.value, Qt.DateFormat.ISODate)
            if current.isValid():
                cal.setSelectedDate(current)
            cal.clicked.connect(lambda d: self._date_picked(d, on_edit))
            pick.clicked.connect(lambda _c=False: cal.setVisible(not cal.isVisible()))
            self.calendar = cal
            row.addWidget(pick)
        return row

    def _date_picked(self, date: QDate, on_edit: Callable[[str, str], None]) -> None:
        assert self.edit is not None and self.calendar is not None
        self.edit.setText(date.toString(Qt.DateFormat.ISODate))
        self.calendar.hide()
        on_edit(self.key, self.edit.text())

    def _option_buttons(
        self, view: FieldView, spec: FieldInputView, on_edit: Callable[[str, str], None]
    ) -> QWidget:
        holder = QWidget()
        holder.setObjectName(f"field:{view.key}")
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        group = QButtonGroup(holder)
        group.setExclusive(True)
        columns = 3 if len(spec.options) > 4 else max(1, len(spec.options))
        for n, (value, label) in enumerate(spec.options):
            button = QPushButton(bilingual(*label))
            button.setObjectName(f"option:{view.key}:{value}")
            button.setProperty("role", "option")
            button.setCheckable(True)
            button.setChecked(value == view.value)
            button.setEnabled(not view.readonly)
            button.clicked.connect(lambda _c=False, v=value: on_edit(self.key, v))
            group.addButton(button)
            grid.addWidget(button, n // columns, n % columns)
            self.options[value] = button
        return holder

    def value(self) -> str:
        if self.edit is not None:
            return self.edit.text().strip()
        return next((v for v, b in self.options.items() if b.isChecked()), "")

    def show_error(self, key: str | None) -> None:
        """The message (an i18n key) under the field, marked with ⚠ and a heavier border."""
        self.error.setText(f"⚠ {tr(key)}" if key else "")
        self.error.setVisible(bool(key))
        target = self.edit
        if target is not None:
            target.setProperty("error", bool(key))
            target.style().unpolish(target)
            target.style().polish(target)
