"""When the face and OCR models are in memory: while citizens use the terminal, not while it waits.

The models take ~250 MB (measured, bench/startup: OCR det/rec/cls sessions ~130 MB, YuNet + SFace
~95 MB, MediaPipe ~50 MB).  A terminal spends most of the day on the welcome screen, so
:class:`ModelKeeper` loads them in the background as soon as a citizen leaves the welcome screen
(choosing an item and reading the card take several seconds, the loading ~1-2 s) and drops the OCR
sessions and the face embedder once the terminal has stayed on the welcome screen for
``idle_unload_s``.  A citizen who reaches the face step before the loading ends waits for the rest
of it there (the models load under a lock, never twice).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.events import SessionEvent, StepChanged
from kiosk.session.machine import CITIZEN_STEPS, Step
from terminal.memory import release_memory

log = logging.getLogger(__name__)

#: Seconds on the welcome screen after which the models are dropped.
IDLE_UNLOAD_S = 300.0


class ModelKeeper:
    """Loads the models when a session starts (``warm_up``), unloads them after an idle period."""

    def __init__(
        self,
        session: SessionCoordinator,
        warm_up: Callable[[], threading.Thread],
        warming: Callable[[], threading.Thread | None],
        idle_unload_s: float = IDLE_UNLOAD_S,
    ) -> None:
        """``warm_up`` starts loading (or returns the loading in progress); ``warming`` is the
        loading in progress, if any."""
        self.session = session
        self.warm_up = warm_up
        self.warming = warming
        self.idle_unload_s = idle_unload_s
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        session.subscribe(self._on_event)

    def _on_event(self, event: SessionEvent) -> None:
        if not isinstance(event, StepChanged):
            return
        if event.step is Step.ATTRACT:
            self._arm()
        elif event.step in CITIZEN_STEPS and event.previous not in CITIZEN_STEPS:
            self._disarm()
            self.warm_up()

    def _arm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.idle_unload_s, self._unload_if_idle)
            self._timer.daemon = True
            self._timer.start()

    def _disarm(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _unload_if_idle(self) -> None:
        if self.session.step is not Step.ATTRACT:
            return
        warming = self.warming()
        if warming is not None:  # never drop what is still loading
            warming.join()
        if self.session.step is not Step.ATTRACT:
            return
        for model in (self.session.face.verifier, self.session.materials.ocr):
            unload = getattr(model, "unload", None)
            if unload is not None:
                unload()
        release_memory()
        log.info("models dropped after %.0f s on the welcome screen", self.idle_unload_s)

    def stop(self) -> None:
        self._disarm()
