"""Help from a person and a clear path, part of the one facade (:attr:`ui.facade.KioskFacade.citizen`):
calling staff, staff-assisted identity with the staff card, the card step's refusals and reminders,
the step bar's marks for the item at hand, the commitment to read before signing, what the result
screen lists, and the end of each citizen's session (for what the UI resets per citizen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from kiosk.session import events as ev
from kiosk.session import guide
from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.machine import HAPPY_PATH, Step

if TYPE_CHECKING:
    from ui.facade import KioskFacade

Bilingual = tuple[str, str]


@dataclass(frozen=True)
class CardRefusedView:
    message: Bilingual  # why the card cannot be used
    advice_key: str  # i18n key: what to do next


@dataclass(frozen=True)
class StaffIdentityView:
    state: str  # "pin" | "refused" | "confirmed"
    refusal: str | None = None  # StaffCardRefusal value
    attempts_left: int | None = None


@dataclass(frozen=True)
class CommitmentView:
    """The 告知承诺书 as the A4 form prints it: title, text, originals to hand in and their deadline."""

    title: Bilingual
    text: Bilingual
    originals: tuple[Bilingual, ...]
    deadline_days: int


@dataclass(frozen=True)
class StepMark:
    step: Step
    state: str  # "done" | "current" | "todo"


class CitizenFacade(QObject):
    cardRefused = Signal(object)  # CardRefusedView
    cardWaiting = Signal()  # still waiting for the card: remind the citizen
    staffIdentity = Signal(object)  # StaffIdentityView
    staffCalled = Signal(str)  # the step where staff was called
    sessionEnded = Signal(str)  # EndReason value: reset what belonged to this citizen (language, mode)

    def __init__(self, facade: KioskFacade, session: SessionCoordinator) -> None:
        super().__init__(facade)
        self.facade = facade
        self._session = session
        self._last_on_path: Step | None = None

    # ------------------------------------------------------------------ events (GUI thread)
    def apply(self, event: ev.SessionEvent) -> bool:
        """Turn this part's events into signals; False for events of other parts."""
        if isinstance(event, ev.CardRefused):
            self.cardRefused.emit(CardRefusedView(event.message, event.advice_key))
        elif isinstance(event, ev.CardWaiting):
            self.cardWaiting.emit()
        elif isinstance(event, ev.StaffIdentityUpdate):
            self.staffIdentity.emit(StaffIdentityView(event.state, event.refusal, event.attempts_left))
        elif isinstance(event, ev.StaffCallRequested):
            self.staffCalled.emit(event.step)
        elif isinstance(event, ev.SessionEnded):
            self._last_on_path = None
            self.sessionEnded.emit(event.reason)
        else:
            return False
        return True

    # ------------------------------------------------------------------ commands
    def call_staff(self) -> None:
        """呼叫工作人员: audited, published (platform alert), a chime at the terminal."""
        self.facade.touch()
        self.facade.run(self._session.staff_call.call)

    def submit_staff_pin(self, pin: str) -> None:
        """The staff member's PIN for the staff card verified at the staff-assist step."""
        self.facade.run(lambda: self._session.staff_assist.submit_pin(pin))

    # ------------------------------------------------------------------ what screens read
    def step_marks(self, step: Step) -> tuple[StepMark, ...]:
        """The item's steps for the step bar, each with its state."""
        if step in HAPPY_PATH:
            self._last_on_path = step
        data = self._session.data
        pkg = self._session.catalogue.package(data.item_id) if data.item_id else None
        marks = guide.step_marks(guide.item_steps(data.bundle or pkg), step, self._last_on_path)
        return tuple(StepMark(s, state) for s, state in marks)

    def commitment(self) -> CommitmentView | None:
        data = self._session.data
        if data.item_id is None:
            return None
        found = guide.commitment_to_sign(data, self._session.catalogue.package(data.item_id))
        if found is None:
            return None
        return CommitmentView(
            title=(found.title.zh, found.title.en),
            text=(found.text.zh, found.text.en),
            originals=tuple((o.zh, o.en) for o in found.originals),
            deadline_days=found.deadline_days,
        )

    def phone_known(self) -> bool:
        data = self._session.data
        return data.item_id is not None and guide.phone_known(
            data, self._session.catalogue.package(data.item_id)
        )
