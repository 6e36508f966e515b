"""The out-of-service screen's view of the start-up self-check, part of the one facade
(:attr:`ui.facade.KioskFacade.service`).

The self-check itself belongs to the composition root (terminal/selfcheck.py); the session only
carries its hook (``SessionCoordinator.selfcheck``: the failing checks as (name, required action)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from kiosk.session.coordinator import SessionCoordinator

if TYPE_CHECKING:
    from ui.facade import KioskFacade


@dataclass(frozen=True)
class FailedCheckView:
    """One failing check as the screen shows it: what is wrong and what clears it (i18n keys)."""

    title_key: str
    action_key: str


def failed_check_view(name: str, action: str) -> FailedCheckView:
    head, _, tail = name.partition(".")
    title = f"problem.{tail}" if head == "device" else f"selfcheck.{name}"
    return FailedCheckView(title_key=title, action_key=f"action.{action or 'maintenance'}")


class ServiceFacade(QObject):
    """``refresh()`` re-runs the self-check in the background; ``changed`` carries the failures."""

    changed = Signal(object)  # tuple[FailedCheckView, ...]

    def __init__(self, facade: KioskFacade, session: SessionCoordinator) -> None:
        super().__init__(facade)
        self.facade = facade
        self._session = session
        self.failures: tuple[FailedCheckView, ...] = ()

    def refresh(self) -> None:
        check = self._session.selfcheck
        if check is None:
            return
        self.facade.bg.run(check, on_success=self._done)

    def _done(self, failures: Sequence[tuple[str, str]]) -> None:
        self.failures = tuple(failed_check_view(name, action) for name, action in failures)
        self.changed.emit(self.failures)
