"""The periodic heartbeat: the terminal's state sent to the platform on a schedule.

A :class:`Heartbeat` carries what a hall's fleet view needs and nothing personal: device
statuses, consumables (receipt paper), the app version, the outbox depths and the clock skew the
platform client measured from the platform's ``Date`` header.  :class:`HeartbeatSender` sends one
at start and then every ``interval_s`` on its own thread (stopped by an event), so a slow or
unreachable platform never blocks the GUI; a failure is logged by its kind only and the next round
tries again.

Device statuses are queried only while no citizen is being served (a status query talks to the
device); during a session the last statuses are sent again.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from devices.base import DeviceStatus
from kiosk.session.machine import CITIZEN_STEPS, Step
from offline_cache.outbox import OutboxState

log = logging.getLogger(__name__)

APP_DISTRIBUTION = "hall-kiosk"

#: Receipt paper as the heartbeat reports it, from the receipt printer's status.
_PAPER = {
    DeviceStatus.READY: "ok",
    DeviceStatus.BUSY: "ok",
    DeviceStatus.MEDIA_LOW: "low",
    DeviceStatus.NO_MEDIA: "out",
}


#: An app release (kiosk/update/) says its version in this file at its root.
RELEASE_MANIFEST = Path(__file__).resolve().parents[2] / "release.json"


def app_version() -> str:
    """The running release's version (its ``release.json``), else the installed distribution's;
    "unknown" when neither says."""
    try:
        version = json.loads(RELEASE_MANIFEST.read_bytes()).get("version")
        if isinstance(version, str) and version:
            return version
    except (OSError, ValueError, AttributeError):
        pass
    try:
        return importlib.metadata.version(APP_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def paper(status: DeviceStatus | None) -> str:
    return "unknown" if status is None else _PAPER.get(status, "unknown")


@dataclass(frozen=True)
class Heartbeat:
    """One heartbeat; :meth:`fields` is what goes into the contract's HeartbeatRequest."""

    device_status: Mapping[str, str]
    app_version: str
    consumables: Mapping[str, str] = field(default_factory=dict)
    queues: Mapping[str, int] = field(default_factory=dict)
    clock_skew_s: float | None = None
    #: the app update's state (terminal/update.py ``heartbeat_fields``); empty: not reported
    update: Mapping[str, str] = field(default_factory=dict)

    def telemetry(self) -> dict[str, Any]:
        """Everything but the device statuses (the request's optional fields)."""
        fields: dict[str, Any] = {
            "app_version": self.app_version,
            "consumables": dict(self.consumables),
            "queues": dict(self.queues),
            "clock_skew_s": self.clock_skew_s,
        }
        if self.update:
            fields["update"] = dict(self.update)
        return fields


class _Devices(Protocol):
    def statuses(self) -> dict[str, DeviceStatus]: ...


class _Outbox(Protocol):
    def counts(self, *, cases: bool | None = None) -> dict[OutboxState, int]: ...


class _Client(Protocol):
    @property
    def clock_skew_s(self) -> float | None: ...

    def heartbeat(self, status: Mapping[str, Any], telemetry: Mapping[str, Any] | None = None) -> None: ...


class HeartbeatCollector:
    """Builds a :class:`Heartbeat` from the devices, the outbox and the client."""

    def __init__(
        self,
        devices: _Devices,
        outbox: _Outbox,
        client: _Client,
        current_step: Callable[[], Step],
        version: str | None = None,
        update: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.devices = devices
        self.update = update
        self.outbox = outbox
        self.client = client
        self.current_step = current_step
        self.version = version or app_version()
        self._statuses: dict[str, DeviceStatus] = {}

    def device_statuses(self) -> dict[str, DeviceStatus]:
        """Fresh statuses while the terminal is idle; the last ones while a citizen is served."""
        if self.current_step() not in CITIZEN_STEPS or not self._statuses:
            self._statuses = dict(self.devices.statuses())
        return dict(self._statuses)

    def collect(self) -> Heartbeat:
        statuses = self.device_statuses()
        counts = self.outbox.counts()
        return Heartbeat(
            device_status={name: s.value for name, s in statuses.items()},
            app_version=self.version,
            consumables={"receipt_paper": paper(statuses.get("receipt_printer"))},
            queues={
                "outbox_pending": counts.get(OutboxState.PENDING, 0) + counts.get(OutboxState.IN_FLIGHT, 0),
                "outbox_dead": counts.get(OutboxState.DEAD, 0),
            },
            clock_skew_s=self.client.clock_skew_s,
            update=self._update(),
        )

    def _update(self) -> Mapping[str, str]:
        if self.update is None:
            return {}
        try:
            return self.update()
        except Exception:  # an unreadable update state never stops the heartbeat
            log.exception("reading the update state failed")
            return {}


HeartbeatListener = Callable[[Heartbeat, bool], None]


class HeartbeatSender:
    """Sends ``collect()`` through ``client.heartbeat`` at start and every ``interval_s``."""

    def __init__(
        self,
        client: _Client,
        collect: Callable[[], Heartbeat],
        interval_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("the heartbeat interval must be positive")
        self.client = client
        self.collect = collect
        self.interval_s = interval_s
        self.clock = clock
        #: When the platform last accepted a heartbeat (``clock()``); None before one.
        self.last_ok_at: float | None = None
        #: The kind of the last failure (an exception's class name); None after a success.
        self.last_error: str | None = None
        self.sent = 0
        self.failed = 0
        self._listeners: list[HeartbeatListener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, listener: HeartbeatListener) -> None:
        """``listener(heartbeat, ok)`` after each attempt, on the sender's thread."""
        self._listeners.append(listener)

    def send_once(self) -> bool:
        """One heartbeat now; True when the platform accepted it.  Never raises."""
        try:
            beat = self.collect()
        except Exception:
            log.exception("collecting the heartbeat failed")
            self.failed += 1
            return False
        try:
            self.client.heartbeat(beat.device_status, beat.telemetry())
        except Exception as err:  # the platform client's errors, OSError, ... : try again next round
            self.failed += 1
            self.last_error = type(err).__name__
            # The kind only: an error text could echo a URL or an answer body.
            log.warning("heartbeat not accepted (%s); next try in %.0f s", self.last_error, self.interval_s)
            self._notify(beat, False)
            return False
        self.sent += 1
        self.last_ok_at = self.clock()
        self.last_error = None
        self._notify(beat, True)
        return True

    def _notify(self, beat: Heartbeat, ok: bool) -> None:
        for listener in list(self._listeners):
            try:
                listener(beat, ok)
            except Exception:
                log.exception("heartbeat listener failed")

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            self.send_once()
            if self._stop.wait(self.interval_s):
                return

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
