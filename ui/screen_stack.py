"""The window's screens, each built when its step is first shown.

Building all fifteen screens (and styling and naming their widgets) before the first paint was
about a tenth of the terminal's cold start (bench/startup ``attract_s``).  The window builds the
screen of the step it shows (the welcome or the out-of-service screen) and the maintenance screen
(a staff card's PIN request or refusal may come on any screen) and, once that is painted, the
others one per turn of the event loop, before a citizen is likely to need them; a step shown
before its turn builds its screen then.  A screen that listens to the facade outside its own
step must be built with the first (ui/main_window.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QStackedWidget

from ui.screens import Screen
from ui.viewmodels import Step


class ScreenStack(Mapping[Step, Screen]):
    """``screens[step]`` (and ``get``) builds the step's screen on first use and adds it to
    ``stack``; iteration and ``values()`` see only the screens built so far.  ``on_built``
    fits a new screen to the window (its scale)."""

    def __init__(
        self,
        stack: QStackedWidget,
        factories: Mapping[Step, Callable[[], Screen]],
        on_built: Callable[[Screen], None],
    ) -> None:
        self._stack = stack
        self._factories = dict(factories)
        self._on_built = on_built
        self._built: dict[Step, Screen] = {}

    def __getitem__(self, step: Step) -> Screen:
        screen = self._built.get(step)
        if screen is None:
            screen = self._factories[step]()  # KeyError: no screen for that step
            self._built[step] = screen
            self._stack.addWidget(screen)
            self._on_built(screen)
        return screen

    def __contains__(self, step: object) -> bool:
        return step in self._factories

    def __iter__(self) -> Iterator[Step]:
        return iter(list(self._built))

    def __len__(self) -> int:
        return len(self._built)

    def built(self, step: Step) -> bool:
        return step in self._built

    def pending(self) -> list[Step]:
        """The steps whose screens are not built yet."""
        return [s for s in self._factories if s not in self._built]

    def build_rest(self) -> None:
        """Build the remaining screens one per event-loop turn (after the first paint)."""
        todo = self.pending()
        if not todo:
            return
        self[todo[0]]
        if len(todo) > 1:
            QTimer.singleShot(0, self._stack, self.build_rest)  # dropped if the window goes first
