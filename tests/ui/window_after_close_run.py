"""Windows closed and deleted while their facade lives on (run by tests/ui/test_window_lifetime.py).

A fresh process, because the failure this guards against is a crash: PySide 6.11 keeps a Python
error raised in a timer callback or an event override pending, and the next Python override (the
application's activity filter) segfaults on it.  Several windows are built on one facade, shown,
closed and deleted as ``KioskUi.close`` does; then every facade signal is emitted from the event
loop while the activity filter sees mouse clicks; then a new window must still follow the facade,
and a slot that fails must show the problem line instead of raising.  Prints what happened as
JSON on its last line."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_VIRTUALKEYBOARD_DESKTOP_DISABLE", "1")

WINDOWS = 3


class Errors(logging.Handler):
    """What was logged at ERROR (a slot that failed and said so); anything unhandled still goes to
    stderr as Python prints it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.seen.append(f"{record.getMessage()}: {exc!r}")


def main() -> int:
    import shiboken6
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QImage
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QPushButton

    from kiosk.config import TerminalConfig
    from kiosk.i18n import set_language, tr
    from kiosk.session.machine import Step
    from terminal.app import make_app
    from terminal.hall import hall_facade
    from terminal.runtime import build_terminal
    from ui.facade import KioskFacade
    from ui.facade_assist import AssistFacade, AssistView
    from ui.main_window import ActivityFilter, KioskWindow
    from ui.screens.assist import install_assist

    errors = Errors()
    logging.getLogger().addHandler(errors)
    tmp = Path(tempfile.mkdtemp(prefix="window-life-"))
    app = make_app()
    set_language("zh")
    zh_title = tr("app.title")
    terminal = build_terminal(TerminalConfig(data_dir=str(tmp)), tmp / "work")
    facade = KioskFacade(terminal.session)
    facade.hall = hall_facade(terminal)
    if terminal.assist is not None:
        facade.assist = AssistFacade(terminal.assist, facade)
    activity = ActivityFilter(facade)  # a Python override called for every event, as in KioskUi
    app.installEventFilter(activity)
    clicks = QPushButton("outside every window")  # gives the activity filter events to see
    clicks.show()
    out: dict[str, object] = {"windows": 0, "emitted": 0}

    def new_window() -> KioskWindow:
        window = KioskWindow(facade)
        if facade.assist is not None:
            install_assist(window, window.call_staff, facade.assist)
        window.resize(1280, 800)
        window.show()
        return window

    def pump(ms: int = 30) -> None:
        QTest.qWait(ms)
        QTest.mouseClick(clicks, Qt.MouseButton.LeftButton)
        QTest.qWait(ms)

    closed = []
    for i in range(WINDOWS):
        window = new_window()
        if i > 0:  # the first one is closed as soon as it is shown (its queued work not yet run)
            pump()
            window.resize(720 if i % 2 else 1024, 1280)  # the header refits: a queued refit
        window.close()  # KioskUi.close: close now, the C++ window deleted later
        window.deleteLater()
        closed.append(window)
        out["windows"] = int(out["windows"]) + 1  # type: ignore[call-overload]
        pump()
    gc.collect()
    pump()
    out["deleted"] = not any(shiboken6.isValid(w) for w in closed)

    # every signal of the facade, and those the window's parts listen to, after the windows died
    emits = [
        (facade.stepChanged, (Step.ATTRACT,)),
        (facade.cardRead, (None,)),
        (facade.frame, (QImage(),)),
        (facade.facePrompt, (None,)),
        (facade.material, (None,)),
        (facade.decision, (None,)),
        (facade.submitted, (None,)),
        (facade.printed, (None,)),
        (facade.problem, (None,)),
        (facade.busy, ("review.running",)),
        (facade.busy, ("",)),
        (facade.idleWarning, (5,)),
        (facade.idleWarning, (-1,)),
        (facade.bug, ("RuntimeError",)),
        (facade.qrRefused, (("无效", "invalid"),)),
        (facade.cardNotLifted, ()),
        (facade.elicences, ("no-such-session", ())),
        (facade.elderlyModeChanged, (True,)),
        (facade.elderlyModeChanged, (False,)),
        (facade.languageReset, ()),
        (facade.citizen.sessionEnded, ("cancelled",)),
    ]
    if facade.maintenance is not None:
        m = facade.maintenance
        emits += [(s, (None,)) for s in (m.diagnostics, m.consumables, m.printed, m.synced, m.outbox, m.logs)]
        emits.append((m.failed, ("disk",)))
    hall = facade.hall
    emits += [(hall.noAppointment, ()), (hall.failed, ("hall.no_appointment",)), (hall.busy, (True,))]
    if facade.assist is not None:
        emits.append((facade.assist.status, (AssistView("idle", "assist.idle"),)))

    for signal, args in emits:

        def emit(signal=signal, args=args) -> None:  # type: ignore[no-untyped-def]
            signal.emit(*args)

        QTimer.singleShot(0, facade, emit)  # from the event loop, as the core's events arrive
        out["emitted"] = int(out["emitted"]) + 1  # type: ignore[call-overload]
        pump(5)
    pump()

    # a new window still follows the facade
    window = new_window()
    pump()
    facade.busy.emit("review.running")
    out["busy_shown"] = window.status.text() == tr("review.running")
    facade.idleWarning.emit(7)
    out["idle_banner_shown"] = window.idle_banner.isVisible()
    facade.idleWarning.emit(-1)
    out["idle_banner_hidden"] = not window.idle_banner.isVisible()
    facade.busy.emit("")
    facade.bug.emit("RuntimeError")
    out["bug_shown"] = window.status.text() == tr("problem.title")
    facade.busy.emit("")
    QTest.mouseClick(window.lang, Qt.MouseButton.LeftButton)  # the header's own buttons still work
    out["language_switched"] = window.lang.text() == tr("common.language") and tr("app.title") != zh_title
    QTest.mouseClick(window.lang, Qt.MouseButton.LeftButton)
    out["errors_before"] = list(errors.seen)
    errors.seen.clear()  # what follows is meant to fail

    # a slot that fails shows the problem line and raises nothing (from the event loop too)
    screen = window.screens[Step.ATTRACT]

    def broken() -> None:
        raise RuntimeError("a screen that cannot enter")

    screen.enter = broken  # type: ignore[method-assign]
    QTimer.singleShot(0, facade, lambda: facade.stepChanged.emit(Step.ATTRACT))
    pump()
    out["failed_slot_shows_problem"] = window.status.text() == tr("problem.title")
    out["errors_logged"] = errors.seen
    window.close()
    window.deleteLater()
    pump()

    app.removeEventFilter(activity)
    facade.shutdown()
    terminal.close()
    print(json.dumps(out), flush=True)
    sys.stdout.flush()
    os._exit(0)  # no interpreter finalisation: what is measured is the run above


if __name__ == "__main__":
    sys.exit(main())
