"""The rating step's commands (好差评), part of the one facade (:attr:`ui.facade.KioskFacade.rating`).

Cancel and the idle timeout go through :meth:`RatingFacade.end`: a service that began is still
offered its rating (GB/T 39734 一次一评) before the session ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.machine import EndReason
from kiosk.session.steps.rating import LEVELS, NEGATIVE, REASONS

if TYPE_CHECKING:
    from ui.facade import KioskFacade


class RatingFacade:
    levels: tuple[str, ...] = tuple(LEVELS)  # best first
    reasons: tuple[str, ...] = REASONS
    negative: frozenset[str] = NEGATIVE

    def __init__(self, facade: KioskFacade, session: SessionCoordinator) -> None:
        self.facade = facade
        self.session = session
        self._ending = False  # an end is under way (the idle timer ticks again meanwhile)

    def ended(self) -> str:
        """How the service being rated ended: completed, cancelled, idle_timeout, device_problem."""
        return self.session.rating.ended()

    def rate(
        self, level: str, reasons: tuple[str, ...] = (), on_done: Callable[[], None] | None = None
    ) -> None:
        """Record and queue the rating (worker thread: it writes the store); the screen thanks the
        citizen and calls :meth:`finish`."""
        self.facade.run(
            lambda: self.session.rating.rate(level, reasons, finish=False),
            on_success=(lambda _r: on_done()) if on_done is not None else None,
        )

    def finish(self) -> None:
        self.facade.run(self.session.rating.finish)

    def end(self, reason: EndReason) -> None:
        """Cancel or idle timeout (worker thread): the rating screen when the service began, else the
        session ends at once."""
        if self._ending:
            return
        self._ending = True
        self.session.cancel_wait()

        def end() -> None:
            try:
                self.session.end(reason)
            finally:
                self._ending = False

        self.facade.run(end)
