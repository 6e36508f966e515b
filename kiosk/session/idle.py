"""The session's idle limit, in the core: the same limit for the window, a headless terminal and tests.

:class:`IdleLimit` reads how long the citizen has done nothing from the session machine (whose
clock is injectable, :class:`~kiosk.session.machine.SessionMachine`) against the configured limits
(``session.idle_timeout_s`` and ``session.idle_warning_s``), doubled in elderly mode
(:data:`ELDERLY_TIME_FACTOR`).  Only citizen steps time out.  The window polls
:meth:`IdleLimit.state` to show the warning and its count-down and ends the session when it expires
(ui/facade.py); without a window :class:`IdleWatch` polls it on a thread and ends the session
itself (:meth:`~kiosk.session.coordinator.SessionCoordinator.end`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.config import SessionConfig
from kiosk.session.machine import SessionMachine

log = logging.getLogger(__name__)

#: Elderly mode (长辈模式) multiplies the idle limits by this.
ELDERLY_TIME_FACTOR = 2.0


@dataclass(frozen=True)
class IdleState:
    """Where the current step stands against the idle limit."""

    warn: bool  # inside the warning window (or expired)
    expired: bool  # the limit is reached: the session ends
    left_s: float  # seconds left until it ends (0 once expired)


class IdleLimit:
    """The idle limit of the current session (any thread)."""

    def __init__(self, machine: SessionMachine, config: SessionConfig) -> None:
        self._machine = machine
        self._config = config
        #: 长辈模式: the limits are :data:`ELDERLY_TIME_FACTOR` times longer (set by the touch screen).
        self.elderly = False

    @property
    def factor(self) -> float:
        return ELDERLY_TIME_FACTOR if self.elderly else 1.0

    @property
    def timeout_s(self) -> float:
        return self._config.idle_timeout_s * self.factor

    @property
    def warning_s(self) -> float:
        return self._config.idle_warning_s * self.factor

    def state(self) -> IdleState:
        warn, expired, left = self._machine.idle_state(self.timeout_s, self.warning_s)
        return IdleState(warn, expired, left)


class IdleWatch:
    """Ends the session when its idle limit expires, polling on a thread of its own (a terminal
    without a window: the headless soak, tests).  ``end`` is called on the watch's thread."""

    def __init__(self, limit: IdleLimit, end: Callable[[], None], interval_s: float = 0.5) -> None:
        self._limit = limit
        self._end = end
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """End the session if its limit has expired; whether it did."""
        if not self._limit.state().expired:
            return False
        try:
            self._end()
        except Exception:  # a bug ending the session must not stop the watch
            log.exception("ending an idle session failed")
        return True

    def start(self) -> IdleWatch:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="idle-watch", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
