"""Maintenance mode's wiring: the staff registry and the staff card watcher on the staff reader."""

from __future__ import annotations

import logging
from pathlib import Path

from devices.registry import DeviceContext
from devices.smartcard.kind import STAFF_CARD
from kiosk.config import TerminalConfig
from kiosk.maintenance.service import MaintenanceService
from kiosk.maintenance.staff_card import StaffCardAuthenticator, StaffRegistry, StaffRegistryError
from kiosk.maintenance.staff_watcher import StaffCardWatcher
from terminal.demo_profile import DEMO_STAFF_ID
from terminal.hardware import build_device
from terminal.simulators import SimulatorBench

log = logging.getLogger(__name__)


def staff_registry(config: TerminalConfig, bench: SimulatorBench | None, secrets_dir: Path) -> StaffRegistry:
    """The staff registry (docs/operations.md): a 0600 file, or the demo's simulated staff card."""
    if config.maintenance.staff_registry:
        path = Path(config.maintenance.staff_registry)
    elif bench is not None:
        return StaffRegistry({DEMO_STAFF_ID: bench.staff_key})
    else:
        path = secrets_dir / "staff.json"
    try:
        return StaffRegistry.load(path)
    except StaffRegistryError as err:
        # The terminal keeps serving citizens; only maintenance mode cannot be unlocked.
        log.error("maintenance mode cannot be unlocked: %s", err)
        return StaffRegistry({})


def build_staff_watcher(
    config: TerminalConfig,
    maintenance: MaintenanceService,
    bench: SimulatorBench | None,
    secrets_dir: Path,
    ctx: DeviceContext,
) -> StaffCardWatcher | None:
    """The watcher on the ``[devices.staff_card]`` reader; ``None`` when the reader is off."""
    reader = build_device(STAFF_CARD, config, ctx)
    if reader is None:
        log.warning("no staff card reader: maintenance mode cannot be entered on this terminal")
        return None
    staff_registry(config, bench, secrets_dir)  # say at start-up when the registry is unusable
    return StaffCardWatcher(
        maintenance,
        reader.open,
        lambda: StaffCardAuthenticator(staff_registry(config, bench, secrets_dir)),
        reader=reader.reader,
        idle_timeout_s=config.maintenance.idle_timeout_s,
        poll_s=config.devices.section(STAFF_CARD).poll_interval_s,
    )
