"""Maintenance mode's wiring: the hall's staff registry and the staff card watcher on the staff reader.

The registry comes signed from the platform (kiosk/maintenance/staff_registry.py) and is kept in the
store; it is fetched when the first card needs it and then every ``REFRESH_S``.  The demo's
in-process staff card (``[devices.staff_card] driver = "simulator"``) uses the simulator bench's own
hall instead (its issuer CA and registry live in memory).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devices.registry import DeviceContext
from devices.smartcard.kind import STAFF_CARD
from devices.smartcard.pcsc import PcscCardConnection
from kiosk.cases.platform_client import PlatformClient
from kiosk.cases.platform_pins import ANSWER_KEY_FILE, read_pinned_key
from kiosk.cases.platform_transport import API
from kiosk.config import TerminalConfig
from kiosk.maintenance.service import MaintenanceService
from kiosk.maintenance.staff_card import Connect, StaffCardAuthenticator, StaffRegistryError
from kiosk.maintenance.staff_registry import HallStaffRegistry, StaffRegistryCache
from kiosk.maintenance.staff_watcher import CardReaders, StaffCardWatcher
from offline_cache.store import Store
from terminal.hardware import build_device
from terminal.simulators import SimulatorBench

log = logging.getLogger(__name__)

STAFF_CA_FILE = "staff-issuer-ca.pem"
REGISTRY_PATH = f"{API}/staff/registry"
#: Seconds between registry fetches (a revocation reaches every terminal of the hall within this).
REFRESH_S = 300.0


def registry_cache(config: TerminalConfig, store: Store, secrets_dir: Path) -> StaffRegistryCache:
    ca_pin = Path(config.maintenance.staff_issuer_ca or secrets_dir / STAFF_CA_FILE)
    return StaffRegistryCache(store, read_pinned_key(secrets_dir / ANSWER_KEY_FILE), ca_pin)


class RegistrySource:
    """The registry in force: the cached one, fetched first when there is none yet."""

    def __init__(self, client: PlatformClient | None, cache: StaffRegistryCache, secrets_dir: Path) -> None:
        self.client = client
        self.cache = cache
        self._secrets_dir = secrets_dir
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> HallStaffRegistry | None:
        if self.client is None:  # no platform: only the registry kept in the store
            return None
        if self.cache.platform_key is None:
            self.cache.platform_key = read_pinned_key(self._secrets_dir / ANSWER_KEY_FILE)
        try:
            return self.cache.update(self.client.transport.request("GET", REGISTRY_PATH).body)
        except Exception as err:  # PlatformError, StaffRegistryError: keep the cached one
            log.warning("staff registry not refreshed: %s", err)
            return None

    def current(self) -> HallStaffRegistry | None:
        try:
            return self.cache.current()
        except StaffRegistryError as err:
            log.info("no usable cached staff registry (%s): fetching it", err)
        return self.refresh()

    def start(self) -> None:
        def run() -> None:
            while not self._stop.wait(REFRESH_S):
                self.refresh()

        self._thread = threading.Thread(target=run, name="staff-registry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)


def _connector(open_readers: Callable[[], CardReaders]) -> Connect:
    @contextmanager
    def connect(reader: str) -> Iterator[PcscCardConnection]:
        readers = open_readers()  # a PC/SC context of its own: the watcher's stays on its thread
        try:
            with readers.connect(reader) as card:
                yield card
        finally:
            readers.close()

    return connect


def build_staff_watcher(
    config: TerminalConfig,
    maintenance: MaintenanceService,
    bench: SimulatorBench | None,
    secrets_dir: Path,
    ctx: DeviceContext,
    client: PlatformClient | None = None,
) -> StaffCardWatcher | None:
    """The watcher on the ``[devices.staff_card]`` reader; ``None`` when the reader is off."""
    reader = build_device(STAFF_CARD, config, ctx)
    if reader is None:
        log.warning("no staff card reader: maintenance mode cannot be entered on this terminal")
        return None
    connect = _connector(reader.open)
    current: Callable[[], HallStaffRegistry | None]
    on_stop: Callable[[], None] | None = None
    if bench is not None and config.devices.section(STAFF_CARD).driver == "simulator":
        current = bench.staff_hall.registry
    else:
        source = RegistrySource(
            client, registry_cache(config, maintenance.kiosk.store, secrets_dir), secrets_dir
        )
        source.start()
        current, on_stop = source.current, source.stop
    return StaffCardWatcher(
        maintenance,
        reader.open,
        lambda: StaffCardAuthenticator(current(), connect),
        reader=reader.reader,
        idle_timeout_s=config.maintenance.idle_timeout_s,
        poll_s=config.devices.section(STAFF_CARD).poll_interval_s,
        on_stop=on_stop,
    )
