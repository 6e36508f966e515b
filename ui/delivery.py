"""The delivery choice on the confirm/sign screen (§8.3.2): print here, window, or express.

Shows only the methods the item and the decision allow (:meth:`ui.facade.KioskFacade.delivery`),
preselects the package's default, and for express delivery an address form pre-filled from
what the terminal knows (card name and address, the phone typed in the form), editable, with a
message under each field the service refuses.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.viewmodels import DELIVERY_METHODS, EXPRESS_FIELDS
from ui.widgets import BigButton


class DeliveryPanel(QWidget):
    def __init__(self, facade: KioskFacade, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deliveryPanel")
        self.facade = facade
        self._session: str | None = None
        self.offered: tuple[str, ...] = ()
        self.selected: str | None = None
        self._last_errors: dict[str, str] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)
        self.heading = QLabel()
        self.heading.setObjectName("subtitle")
        self.choice_error = QLabel("")
        self.choice_error.setObjectName("fieldError")
        choices = QHBoxLayout()
        self.buttons: dict[str, BigButton] = {}
        for method in DELIVERY_METHODS:
            button = BigButton(role="secondary")
            button.setObjectName(f"delivery:{method}")
            button.setCheckable(True)
            button.clicked.connect(lambda _c=False, m=method: self.select(m))
            choices.addWidget(button)
            self.buttons[method] = button
        choices.addStretch(1)
        self.express = QWidget()
        self.express.setObjectName("expressForm")
        grid = QGridLayout(self.express)  # two fields a row: the sign pad keeps its room
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(0)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        for n, key in enumerate(EXPRESS_FIELDS):
            row, col = 2 * (n // 2), 2 * (n % 2)
            edit = QLineEdit()
            edit.setObjectName(f"express:{key}")
            edit.textEdited.connect(lambda _t: self.facade.touch())
            err = QLabel("")
            err.setObjectName("fieldError")
            err.setProperty("field", key)
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(label, row, col)
            grid.addWidget(edit, row, col + 1)
            grid.addWidget(err, row + 1, col + 1)
            self.edits[key], self.errors[key], self.labels[key] = edit, err, label
        outer.addWidget(self.heading)
        outer.addLayout(choices)
        outer.addWidget(self.choice_error)
        outer.addWidget(self.express)

    def load(self) -> None:
        """Refresh from the core; a language switch within the same session keeps what was typed."""
        view = self.facade.view
        self.heading.setText(tr("delivery.title"))
        for method, button in self.buttons.items():
            button.setText(tr(f"delivery.{method}"))
        for key, label in self.labels.items():
            label.setText(tr(f"delivery.{key}"))
        if view.session_id == self._session:
            self._show_errors(self._last_errors)
            return
        self._session = view.session_id
        self._last_errors = {}
        delivery = self.facade.delivery()
        self.offered, default = delivery.offered, delivery.default
        for method, button in self.buttons.items():
            button.setVisible(method in self.offered)
        for key, value in delivery.prefill.items():
            self.edits[key].setText(value)
        self.setVisible(bool(self.offered))
        self.selected = None
        if view.delivery is not None and view.delivery in self.offered:
            default = view.delivery
        self.select(default)
        self._show_errors({})

    def select(self, method: str | None) -> None:
        self.facade.touch()
        self.selected = method
        for m, button in self.buttons.items():
            button.setChecked(m is method)
        self.express.setVisible(method == "express")
        self.choice_error.setText("")
        self._reveal(self.express if method == "express" else None)

    def apply(self) -> bool:
        """Hand the choice to the core; False (messages shown in place) when it is refused."""
        if not self.offered:
            return True
        if self.selected is None:
            errors = {"method": "delivery.error.choice"}
        else:
            express = {k: e.text() for k, e in self.edits.items()}
            errors = self.facade.choose_delivery(self.selected, express)
        self._last_errors = errors
        self._show_errors(errors)
        first = next((self.errors[k] for k in EXPRESS_FIELDS if k in errors), None)
        self._reveal(self.choice_error if "method" in errors else first)
        return not errors

    def _reveal(self, widget: QWidget | None) -> None:
        """Scroll the enclosing scroll area (the confirm screen's) so ``widget`` is in view."""
        if widget is None:
            return
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if parent is not None:
            parent.ensureWidgetVisible(widget, 0, 24)

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.choice_error.setText(tr(errors["method"]) if "method" in errors else "")
        self.choice_error.setVisible("method" in errors)
        for key, lab in self.errors.items():
            lab.setText(tr(errors[key]) if key in errors else "")
            edit = self.edits[key]
            edit.setProperty("error", key in errors)
            edit.style().unpolish(edit)
            edit.style().polish(edit)
