"""Alerts to the platform: what hall staff and the operations desk must hear about at once.

:class:`AlertForwarder` listens on the session's :class:`~kiosk.session.events.EventBus` (a
citizen's call for staff, device problems), takes the staff-access lockout alarm
(``StaffAccess.alarm_sink``) and polls what no event announces (paper low, dead letters, clock
skew over :data:`CLOCK_SKEW_LIMIT_S`, printers in hardware error).  Each alert becomes an entry of
kind ``alert`` in the store's one outbox (:mod:`kiosk.cases.outbox`), so it survives a platform
outage and a restart and is sent by the same drainer, with its entry id as the idempotency key:
the platform keeps it once however often it is re-sent.

Exactly once per occurrence: a condition (paper low on a printer, a given dead letter, clock skew)
has a key; its *episode* number is kept in the store's ``meta`` table and the alert id is derived
from (instance salt, key, episode), so queuing it again after a crash between the queue write and
the episode write finds the same id already queued and does not add a second one.  A condition
is raised once while it lasts, and again only after it cleared (or, for device faults and staff
calls, after ``rearm_s``).

Alerts carry no citizen's personal data: kinds, devices, states, counts, outbox entry ids and
staff ids.  Dead-lettered alerts do not raise dead-letter alerts (no loop).
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from devices.base import DeviceStatus, RequiredAction
from kiosk.session.events import ProblemRaised, SessionEvent, StaffCallRequested, StepChanged
from kiosk.session.machine import Step
from kiosk.session.values import Problem
from offline_cache.store import DuplicateCaseError, StorageError, Store

if TYPE_CHECKING:
    from kiosk.maintenance.access import StaffAccess
    from kiosk.session.coordinator import SessionCoordinator

log = logging.getLogger(__name__)

#: The outbox entry kind (kiosk.cases.outbox.JOB_ALERT; not imported: maintenance stays below cases).
JOB_ALERT = "alert"
META_KEY = "alerts.state"
SALT_KEY = "alerts.salt"
#: Terminal clock further than this from the platform's raises an alert (signed requests fail at 300 s).
CLOCK_SKEW_LIMIT_S = 60.0
#: A device fault or a staff call is raised again after this long even if it never cleared.
REARM_S = 3600.0
STAFF_CALL_REARM_S = 30.0
_PRINTERS = ("receipt_printer", "document_printer")
_STAFF_ACTIONS = frozenset({RequiredAction.CLEAR_BY_STAFF, RequiredAction.MAINTENANCE})


class AlertKind(enum.Enum):
    """Values are the contract's ``AlertRequest.kind``."""

    STAFF_LOCKOUT = "staff_lockout"
    STAFF_CALL = "staff_call"
    DEVICE_FAULT = "device_fault"
    PAPER_LOW = "paper_low"
    DEAD_LETTER = "dead_letter"
    CLOCK_SKEW = "clock_skew"


#: Flat, non-personal facts (strings, numbers, booleans, None).
Details = Mapping[str, Any]


