"""The materials step's commands, part of the one facade (:attr:`ui.facade.KioskFacade.materials`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.session.steps.materials import MaterialsStep
from ui import present

if TYPE_CHECKING:
    from ui.facade import KioskFacade


class MaterialsFacade:
    def __init__(self, facade: KioskFacade, step: MaterialsStep) -> None:
        self.facade = facade
        self.step = step

    def capture(self, material_type: str) -> None:
        self.facade.busy.emit("materials.recognising")
        self.facade.run(lambda: self.step.capture(material_type))

    def retake_page(self, material_type: str, index: int) -> None:
        self.facade.busy.emit("materials.recognising")
        self.facade.run(lambda: self.step.retake_page(material_type, index))

    def delete_page(self, material_type: str, index: int) -> None:
        self.facade.guard(lambda: self.step.delete_page(material_type, index))

    def confirm_pages(self, material_type: str) -> None:
        self.facade.guard(lambda: self.step.confirm_pages(material_type))

    def confirm_field(self, material_type: str, key: str, value: str) -> dict[str, str]:
        """In memory only: field key -> i18n error key, {} when accepted."""
        return self.step.confirm_field(material_type, key, value)

    def finish(self) -> None:
        self.facade.guard(self.step.finish)

    def request_elicences(self) -> None:
        """Look up the citizen's e-licences in the background; ``elicences`` delivers them with the
        session they belong to (a late answer must not show up in the next citizen's session)."""
        facade = self.facade
        session_id = facade.view.session_id
        facade.run(
            lambda: present.offers_view(self.step.elicence_offers()),
            on_success=lambda offers: facade.elicences.emit(session_id, offers),
            clears_busy=False,  # a capture may be under way
        )

    def use_elicence(self, material_type: str, licence_id: str) -> None:
        # writes the audit trail: not on the GUI thread
        self.facade.run(lambda: self.step.use_elicence(material_type, licence_id))
