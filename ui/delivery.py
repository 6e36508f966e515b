"""The delivery choice on the confirm/sign screen (§8.3.2): print here, window, or express.

Shows only the methods the item and the decision allow (``KioskService.delivery_options``),
preselects the package's default, and for express delivery an address form pre-filled from
what the terminal knows (card name and address, the phone typed in the form), editable, with a
message under each field the service refuses.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.delivery import EXPRESS_FIELDS, DeliveryMethod
from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.widgets import BigButton


class DeliveryPanel(QWidget):
    def __init__(self, facade: KioskFacade, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deliveryPanel")
        self.facade = facade
        self._session: str | None = None
        self.offered: tuple[DeliveryMethod, ...] = ()
        self.selected: DeliveryMethod | None = None
        self._last_errors: dict[str, str] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(8)
        self.heading = QLabel()
        self.heading.setObjectName("subtitle")
        self.choice_error = QLabel("")
        self.choice_error.setObjectName("fieldError")
        row = QHBoxLayout()
        self.buttons: dict[DeliveryMethod, BigButton] = {}
        for method in DeliveryMethod:
            button = BigButton(role="secondary")
            button.setObjectName(f"delivery:{method.value}")
            button.setCheckable(True)
            button.clicked.connect(lambda _c=False, m=method: self.select(m))
            row.addWidget(button)
            self.buttons[method] = button
        row.addStretch(1)
        self.express = QWidget()
        self.express.setObjectName("expressForm")
        form = QFormLayout(self.express)
        form.setVerticalSpacing(4)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        for key in EXPRESS_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"express:{key}")
            edit.textEdited.connect(lambda _t: self.facade.touch())
            err = QLabel("")
            err.setObjectName("fieldError")
            err.setProperty("field", key)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(edit)
            cell.addWidget(err)
            label = QLabel()
            form.addRow(label, cell)
            self.edits[key], self.errors[key], self.labels[key] = edit, err, label
        outer.addWidget(self.heading)
        outer.addLayout(row)
        outer.addWidget(self.choice_error)
        outer.addWidget(self.express)

    def load(self) -> None:
        """Refresh from the core; a language switch within the same session keeps what was typed."""
        data = self.facade.service.data
        self.heading.setText(tr("delivery.title"))
        for method, button in self.buttons.items():
            button.setText(tr(f"delivery.{method.value}"))
        for key, label in self.labels.items():
            label.setText(tr(f"delivery.{key}"))
        if data.session_id == self._session:
            self._show_errors(self._last_errors)
            return
        self._session = data.session_id
        self._last_errors = {}
        self.offered, default = self.facade.delivery_options()
        for method, button in self.buttons.items():
            button.setVisible(method in self.offered)
        for key, value in self.facade.express_prefill().items():
            self.edits[key].setText(value)
        self.setVisible(bool(self.offered))
        self.selected = None
        if data.delivery is not None and data.delivery.method in self.offered:
            default = data.delivery.method
        self.select(default)
        self._show_errors({})

    def select(self, method: DeliveryMethod | None) -> None:
        self.facade.touch()
        self.selected = method
        for m, button in self.buttons.items():
            button.setChecked(m is method)
        self.express.setVisible(method is DeliveryMethod.EXPRESS)
        self.choice_error.setText("")

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
        return not errors

    def _show_errors(self, errors: dict[str, str]) -> None:
        self.choice_error.setText(tr(errors["method"]) if "method" in errors else "")
        for key, lab in self.errors.items():
            lab.setText(tr(errors[key]) if key in errors else "")
            edit = self.edits[key]
            edit.setProperty("error", key in errors)
            edit.style().unpolish(edit)
            edit.style().polish(edit)