class AlertForwarder:
    """Turns events and polled conditions into queued alerts (thread-safe)."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], float] = time.time,
        kick: Callable[[], None] | None = None,
        statuses: Callable[[], Mapping[str, DeviceStatus]] | None = None,
        idle: Callable[[], bool] = lambda: True,
        clock_skew: Callable[[], float | None] | None = None,
        skew_limit_s: float = CLOCK_SKEW_LIMIT_S,
    ) -> None:
        self.store = store
        self._clock = clock
        #: Wakes the outbox drainer after an alert is queued (``OutboxDrainer.kick``).
        self.kick = kick
        self.statuses = statuses
        #: Devices are only asked for their status between citizens.
        self.idle = idle
        self.clock_skew = clock_skew
        self.skew_limit_s = skew_limit_s
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ the sources
    def on_event(self, event: SessionEvent) -> None:
        """The EventBus sink."""
        if isinstance(event, StaffCallRequested):
            self.raise_alert(
                "staff_call",
                AlertKind.STAFF_CALL,
                "warning",
                {"step": event.step},
                rearm_s=STAFF_CALL_REARM_S,
            )
        elif isinstance(event, StepChanged) and event.problem is not None:
            self._problem(event.problem, event.step.value)
        elif isinstance(event, ProblemRaised):
            self._problem(event.problem, None)

    def _problem(self, problem: Problem, step: str | None) -> None:
        if problem.action not in _STAFF_ACTIONS:
            return  # the citizen or the software clears it (retry, wait)
        details: dict[str, str | int | float | bool | None] = {
            "device": problem.device,
            "action": problem.action.value,
            "detail": problem.detail_key,
        }
        if step is not None:
            details["step"] = step
        severity = "critical" if step == Step.OUT_OF_SERVICE.value else "warning"
        self.raise_alert(
            f"device_fault/{problem.device}", AlertKind.DEVICE_FAULT, severity, details, rearm_s=REARM_S
        )

    def lockout(self, alarm: Mapping[str, Any]) -> None:
        """``StaffAccess.alarm_sink``: a maintenance unlock was locked after repeated refusals."""
        details = {
            k: alarm.get(k) for k in ("scope", "staff", "reason", "reader", "failures", "locked_until")
        }
        key = f"lockout/{alarm.get('scope')}/{alarm.get('staff')}/{alarm.get('locked_until')}"
        self.raise_alert(key, AlertKind.STAFF_LOCKOUT, "critical", details, rearm_s=0.0)

    def poll(self) -> None:
        """Conditions no event announces: dead letters, clock skew, printers (between citizens)."""
        try:
            self._poll_dead_letters()
        except StorageError:
            log.exception("alerts: cannot read the dead letters")
        if self.clock_skew is not None:
            skew = self.clock_skew()
            if skew is not None and abs(skew) > self.skew_limit_s:
                # The platform's clock minus ours: the terminal runs -skew seconds off.
                details: Details = {"skew_s": round(-skew, 1), "limit_s": self.skew_limit_s}
                self.raise_alert("clock_skew", AlertKind.CLOCK_SKEW, "critical", details)
            elif skew is not None:
                self.clear("clock_skew")
        if self.statuses is not None and self.idle():
            self._poll_devices(self.statuses())

    def _poll_dead_letters(self) -> None:
        dead = [d for d in self.store.outbox.dead_letters(limit=1000) if d.kind != JOB_ALERT]
        keys = set()
        for d in dead:
            key = f"dead_letter/{d.entry_id}"
            keys.add(key)
            details = {"entry": d.entry_id, "kind": d.kind, "attempts": d.attempts}
            self.raise_alert(key, AlertKind.DEAD_LETTER, "warning", details)
        for key in self._active("dead_letter/"):
            if key not in keys:
                self.clear(key)  # requeued by staff

    def _poll_devices(self, statuses: Mapping[str, DeviceStatus]) -> None:
        for name, status in statuses.items():
            if name in _PRINTERS:
                for state in (DeviceStatus.MEDIA_LOW, DeviceStatus.NO_MEDIA):
                    key = f"paper_low/{name}/{state.value}"
                    if status is state:
                        severity = "warning" if state is DeviceStatus.MEDIA_LOW else "critical"
                        details = {"device": name, "paper": "low" if severity == "warning" else "out"}
                        self.raise_alert(key, AlertKind.PAPER_LOW, severity, details)
                    else:
                        self.clear(key)
            faulty = status is DeviceStatus.HARDWARE_ERROR or (
                name in _PRINTERS and status is DeviceStatus.OFFLINE
            )
            if faulty:
                details = {"device": name, "status": status.value}
                self.raise_alert(
                    f"device_fault/{name}", AlertKind.DEVICE_FAULT, "critical", details, rearm_s=REARM_S
                )
            elif status in (DeviceStatus.READY, DeviceStatus.BUSY):
                self.clear(f"device_fault/{name}")

    # ------------------------------------------------------------------ queueing, once
    def _state(self) -> dict[str, dict[str, Any]]:
        raw = self.store.meta.get(META_KEY)
        try:
            state = json.loads(raw) if raw else {}
        except ValueError:
            state = {}
        return state if isinstance(state, dict) else {}

    def _salt(self) -> str:
        salt = self.store.meta.get(SALT_KEY)
        if salt is None:
            salt = uuid.uuid4().hex
            self.store.meta.set(SALT_KEY, salt)
        return salt

    def _active(self, prefix: str) -> list[str]:
        with self._lock:
            return [k for k, v in self._state().items() if k.startswith(prefix) and v.get("active")]

    def raise_alert(
        self, key: str, kind: AlertKind, severity: str, details: Details, *, rearm_s: float | None = None
    ) -> str | None:
        """Queue an alert for condition ``key`` unless it is already raised (and not re-armed).
        Returns the alert id queued, None when nothing was queued.  Never raises: a disk that
        cannot take the alert is logged (the audit trail and the log still have the cause)."""
        try:
            with self._lock:
                now = self._clock()
                state = self._state()
                entry = state.get(key, {})
                if entry.get("active") and (rearm_s is None or now - float(entry.get("at", 0)) < rearm_s):
                    return None
                episode = int(entry.get("n", 0)) + 1
                if rearm_s == 0:  # a one-off occurrence (a lockout): nothing to remember
                    alert_id, state = str(uuid.uuid4()), {}
                else:
                    alert_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"alert:{self._salt()}/{key}/{episode}"))
                body = {
                    "kind": kind.value,
                    "severity": severity,
                    "raised_at": round(now, 3),
                    "details": dict(details),
                }
                try:
                    self.store.outbox.add(alert_id, JOB_ALERT, json.dumps(body, sort_keys=True).encode(), now)
                except DuplicateCaseError:
                    log.info("alerts: %s was queued before a restart; not queued again", alert_id)
                if rearm_s != 0:
                    state[key] = {"n": episode, "active": True, "at": now}
                    self.store.meta.set(META_KEY, json.dumps(state, sort_keys=True))
        except StorageError:
            log.exception("alerts: could not queue the %s alert", kind.value)
            return None
        log.warning("alert queued: %s (%s)", kind.value, severity)
        if self.kick is not None:
            self.kick()
        return alert_id

    def clear(self, key: str) -> None:
        """The condition ``key`` is over: the next occurrence raises a new alert."""
        with self._lock:
            state = self._state()
            if state.get(key, {}).get("active"):
                state[key]["active"] = False
                self.store.meta.set(META_KEY, json.dumps(state, sort_keys=True))

    # ------------------------------------------------------------------ background polling
    def start(self, interval_s: float = 30.0) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name="alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self, interval_s: float) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("alerts: poll failed")
            self._stop.wait(interval_s)


def start_alerts(kiosk: SessionCoordinator, access: StaffAccess, drainer: Any, client: Any) -> AlertForwarder:
    """The composition root's one call: listen on ``kiosk``'s bus, take the lockout alarm, poll
    between citizens every 30 s, wake the drainer after queueing."""
    forwarder = AlertForwarder(
        kiosk.store,
        kick=drainer.kick,
        # Only the printers are polled (their drivers serialise their own I/O); other device faults
        # arrive as problems on the bus when a session meets them.
        statuses=lambda: {
            name: getattr(kiosk.devices, name).status()
            for name in _PRINTERS
            if getattr(kiosk.devices, name, None)
        },
        idle=lambda: kiosk.machine.step is Step.ATTRACT,
        clock_skew=lambda: client.clock_skew_s,
    )
    kiosk.subscribe(forwarder.on_event)
    access.alarm_sink = forwarder.lockout
    forwarder.start()
    return forwarder
