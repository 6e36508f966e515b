"""Wires the fleet watch into a running terminal: the periodic heartbeat and the metrics endpoint."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.cases.platform_client import PlatformClient
from kiosk.config import TerminalConfig
from kiosk.fleet.heartbeat import HeartbeatCollector, HeartbeatSender
from kiosk.session.coordinator import SessionCoordinator
from kiosk.update.report import heartbeat_fields, store_from
from offline_cache.store import Store
from terminal.metrics import TerminalMetrics

log = logging.getLogger(__name__)


@dataclass
class FleetWatch:
    heartbeat: HeartbeatSender
    metrics: TerminalMetrics | None

    def stop(self) -> None:
        self.heartbeat.stop()
        if self.metrics is not None:
            self.metrics.close()


def start_fleet_watch(
    config: TerminalConfig, session: SessionCoordinator, store: Store, client: PlatformClient
) -> FleetWatch:
    """Start the heartbeat thread (``[platform] heartbeat_s``) and, unless ``[platform]
    metrics_port`` is None, the loopback metrics endpoint."""
    collector = HeartbeatCollector(
        session.devices,
        store.outbox,
        client,
        lambda: session.step,
        update=lambda: heartbeat_fields(store_from()),
    )
    sender = HeartbeatSender(client, collector.collect, config.platform.heartbeat_s)
    metrics: TerminalMetrics | None = None
    if config.platform.metrics_port is not None:
        metrics = TerminalMetrics(store.outbox.counts)
        session.subscribe(metrics.on_event)
        metrics.watch(sender)
        if not metrics.serve(config.platform.metrics_port):
            metrics = None
    sender.start()
    return FleetWatch(sender, metrics)
