"""Prometheus metrics for the hall's monitoring, served on loopback only.

Counters of citizen sessions (from the session's EventBus), the outbox depths (read from the
store at each scrape), and what the last heartbeat saw (kiosk/fleet/heartbeat.py): devices up or
down, receipt paper low, clock skew, when the platform last accepted one.  Each terminal has its
own registry, so several terminals in one process (tests) never share counters.  The endpoint
binds 127.0.0.1 only; a port already taken is logged and the terminal runs on without metrics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from devices.base import FAULT_STATUSES, DeviceStatus
from kiosk.fleet.heartbeat import Heartbeat, HeartbeatSender
from kiosk.session.events import SessionEvent, StepChanged
from kiosk.session.machine import CITIZEN_STEPS, Step
from offline_cache.outbox import OutboxState

log = logging.getLogger(__name__)

DEFAULT_PORT = 9464
#: Steps from which going back to the attract screen counts as a completed session.
_END_STEPS = frozenset({Step.RESULT, Step.RATING})


class TerminalMetrics:
    """The terminal's metrics in their own registry; :meth:`serve` exposes them over HTTP."""

    def __init__(self, outbox_counts: Callable[[], dict[OutboxState, int]]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.sessions_started = Counter("kiosk_sessions_started", "Citizen sessions begun", registry=r)
        self.sessions_completed = Counter(
            "kiosk_sessions_completed", "Citizen sessions that reached the result", registry=r
        )
        self.sessions_cancelled = Counter(
            "kiosk_sessions_cancelled", "Citizen sessions left before the result", registry=r
        )
        self._outbox_counts = outbox_counts
        pending = Gauge("kiosk_outbox_pending", "Outbox entries waiting to be sent", registry=r)
        pending.set_function(lambda: self._count(OutboxState.PENDING, OutboxState.IN_FLIGHT))
        dead = Gauge("kiosk_outbox_dead", "Outbox entries the platform refused", registry=r)
        dead.set_function(lambda: self._count(OutboxState.DEAD))
        self.device_up = Gauge(
            "kiosk_device_up", "1 when the device is usable, 0 when it is faulty", ["device"], registry=r
        )
        self.paper_low = Gauge(
            "kiosk_paper_low", "1 when the receipt paper is low or out", ["printer"], registry=r
        )
        self.heartbeat_ok = Gauge(
            "kiosk_heartbeat_last_ok_timestamp_seconds",
            "When the platform last accepted a heartbeat (Unix time)",
            registry=r,
        )
        self.heartbeats_failed = Counter(
            "kiosk_heartbeats_failed", "Heartbeats the platform did not accept", registry=r
        )
        self.clock_skew = Gauge(
            "kiosk_clock_skew_seconds", "Platform clock minus terminal clock (Date header)", registry=r
        )
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    def _count(self, *states: OutboxState) -> float:
        try:
            counts = self._outbox_counts()
        except Exception:  # a scrape must never fail on a busy store
            log.exception("reading the outbox depths failed")
            return float("nan")
        return float(sum(counts.get(s, 0) for s in states))

    # ------------------------------------------------------------------ sources
    def on_event(self, event: SessionEvent) -> None:
        """EventBus listener: sessions begun and how they ended."""
        if not isinstance(event, StepChanged):
            return
        was, now = event.previous in CITIZEN_STEPS, event.step in CITIZEN_STEPS
        if now and not was:
            self.sessions_started.inc()
        elif was and not now:
            (self.sessions_completed if event.previous in _END_STEPS else self.sessions_cancelled).inc()

    def on_heartbeat(self, beat: Heartbeat, ok: bool, at: float | None = None) -> None:
        """HeartbeatSender listener: devices, paper and clock skew as the last heartbeat saw them."""
        for device, value in beat.device_status.items():
            try:
                status = DeviceStatus(value)
            except ValueError:
                continue
            self.device_up.labels(device=device).set(0 if status in FAULT_STATUSES else 1)
        paper = beat.consumables.get("receipt_paper")
        if paper is not None:
            self.paper_low.labels(printer="receipt_printer").set(1 if paper in ("low", "out") else 0)
        if beat.clock_skew_s is not None:
            self.clock_skew.set(beat.clock_skew_s)
        if not ok:
            self.heartbeats_failed.inc()
        elif at is not None:
            self.heartbeat_ok.set(at)

    def watch(self, sender: HeartbeatSender) -> None:
        sender.subscribe(lambda beat, ok: self.on_heartbeat(beat, ok, sender.last_ok_at))

    # ------------------------------------------------------------------ HTTP
    def serve(self, port: int = DEFAULT_PORT) -> bool:
        """Serve /metrics on 127.0.0.1:``port`` (0: a free port, see :attr:`port`); False if taken."""
        try:
            self._server, self._thread = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        except OSError as err:
            log.warning("metrics endpoint not started on 127.0.0.1:%d: %s", port, err)
            return False
        self.port = int(self._server.server_address[1])
        log.info("metrics on http://127.0.0.1:%d/metrics", self.port)
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
