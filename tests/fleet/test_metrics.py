"""The loopback Prometheus endpoint, scraped over real HTTP and parsed as Prometheus would."""

from __future__ import annotations

import itertools
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from devices.base import DeviceStatus
from kiosk.fleet.heartbeat import Heartbeat, HeartbeatCollector, HeartbeatSender
from kiosk.session.events import EventBus, StepChanged
from kiosk.session.machine import Step
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer
from terminal.metrics import TerminalMetrics
from tests.fleet.conftest import PanelDevices, enrolled


@pytest.fixture
def metrics(store: Store) -> Iterator[TerminalMetrics]:
    m = TerminalMetrics(store.outbox.counts)
    assert m.serve(0)
    yield m
    m.close()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode("utf-8")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _go(bus: EventBus, *steps: Step) -> None:
    for previous, step in itertools.pairwise(steps):
        bus.publish(StepChanged(previous, step, "s1"))


def test_sessions_outbox_devices_paper_heartbeat_and_skew_are_scraped(
    server: SandboxServer, store: Store, metrics: TerminalMetrics
) -> None:
    bus = EventBus()
    bus.subscribe(metrics.on_event)
    # one completed session, two cancelled (one from a device problem), one still running
    _go(
        bus,
        Step.ATTRACT,
        Step.CHOOSE_ITEM,
        Step.READ_CARD,
        Step.FACE_CHECK,
        Step.SUBMIT,
        Step.RESULT,
        Step.RATING,
    )
    _go(bus, Step.RATING, Step.ATTRACT, Step.CHOOSE_ITEM, Step.ATTRACT)
    _go(bus, Step.ATTRACT, Step.CHOOSE_ITEM, Step.DEVICE_PROBLEM, Step.OUT_OF_SERVICE)
    _go(bus, Step.OUT_OF_SERVICE, Step.ATTRACT, Step.CHOOSE_ITEM)
    for i in range(4):
        store.outbox.add(f"job-{i}", "ping", b"{}", 1.0)
    store.outbox.dead_letter("job-0", "refused")

    devices = PanelDevices(
        receipt_printer=DeviceStatus.NO_MEDIA, idcard=DeviceStatus.READY, camera=DeviceStatus.HARDWARE_ERROR
    )
    with enrolled(server, "M-1") as client:
        collector = HeartbeatCollector(devices, store.outbox, client, lambda: Step.ATTRACT, version="1")
        sender = HeartbeatSender(client, collector.collect, 60.0)
        metrics.watch(sender)
        beats: list[Heartbeat] = []
        sender.subscribe(lambda beat, ok: beats.append(beat))
        assert sender.send_once()
    assert metrics.port is not None
    got = scrape(metrics.port)

    assert got[("kiosk_sessions_started_total", ())] == 4
    assert got[("kiosk_sessions_completed_total", ())] == 1
    assert got[("kiosk_sessions_cancelled_total", ())] == 2
    assert got[("kiosk_outbox_pending", ())] == 3
    assert got[("kiosk_outbox_dead", ())] == 1
    assert got[("kiosk_device_up", (("device", "idcard"),))] == 1
    assert got[("kiosk_device_up", (("device", "camera"),))] == 0
    assert got[("kiosk_device_up", (("device", "receipt_printer"),))] == 1  # usable, but no paper
    assert got[("kiosk_paper_low", (("printer", "receipt_printer"),))] == 1
    assert sender.last_ok_at is not None
    assert got[("kiosk_heartbeat_last_ok_timestamp_seconds", ())] == pytest.approx(sender.last_ok_at)
    # the skew the client had measured from the platform's Date header when the heartbeat was built
    assert beats[0].clock_skew_s is not None
    assert got[("kiosk_clock_skew_seconds", ())] == pytest.approx(beats[0].clock_skew_s)
    assert got[("kiosk_heartbeats_failed_total", ())] == 0


def test_the_outbox_depth_follows_the_store_at_each_scrape(store: Store, metrics: TerminalMetrics) -> None:
    assert metrics.port is not None
    assert scrape(metrics.port)[("kiosk_outbox_pending", ())] == 0
    store.outbox.add("job-a", "ping", b"{}", 1.0)
    assert scrape(metrics.port)[("kiosk_outbox_pending", ())] == 1


def test_the_endpoint_listens_on_loopback_only(metrics: TerminalMetrics) -> None:
    assert metrics._server.server_address[0] == "127.0.0.1"


def test_a_taken_port_leaves_the_terminal_without_metrics(store: Store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        other = TerminalMetrics(store.outbox.counts)
        assert not other.serve(taken.getsockname()[1])
        assert other.port is None
        other.close()
