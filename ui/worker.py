"""One pattern for background work: run a callable on the thread pool, get the
result or the error back on the GUI thread (after Anki's ``aqt.operations``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    @Slot()
    def run(self) -> None:
        try:
            result = self.fn()
        except BaseException as err:  # delivered to the GUI thread, which decides
            self.relay.failed.emit(err)
        else:
            self.relay.succeeded.emit(result)


class Background:
    """Runs blocking kiosk calls off the GUI thread."""

    def __init__(self, max_threads: int = 4) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._relays: set[_Relay] = set()

    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        relay = _Relay()
        self._relays.add(relay)

        def done(result: Any) -> None:
            self._relays.discard(relay)
            if on_success is not None:
                on_success(result)

        def failed(err: BaseException) -> None:
            self._relays.discard(relay)
            if on_failure is not None:
                on_failure(err)
            else:
                log.error("background job failed", exc_info=err)

        relay.succeeded.connect(done)
        relay.failed.connect(failed)
        self.pool.start(_Job(fn, relay))

    def active(self) -> int:
        return self.pool.activeThreadCount()

    def wait(self, ms: int = 5000) -> bool:
        return self.pool.waitForDone(ms)
