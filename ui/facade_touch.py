"""The facade's part for the touch screen: elderly mode (长辈模式), the form's field kinds and
checks while typing, and the reset of language and mode for each new citizen.

Elderly mode makes text and targets about 1.5× larger (the window restyles itself on
:attr:`KioskFacade.elderlyModeChanged`), multiplies the idle time limits by
:data:`~kiosk.session.idle.ELDERLY_TIME_FACTOR` (the core's idle limit), and is the flag the voice prompts read (``facade.elderly_mode``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.i18n import set_language
from kiosk.session.coordinator import SessionCoordinator
from ui.viewmodels import Bilingual

if TYPE_CHECKING:
    from ui.facade import KioskFacade


@dataclass(frozen=True)
class FieldInputView:
    """How a form field is typed: its kind (text, number, phone, id_number, date, select), its
    options (value, label) for a choice, its length limit."""

    kind: str
    options: tuple[tuple[str, Bilingual], ...] = ()
    max_length: int | None = None


class TouchFacade:
    def __init__(self, facade: KioskFacade, session: SessionCoordinator) -> None:
        self._facade = facade
        self._session = session
        self._elderly = False

    # ------------------------------------------------------------------ elderly mode
    @property
    def elderly(self) -> bool:
        return self._elderly

    def set_elderly(self, on: bool) -> None:
        self._facade.touch()
        if on != self._elderly:
            self._elderly = on
            self._session.idle.elderly = on
            self._facade.elderlyModeChanged.emit(on)

    def toggle_elderly(self) -> None:
        self.set_elderly(not self._elderly)

    @property
    def time_factor(self) -> float:
        """What the idle limits are multiplied by (longer in elderly mode)."""
        return self._session.idle.factor

    def new_citizen(self) -> None:
        """A session ended (done, cancelled, timed out): the next citizen starts in the terminal's
        language, in normal mode."""
        set_language(self._session.config.ui.language)
        if self._elderly:
            self._elderly = False
            self._session.idle.elderly = False
            self._facade.elderlyModeChanged.emit(False)
        self._facade.languageReset.emit()

    # ------------------------------------------------------------------ the form
    def field_inputs(self) -> dict[str, FieldInputView]:
        """Field key → how it is typed, for the current item's form."""
        item = self._facade.view.item
        if item is None:
            return {}
        pkg = self._session.data.bundle or self._session.catalogue.package(item.id)  # 一件事: one form
        return {
            f.key: FieldInputView(
                kind=f.type,
                options=tuple((o.value, (o.label.zh, o.label.en)) for o in f.options),
                max_length=f.max_length,
            )
            for f in pkg.form
        }

    def form_errors(self, values: dict[str, str]) -> dict[str, str]:
        """Field key → i18n error key for ``values`` (no step is taken)."""
        item = self._facade.view.item
        if item is None:
            return {}
        return (self._session.data.bundle or self._session.catalogue.package(item.id)).validate_form(values)

    def check_field(self, key: str, value: str) -> str | None:
        """The i18n key of what is wrong with ``value`` for the field (None: fine), while typing.
        An empty field is not reported before the citizen presses 下一步."""
        item = self._facade.view.item
        if item is None or not value.strip():
            return None
        pkg = self._session.catalogue.package(item.id)
        try:
            spec = pkg.field(key)
        except KeyError:
            return None
        return spec.check(value.strip())
