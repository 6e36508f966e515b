"""Card placed / removed detection by polling the reader's find-card command.

:class:`CardWatcher` turns successive presence polls into transitions.  Use
:meth:`CardWatcher.poll` from your own loop, or :meth:`CardWatcher.start` to run a
background thread that calls ``on_event`` for each transition.  Errors of the
reader are passed to ``on_error`` (the loop keeps polling at the same interval, so
a reader that comes back is picked up again).
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from devices.base import DeviceError

logger = logging.getLogger(__name__)


class CardEvent(enum.Enum):
    """A presence transition.  Values are stable identifiers."""

    PLACED = "placed"
    REMOVED = "removed"


class PresenceReader(Protocol):
    def card_present(self) -> bool: ...


class CardWatcher:
    """Polls ``reader.card_present()`` every ``interval`` s and reports transitions.

    The first successful poll establishes the state; a card already lying on the
    reader at that moment is reported as :attr:`CardEvent.PLACED`.
    """

    def __init__(
        self,
        reader: PresenceReader,
        interval: float = 0.2,
        on_event: Callable[[CardEvent], None] | None = None,
        on_error: Callable[[DeviceError], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.reader = reader
        self.interval = interval
        self.on_event = on_event
        self.on_error = on_error
        self._present = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def present(self) -> bool:
        """The state after the last successful poll."""
        return self._present

    def poll(self) -> CardEvent | None:
        """One presence check: the transition it shows, or ``None``.  Raises ``DeviceError``."""
        present = self.reader.card_present()
        if present == self._present:
            return None
        self._present = present
        return CardEvent.PLACED if present else CardEvent.REMOVED

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("watcher already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event = self.poll()
            except DeviceError as err:
                logger.debug("card watcher: %s", err)
                if self.on_error is not None:
                    self.on_error(err)
            else:
                if event is not None and self.on_event is not None:
                    self.on_event(event)
            self._stop.wait(self.interval)
