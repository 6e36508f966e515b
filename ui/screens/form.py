"""The form and the materials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.form_fields import FormField
from ui.materials import material_panels
from ui.screens.base import Screen, clear_layout, label
from ui.viewmodels import Step
from ui.widgets import BigButton, Title


class FormScreen(Screen):
    step = Step.FORM

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.holder = QVBoxLayout()
        self.next = BigButton()
        self.next.setObjectName("formNext")
        self.next.clicked.connect(self._submit)
        self.layout_.addWidget(self.title)
        self.layout_.addLayout(self.holder)
        self.layout_.addStretch(1)
        self.add_main_action(self.next)
        self.fields: dict[str, FormField] = {}
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        self._session: str | None = None

    def enter(self) -> None:
        self.title.setText(tr("form.title"))
        self.next.setText(tr("common.next"))
        session = self.facade.view.session_id
        same = session == self._session  # a language switch keeps what was typed; a new citizen never
        self._session = session
        typed = {k: f.value() for k, f in self.fields.items()} if same else {}
        clear_layout(self.holder)
        self.fields.clear()
        self.edits.clear()
        self.errors.clear()
        inputs = self.facade.touch_ui.field_inputs()
        views = self.facade.form_fields()
        # what the citizen must type first: required open fields are never below the fold
        order = sorted(views, key=lambda f: (f.readonly, not f.required))
        for f in order:
            field = FormField(f, inputs.get(f.key), self._edited)
            self.holder.addWidget(field)
            self.fields[f.key] = field
            self.errors[f.key] = field.error
            if field.edit is not None:
                self.edits[f.key] = field.edit
                if typed.get(f.key) and not f.readonly and field.edit.text() != typed[f.key]:
                    field.edit.setText(typed[f.key])  # a language switch keeps what was typed
            field.show_error(None)

    def _edited(self, key: str, value: str) -> None:
        """Validation while typing: the message next to the field."""
        self.facade.touch()
        self.fields[key].show_error(self.facade.touch_ui.check_field(key, value))

    def values(self) -> dict[str, str]:
        return {k: f.value() for k, f in self.fields.items()}

    def _submit(self) -> None:
        self.show_errors(self.facade.submit_form(self.values()))

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each field's message (i18n key) under it; the first one scrolled into view."""
        first: QWidget | None = None
        for key, field in self.fields.items():
            field.show_error(errors.get(key))
            if key in errors and first is None:
                first = field
        if errors:
            self.facade.voice.say_key("voice.error.form_invalid")  # heard as well as seen
        if first is not None:
            self.reveal(first)


class MaterialsScreen(Screen):
    step = Step.MATERIALS

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__(facade)
        self.title = Title()
        self.panels = QVBoxLayout()
        self.panels.setSpacing(16)
        self.pending = label(name="hint")
        self.pending.setObjectName("materialsPending")
        self.next = BigButton()
        self.next.setObjectName("materialsNext")
        self.next.clicked.connect(facade.materials.finish)
        self.layout_.addWidget(self.title)
        self.layout_.addLayout(self.panels)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.pending)
        self.add_main_action(self.next)
        facade.material.connect(self._on_material)  # a bound method: dropped with the screen
        facade.elicences.connect(self._on_elicences)

    def _on_material(self, _material: object) -> None:
        self.enter()

    def _on_elicences(self, _session_id: str, offers: Mapping[str, Any]) -> None:
        if offers and self.isVisible():
            self.enter()  # the view holds the offers of the current session

    def enter(self) -> None:
        self.title.setText(tr("materials.title"))
        self.next.setText(tr("common.next"))
        clear_layout(self.panels)
        view = self.facade.view
        if view.item is None:
            return
        panels, complete = material_panels(self.facade, view.item.materials, view.materials, view.offers)
        for panel in panels:
            self.panels.addWidget(panel)
        self.pending.setText("" if complete or not view.materials else tr("materials.pending"))
        self.next.setEnabled(complete)
