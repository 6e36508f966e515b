"""The maintenance PIN pad: the second factor of staff access on screen (docs/security.md).

A verified staff card (first factor) makes the core publish ``StaffPinRequired``; the facade's
maintenance part turns it into ``pin_required`` and this pad goes over the whole window (the
attract screen is up).  Large keys, the digits in a new random order each time (smudges and a
watcher's eye learn nothing), the entry masked, no text field (no system keyboard), the attempts
left and the lockout shown.  The PIN is checked on the facade's pool (scrypt); the outcome comes
back as ``pin_result``.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from kiosk.i18n import tr
from ui.facade import KioskFacade
from ui.screens.base import label
from ui.widgets import BigButton, Title

PIN_MIN, PIN_MAX = 6, 8  # a PIV card PIN (devices/smartcard/piv.py)
#: A verified card waits this long for its PIN (kiosk.maintenance.access.PIN_TIMEOUT_S).
PIN_TIMEOUT_MS = 60_000


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%H:%M")


class PinPad(QWidget):
    """The second factor on screen: a large numeric pad over whatever screen is up (the attract
    screen), digits in a new random order each time (smudges and a watcher's eye learn nothing),
    the entry masked, no text field (no system keyboard), the attempts left and the lockout shown.
    Submitting goes to :meth:`MaintenanceFacade.submit_pin`; the outcome comes back as
    ``pin_result``.  Hidden on success, on cancel, when the card is pulled and after 60 s."""

    def __init__(self, facade: KioskFacade) -> None:
        super().__init__()
        self.setObjectName("maintPinPad")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#maintPinPad { background: #f3f6fb; }")  # opaque over the screen below
        self.m = facade.maintenance
        self._digits = ""
        self._staff: str | None = None
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self.cancel)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(160, 40, 160, 40)
        self.title = Title()
        self.display = label(name="title")
        self.display.setObjectName("maintPinDisplay")
        self.status = label(name="hint")
        self.status.setObjectName("maintPinStatus")
        for w in (self.title, self.display, self.status):
            outer.addWidget(w)
        self.grid = QGridLayout()
        self.keys: dict[str, BigButton] = {}
        for name in [str(d) for d in range(10)] + ["clear", "ok", "cancel"]:
            b = BigButton(role="primary" if name == "ok" else "secondary")
            b.setObjectName(f"maintPinKey:{name}")
            b.setMinimumHeight(96)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, key=name: self.press(key))
            self.keys[name] = b
        outer.addLayout(self.grid)
        self._arrange()
        self.hide()
        if self.m is not None:
            self.m.pin_result.connect(self.answered)
            self.m.refused.connect(self._refused)

    def _arrange(self) -> None:
        digits = [str(d) for d in range(10)]
        random.SystemRandom().shuffle(digits)
        order = [*digits[:9], "clear", digits[9], "ok"]
        for i, name in enumerate(order):
            self.grid.addWidget(self.keys[name], i // 3, i % 3)
        self.grid.addWidget(self.keys["cancel"], 4, 0, 1, 3)

    def ask(self, event: Any) -> None:
        """A verified card waits for its PIN (``StaffPinRequired``): show the pad over the window."""
        self._staff = event.staff_id
        self._digits = ""
        self._arrange()
        self._enable(True)
        self.title.setText(tr("maint.pin.title", staff=event.staff_id or "—"))
        left = event.attempts_left
        self.status.setText(tr("maint.pin.attempts", left=left) if left is not None else "")
        self._render()
        host = self.parentWidget()
        if host is not None:
            self.setGeometry(host.rect())
        self.raise_()
        self.show()
        self._timeout.start(PIN_TIMEOUT_MS)

    def press(self, key: str) -> None:
        if key == "cancel":
            self.cancel()
        elif key == "clear":
            self._digits = self._digits[:-1]
        elif key == "ok":
            if len(self._digits) >= PIN_MIN and self.m is not None:
                pin, self._digits = self._digits, ""
                self._enable(False)
                self.status.setText(tr("maint.pin.checking"))
                self.m.submit_pin(pin)
        elif len(self._digits) < PIN_MAX:
            self._digits += key
        self._render()

    def _render(self) -> None:
        self.display.setText("●" * len(self._digits) if self._digits else tr("maint.pin.prompt"))
        self.keys["ok"].setEnabled(len(self._digits) >= PIN_MIN and self.keys["0"].isEnabled())

    def _enable(self, on: bool) -> None:
        for name, b in self.keys.items():
            b.setEnabled(on or name == "cancel")

    def answered(self, outcome: Any) -> None:
        """The ``PinOutcome``: entered (the maintenance screen follows), wrong, or locked out."""
        refusal = getattr(outcome.refusal, "value", None)
        if outcome.ok or refusal in (None, "card_removed"):
            self._close()
            return
        if refusal == "locked_out":
            until = _when(outcome.locked_until) if outcome.locked_until else "—"
            self.status.setText(tr("maint.pin.locked", until=until))
            self._enable(False)
            self._timeout.start(10_000)
            return
        self._enable(True)
        left = outcome.attempts_left
        self.status.setText(tr("maint.pin.wrong", left=left if left is not None else "—"))
        self._render()

    def _refused(self, reason: str) -> None:
        if reason == "card_removed" and self.isVisible():
            self._close()

    def cancel(self) -> None:
        if self.isVisible() and self.m is not None:
            self.m.cancel_pin()
        self._close()

    def _close(self) -> None:
        self._digits = ""
        self._timeout.stop()
        self.hide()

    def retranslate(self) -> None:
        for name in ("clear", "ok", "cancel"):
            self.keys[name].setText(tr(f"maint.pin.{name}"))
        for d in range(10):
            self.keys[str(d)].setText(str(d))
        self._render()
