"""What every step service shares: the session machine, the audit store, events and problems.

The coordinator owns the one :class:`SessionContext`; each step service gets it and nothing else
of the session (its own devices and collaborators come separately).  Problems found by a step
land here, in the defined state for them: retry, manual review, or out of service.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from devices.base import DeviceError, RequiredAction
from kiosk.config import TerminalConfig
from kiosk.review.items import ItemPackage
from kiosk.session.bundle import BundlePlan
from kiosk.session.catalogue import Catalogue
from kiosk.session.events import EventBus, ProblemRaised, SessionEvent
from kiosk.session.machine import EndReason, SessionData, SessionMachine, Step
from kiosk.session.values import Problem
from offline_cache.store import StorageError, Store

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def local_now() -> dt.datetime:
    return dt.datetime.now().astimezone()


class SessionContext:
    """The session's shared parts as a step service sees them."""

    def __init__(
        self,
        config: TerminalConfig,
        store: Store,
        catalogue: Catalogue,
        *,
        machine: SessionMachine | None = None,
        events: EventBus | None = None,
        clock: Clock = local_now,
    ) -> None:
        self.config = config
        self.store = store
        self.catalogue = catalogue
        self.machine = machine or SessionMachine()
        self.events = events or EventBus()
        self.clock = clock
        #: Set to stop a blocking wait (card, QR code, face) so the worker returns promptly.
        self.cancelled = threading.Event()

    @property
    def data(self) -> SessionData:
        return self.machine.data

    def go(self, target: Step, *, session: SessionData | None = None) -> bool:
        return self.machine.go(target, session=session)

    def touch(self) -> None:
        self.machine.touch()

    def publish(self, event: SessionEvent) -> None:
        self.events.publish(event)

    def audit(self, event: str, details: dict[str, object]) -> None:
        self.store.audit_trail.append(event, details)

    def applying(self, data: SessionData) -> ItemPackage | BundlePlan:
        """What the form and materials steps ask for: the life event's combined form and materials
        (一件事), else the item's package."""
        return data.bundle if data.bundle is not None else self.package(data)

    def package(self, data: SessionData) -> ItemPackage:
        """The package of the item chosen in ``data``."""
        if data.item_id is None:
            raise RuntimeError("no item chosen")
        return self.catalogue.package(data.item_id)

    # ------------------------------------------------------------------ problems
    def device_problem(self, device: str, err: DeviceError, retry: Step | None, data: SessionData) -> None:
        log.warning("device problem on %s: %s", device, err)
        self.raise_problem(Problem.from_device(device, err, retry), data)

    def storage_problem(self, data: SessionData) -> None:
        self.raise_problem(
            Problem("storage", RequiredAction.MAINTENANCE, "problem.storage", None, allow_manual=False), data
        )

    def raise_problem(self, problem: Problem, data: SessionData) -> None:
        """Land in the defined state for ``problem`` found while serving session ``data``."""
        try:
            self.store.audit_trail.append(
                "device_problem", {"device": problem.device, "action": problem.action.value}
            )
        except StorageError as err:  # a full disk must not keep the terminal from its defined state
            log.error("audit record device_problem not written: %s", err)
        self.publish(ProblemRaised(problem))
        if problem.action is RequiredAction.MAINTENANCE and not problem.allow_manual:
            # The terminal cannot serve: whatever session is on ends (and is wiped) here.
            self.machine.reset(EndReason.OUT_OF_SERVICE)
            self.machine.data.problem = problem
            self.machine.go(Step.OUT_OF_SERVICE)
        elif self.machine.data is data:
            data.problem = problem
            self.machine.go(Step.DEVICE_PROBLEM, session=data)
        else:
            log.info("device problem of an ended session: %s", problem.device)
