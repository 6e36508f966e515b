"""Slots and event overrides that never let a Python exception out into Qt.

PySide 6.11 keeps an exception raised in a Python event override (``eventFilter``,
``resizeEvent``, ...) or in a timer's callback pending, and the next Python override Qt calls (the
application's activity filter sees every event) crashes the process on it (a segfault in
``storePythonOverrideErrorOrPrint``).  An exception in a signal's slot is only printed, but a slot
that runs inside an override (a signal emitted from an event filter) takes the override down with
it.  So the window's slots and overrides are wrapped: what fails is logged with its traceback and
the widget shows its problem state (``show_failure``), and a call that reaches a widget Qt has
already deleted (a queued call that outlived it) is dropped.

Connections to long-lived senders (the facade) go to bound methods of the receiving widget, never
to lambdas: PySide drops a bound method's connection when its object is destroyed, while a lambda
stays connected and runs on the deleted widgets.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import shiboken6
from PySide6.QtCore import QObject, SignalInstance

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")
W = TypeVar("W")


def never_raises(
    default: R,
) -> Callable[[Callable[Concatenate[W, P], R]], Callable[Concatenate[W, P], R]]:
    """Wrap a method used as a Qt slot, timer callback or event override: an exception is logged
    and ``self.show_failure()`` (when the widget has one) shows the problem; ``default`` is
    returned then, and when the widget is already deleted (nothing runs)."""

    def wrap(fn: Callable[Concatenate[W, P], R]) -> Callable[Concatenate[W, P], R]:
        @functools.wraps(fn)
        def run(self: W, *args: P.args, **kwargs: P.kwargs) -> R:
            if not shiboken6.isValid(self):
                log.debug("%s: the widget is deleted, nothing to do", fn.__qualname__)
                return default
            try:
                return fn(self, *args, **kwargs)
            except Exception:
                log.exception("%s failed", fn.__qualname__)
                show_failure(self)
                return default

        return run

    return wrap


def show_failure(widget: object) -> None:
    shown = getattr(widget, "show_failure", None)
    if not callable(shown):
        return
    try:
        shown()
    except Exception:
        log.exception("showing the failure failed too")


def follow(signal: SignalInstance, receiver: QObject, slot: Callable[..., object]) -> None:
    """Connect ``signal`` to ``slot`` for as long as ``receiver`` lives: for a slot that is not a
    bound method of the receiver (a ``functools.partial``, a lambda), which PySide would otherwise
    leave connected after the receiver is deleted."""
    connection = signal.connect(slot)

    def drop() -> None:
        try:
            QObject.disconnect(connection)
        except RuntimeError:  # the sender went first: nothing left to disconnect
            log.debug("sender of %s already deleted", slot)

    receiver.destroyed.connect(drop)
