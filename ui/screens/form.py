"""The form and the materials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QFrame, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from kiosk.i18n import bilingual, tr
from ui.facade import KioskFacade
from ui.materials import material_panels
from ui.screens.base import Screen, clear_layout, label
from ui.viewmodels import Step
from ui.widgets import BigButton, Title


class FormScreen(Screen):
    step = Step.FORM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.next = BigButton()
        self.next.setObjectName("formNext")
        self.next.clicked.connect(self._submit)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(self.scroll, 1)
        self.layout_.addWidget(self.next, 0, Qt.AlignmentFlag.AlignRight)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}

    def enter(self) -> None:
        self.title.setText(tr("form.title"))
        self.next.setText(tr("common.next"))
        holder = QWidget()
        form = QFormLayout(holder)
        form.setVerticalSpacing(14)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.edits.clear()
        self.errors.clear()
        for f in self.facade.form_fields():
            edit = QLineEdit(f.value)
            edit.setObjectName(f"field:{f.key}")
            edit.setReadOnly(f.readonly)
            edit.textEdited.connect(lambda _t: self.facade.touch())
            if f.prefilled:
                edit.setToolTip(tr("form.prefilled"))
            err = QLabel("")
            err.setObjectName("fieldError")
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(edit)
            cell.addWidget(err)
            label = bilingual(*f.label) + (" *" if f.required else "")
            form.addRow(label, cell)
            self.edits[f.key] = edit
            self.errors[f.key] = err
        self.scroll.setWidget(holder)

    def _submit(self) -> None:
        values = {k: e.text().strip() for k, e in self.edits.items()}
        errors = self.facade.submit_form(values)
        for key, lab in self.errors.items():
            lab.setText(tr(errors[key]) if key in errors else "")
            self.edits[key].setProperty("error", key in errors)
            self.edits[key].style().unpolish(self.edits[key])
            self.edits[key].style().polish(self.edits[key])


class MaterialsScreen(Screen):
    step = Step.MATERIALS

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        inner = QWidget()
        self.body = QVBoxLayout(inner)
        self.body.setSpacing(16)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        self.pending = label(name="hint")
        self.pending.setObjectName("materialsPending")
        self.next = BigButton()
        self.next.setObjectName("materialsNext")
        self.next.clicked.connect(facade.materials.finish)
        self.layout_.addWidget(self.title)
        self.layout_.addWidget(scroll, 1)
        self.layout_.addWidget(self.pending)
        self.layout_.addWidget(self.next, 0, Qt.AlignmentFlag.AlignRight)
        facade.material.connect(lambda _m: self.enter())
        facade.elicences.connect(self._on_elicences)

    def _on_elicences(self, _session_id: str, offers: Mapping[str, Any]) -> None:
        if offers and self.isVisible():
            self.enter()  # the view holds the offers of the current session

    def enter(self) -> None:
        self.title.setText(tr("materials.title"))
        self.next.setText(tr("common.next"))
        clear_layout(self.body)
        view = self.facade.view
        if view.item is None:
            return
        panels, complete = material_panels(self.facade, view.item.materials, view.materials, view.offers)
        for panel in panels:
            self.body.addWidget(panel)
        self.body.addStretch(1)
        self.pending.setText("" if complete or not view.materials else tr("materials.pending"))
        self.next.setEnabled(complete)
