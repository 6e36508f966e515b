"""Every citizen screen in each of its states, for the accessibility check: the view is set to
sample view-models and the screen shown without starting its step's work (no device is used).

The staff's maintenance screen is not among them: it is not a citizen's screen and has no
elderly mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication, QLineEdit

from ui.a11y_check import Violation, check_window
from ui.facade import KioskFacade
from ui.main_window import KioskWindow
from ui.style import scale_for
from ui.viewmodels import (
    DecisionView,
    PrintedView,
    ProblemView,
    SessionView,
    Step,
    SubmittedView,
    WarningView,
)

PENSION = "resident-pension"
BUSINESS = "business-registration"

_PROBLEM = ProblemView("problem.idcard", "problem.idcard", "action.retry", can_retry=True, allow_manual=True)
_OOS = ProblemView(
    "problem.receipt_printer", "problem.receipt_printer", "action.clear_by_staff", False, False
)
_DECISION = DecisionView(
    outcome="manual",
    reasons=(("经营场所地址与租赁合同不一致", "The premises address differs from the lease"),),
    warnings=(
        WarningView(
            ("经营场所在重点核查名单中", "The premises are on a list for closer checks"),
            ("将由工作人员人工审核", "Hall staff will review the case"),
            ("请咨询市场监管窗口", "Ask at the market regulation window"),
        ),
    ),
)


def settle(rounds: int = 4) -> None:
    for _ in range(rounds):
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    QCoreApplication.sendPostedEvents()


class ScreenStates:
    """Puts a window's screens into their states one after another."""

    def __init__(self, window: KioskWindow, facade: KioskFacade, data: object) -> None:
        self.window = window
        self.facade = facade
        self.data = data  # the core's SessionData: the form reads the item from it

    def _item(self, item_id: str) -> None:
        item = next(i for i in self.facade.items() if i.id == item_id)
        self.data.item_id = item_id  # type: ignore[attr-defined]
        self.facade._set_view(item=item)

    def _show(self, step: Step, **view: object) -> None:
        self.facade._set_view(step=step, **view)
        self.window.on_idle_warning(-1)
        self.window.present(step)

    def states(self) -> list[tuple[str, Callable[[], None]]]:
        w = self.window

        def idle() -> None:
            self._show(Step.CHOOSE_ITEM)
            w.on_idle_warning(25)

        def form(item: str) -> Callable[[], None]:
            def run() -> None:
                self._item(item)
                self._show(Step.FORM)

            return run

        def form_errors() -> None:
            form(PENSION)()
            screen = w.screens[Step.FORM]
            values = {k: "" for k in screen.fields}  # type: ignore[attr-defined]
            screen.show_errors(self.facade.touch_ui.form_errors(values))  # type: ignore[attr-defined]

        def form_keyboard() -> None:
            form(BUSINESS)()
            settle()
            edits = [e for e in w.screens[Step.FORM].findChildren(QLineEdit) if not e.isReadOnly()]
            if edits:
                w.activateWindow()
                edits[0].setFocus()
                settle(20)  # the keyboard comes up

        def result() -> None:
            self._item(BUSINESS)
            self._show(Step.RESULT, decision=_DECISION, submitted=SubmittedView("A1B2C3", True))
            w.screens[Step.RESULT].on_printed(  # type: ignore[attr-defined]
                PrintedView(True, True, "A012", "window", ("window",))
            )

        return [
            ("attract", lambda: self._show(Step.ATTRACT)),
            ("choose_item", lambda: self._show(Step.CHOOSE_ITEM)),
            ("idle_warning", idle),
            ("read_card", lambda: self._show(Step.READ_CARD)),
            ("face_check", lambda: self._show(Step.FACE_CHECK, face_status="not_matched")),
            ("staff_assist", lambda: self._show(Step.STAFF_ASSIST)),
            ("form", form(PENSION)),
            ("form_errors", form_errors),
            ("form_keyboard", form_keyboard),
            ("materials", lambda: (self._item(BUSINESS), self._show(Step.MATERIALS))),
            ("review", lambda: self._show(Step.REVIEW)),
            (
                "confirm_sign",
                lambda: (self._item(BUSINESS), self._show(Step.CONFIRM_SIGN, decision=_DECISION)),
            ),
            ("submit", lambda: self._show(Step.SUBMIT)),
            ("result", result),
            ("rating", lambda: self._show(Step.RATING)),
            ("device_problem", lambda: self._show(Step.DEVICE_PROBLEM, problem=_PROBLEM)),
            ("out_of_service", lambda: self._show(Step.OUT_OF_SERVICE, problem=_OOS)),
        ]

    def each(self) -> Iterator[str]:
        """Show each state in turn (yielding its name while it is on screen), then the attract
        screen of a clean session again."""
        session_id = self.facade.view.session_id
        try:
            for name, setup in self.states():
                focus = QApplication.focusWidget()
                if focus is not None:
                    focus.clearFocus()
                setup()
                settle()
                yield name
        finally:
            focused = QApplication.focusWidget()
            if focused is not None:
                focused.clearFocus()
            self.data.item_id = None  # type: ignore[attr-defined]
            self.facade._view = SessionView(session_id=session_id)
            self.window.on_idle_warning(-1)
            self.window.present(Step.ATTRACT)
            settle()


__all__ = ["ScreenStates"]


def check_all(
    window: KioskWindow,
    facade: KioskFacade,
    data: object,
    sizes: Sequence[tuple[int, int]],
    modes: Sequence[str] = ("normal", "elderly"),
    shots: Path | None = None,
    shot_sizes: Sequence[tuple[int, int]] = (),
) -> tuple[int, list[Violation]]:
    """Every state of every screen at each size and mode: (screens checked, violations).
    Screenshots of each go to ``shots`` for the sizes in ``shot_sizes``."""
    checked = 0
    found: list[Violation] = []
    was_elderly = facade.touch_ui.elderly
    try:
        for width, height in sizes:
            for mode in modes:
                facade.touch_ui.set_elderly(mode == "elderly")
                for name in ScreenStates(window, facade, data).each():
                    window.resize(width, height)
                    settle(8)  # scroll buttons that appear re-lay their row out
                    label = f"{name}@{width}x{height}/{mode}"
                    found += check_window(window, label, mode, scale_for(width, height), (width, height))
                    checked += 1
                    if shots is not None and (width, height) in shot_sizes:
                        shots.mkdir(parents=True, exist_ok=True)
                        window.grab().save(str(shots / f"{name}_{mode}_{width}x{height}.png"))
    finally:
        facade.touch_ui.set_elderly(was_elderly)
    return checked, found
