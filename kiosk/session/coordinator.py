"""The citizen session: one coordinator over the step services.

:class:`SessionCoordinator` owns the :class:`~kiosk.session.machine.SessionMachine` (through the
shared :class:`~kiosk.session.context.SessionContext`), the moves between steps that belong to no
step (start, cancel, retry, continue to manual review, back to the form, out of service), and
the step services themselves (:mod:`kiosk.session.steps`).  The step methods block (device I/O, models,
network) and are meant to run on a worker thread; the UI facade turns the events they publish
(:mod:`kiosk.session.events`) into Qt signals.  Every device, model or platform failure becomes a
:class:`~kiosk.session.values.Problem` with the required action, and the session moves to a
defined step: retry, continue to manual review, or out of service.  Nothing here raises into the
UI except bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from devices.base import FAULT_STATUSES, DeviceError
from kiosk import logsetup
from kiosk.config import TerminalConfig
from kiosk.session.bundle import plan_bundle
from kiosk.session.catalogue import Catalogue
from kiosk.session.chime import Chime
from kiosk.session.context import SessionContext
from kiosk.session.events import EventSink, SessionEnded, StepChanged
from kiosk.session.idle import IdleLimit, IdleWatch
from kiosk.session.machine import EndReason, SessionData, SessionMachine, Step
from kiosk.session.steps.card import CardStep
from kiosk.session.steps.face import FaceStep
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.materials import MaterialsStep
from kiosk.session.steps.outputs import OutputsStep
from kiosk.session.steps.rating import RatingStep
from kiosk.session.steps.review import ReviewStep
from kiosk.session.steps.staff import StaffAssistStep, StaffCall
from kiosk.session.steps.submit import SubmitStep
from kiosk.session.values import Devices, Problem
from offline_cache.store import Store

if TYPE_CHECKING:
    from kiosk.maintenance.service import MaintenanceService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Steps:
    """The step services of one terminal, in the order of the happy path."""

    card: CardStep
    face: FaceStep
    form: FormStep
    materials: MaterialsStep
    review: ReviewStep
    submission: SubmitStep
    outputs: OutputsStep
    rating: RatingStep


class SessionCoordinator:
    """The kiosk core as the UI sees it: the session's state and the step services."""

    def __init__(
        self, ctx: SessionContext, devices: Devices, steps: Steps, *, chime: Chime | None = None
    ) -> None:
        self.ctx = ctx
        self.devices = devices
        self.card = steps.card
        self.face = steps.face
        self.form = steps.form
        self.materials = steps.materials
        self.review = steps.review
        self.submission = steps.submission
        self.outputs = steps.outputs
        self.rating = steps.rating
        self.staff_assist = StaffAssistStep(ctx)  # identity vouched for with the staff card
        self.staff_call = StaffCall(ctx, chime if chime is not None else Chime())  # 呼叫工作人员
        self.maintenance: MaintenanceService | None = None  # hall staff's mode (terminal/runtime.py sets it)
        #: The start-up self-check (terminal/selfcheck.py StartupGate.failures): re-run while out of
        #: service for a "selfcheck" problem; the terminal leaves once it answers no failure.
        self.selfcheck: Callable[[], Sequence[tuple[str, str]]] | None = None
        #: The idle limit (kiosk/session/idle.py): the window polls it; without one, watch_idle().
        self.idle = IdleLimit(self.machine, ctx.config.session)
        self._idle_watch: IdleWatch | None = None
        self.machine.subscribe(self._on_step)

    # ------------------------------------------------------------------ state
    @property
    def machine(self) -> SessionMachine:
        return self.ctx.machine

    @property
    def config(self) -> TerminalConfig:
        return self.ctx.config

    @property
    def store(self) -> Store:
        return self.ctx.store

    @property
    def catalogue(self) -> Catalogue:
        return self.ctx.catalogue

    @property
    def step(self) -> Step:
        return self.machine.step

    @property
    def data(self) -> SessionData:
        return self.machine.data

    def subscribe(self, sink: EventSink) -> None:
        self.ctx.events.subscribe(sink)

    def _on_step(self, old: Step, new: Step) -> None:
        if new is Step.ATTRACT:
            logsetup.clear_sensitive()
            self.materials.forget()  # the last citizen's e-licences go with their session
        if old is Step.STAFF_ASSIST:
            self.staff_assist.cancel_pin()
        ended, self.machine.last_end = self.machine.last_end, None
        if ended is not None and old is not Step.ATTRACT:
            # cancel, idle timeout, completion, out of service: the UI resets what was this citizen's
            self.ctx.publish(SessionEnded(ended[0], ended[1].value))
        data = self.machine.data
        self.ctx.publish(
            StepChanged(
                old,
                new,
                data.session_id,
                data.item_id,
                staff_assist_reason=data.identity.staff_assist_reason if new is Step.STAFF_ASSIST else None,
                problem=data.problem if new in {Step.DEVICE_PROBLEM, Step.OUT_OF_SERVICE} else None,
            )
        )

    # ------------------------------------------------------------------ moves between steps
    def start(self) -> None:
        self.ctx.cancelled.clear()
        self.machine.go(Step.CHOOSE_ITEM)

    def choose_item(self, item_id: str) -> None:
        if item_id not in self.catalogue:
            raise KeyError(item_id)
        self.machine.data.item_id = item_id
        self.machine.touch()
        self.machine.go(Step.READ_CARD)

    def choose_life_event(self, event_id: str) -> None:
        """Apply for every item of a life event (一件事) in this one session (kiosk/session/bundle.py)."""
        plan = plan_bundle(self.catalogue, event_id)
        self.machine.data.bundle = plan
        self.choose_item(plan.item_ids[0])

    def back_to_form(self) -> None:
        self.machine.go(Step.FORM)

    def finish_result(self) -> None:
        self.machine.go(Step.RATING)

    def cancel_wait(self) -> None:
        """Stop a blocking wait (card, face) so the worker returns promptly."""
        self.ctx.cancelled.set()

    def cancel(self, reason: EndReason = EndReason.CANCELLED) -> None:
        """Cancel from any step, or idle timeout: everything the session held is dropped."""
        self.ctx.cancelled.set()
        old = self.machine.data
        if self.machine.step is not Step.ATTRACT:
            self.store.audit_trail.append("session_end", {"session": old.session_id, "reason": reason.value})
        self.machine.reset(reason)

    def end(self, reason: EndReason) -> None:
        """Cancel or idle timeout (blocking; a worker thread): the rating is offered when the service
        began (GB/T 39734 一次一评), else the session ends at once.  A blocking wait (card, face)
        is stopped once the step has moved, so its worker never sees the old step still current."""
        if self.rating.end_early(reason):
            self.cancel_wait()
        else:
            self.cancel(reason)

    def watch_idle(self, interval_s: float = 0.5) -> IdleWatch:
        """Without a window: end the session on a thread when its idle limit expires (the window
        polls :attr:`idle` itself to show the warning first).  Stopped by :meth:`close`."""
        if self._idle_watch is None:
            self._idle_watch = IdleWatch(
                self.idle, lambda: self.end(EndReason.IDLE_TIMEOUT), interval_s
            ).start()
        return self._idle_watch

    def retry(self) -> None:
        """From DEVICE_PROBLEM: back to the step that failed."""
        problem: Problem | None = self.machine.data.problem
        if problem is None or problem.retry_step is None:
            self.cancel()
            return
        self.machine.data.problem = None
        self.machine.go(problem.retry_step)

    def continue_to_manual(self) -> None:
        """From DEVICE_PROBLEM: go on without the failed device; the case goes to manual review."""
        data = self.machine.data
        data.problem = None
        data.identity.staff_assisted_identity = (
            data.identity.staff_assisted_identity or data.identity.face is None
        )
        self.machine.go(Step.FORM if data.identity.card is not None else Step.READ_CARD)

    def try_leave_out_of_service(self) -> bool:
        """Back to the attract screen once the device that failed answers again.

        Called periodically while out of service.  The ID card reader is probed
        actively (opening it checks that the module answers); other devices by
        their status.  Storage faults need staff and are not left automatically."""
        if self.machine.step is not Step.OUT_OF_SERVICE:
            return True
        problem: Problem | None = self.machine.data.problem
        device = problem.device if problem is not None else "idcard"
        try:
            if device == "idcard":
                self.devices.idcard.open()
            elif device == "storage":
                return False
            elif device == "selfcheck":
                if self.selfcheck is None or self.selfcheck():
                    return False
            else:
                dev = getattr(self.devices, device, None)
                if dev is not None and dev.status() in FAULT_STATUSES:
                    return False
        except DeviceError as err:
            log.debug("still out of service: %s", err)
            return False
        self.store.audit_trail.append("back_in_service", {"device": device})
        self.machine.reset(EndReason.COMPLETED)
        return True

    def close(self) -> None:
        if self._idle_watch is not None:
            self._idle_watch.stop()
        self.ctx.cancelled.set()
        self.card.close()
        self.review.close()
