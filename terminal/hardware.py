"""Devices from the config, through the device registry (devices/registry.py).

Every kind of :data:`devices.registry.KINDS` is built from its ``[devices.<kind>]`` section by
the driver the section names; ``"simulator"`` connects the kind's real driver to the demo
bench's simulator.  The kinds whose names are fields of :class:`kiosk.session.values.Devices`
are handed to the core; the staff card reader goes to the staff card watcher.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, TypeVar

from devices.idcard.kind import IDCARD, photo_decoder
from devices.registry import KINDS, NONE, DeviceContext, DeviceKind, SectionConfig
from kiosk.config import Profile, TerminalConfig
from kiosk.session.values import Devices
from terminal.simulators import SimulatorBench

log = logging.getLogger(__name__)

C = TypeVar("C", bound=SectionConfig)
D = TypeVar("D")


def device_context(config: TerminalConfig, bench: SimulatorBench | None, workdir: Path) -> DeviceContext:
    return DeviceContext(
        data_dir=workdir,
        production=config.profile is Profile.PRODUCTION,
        simulators=bench.simulators if bench is not None else {},
    )


def build_device(kind: DeviceKind[C, D, Any], config: TerminalConfig, ctx: DeviceContext) -> D | None:
    """The device of one kind, or ``None`` when it is off.  An optional kind the production
    config leaves out is off; a required one cannot be left out (kiosk/config.py says so)."""
    devices = config.devices
    if ctx.production and not kind.required and not devices.configured(kind):
        log.info("devices.%s: not configured, off", kind.name)
        return None
    section = devices.section(kind)
    if section.driver == NONE:
        log.info("devices.%s: driver 'none', off", kind.name)
    return kind.build(section, ctx)


def build_devices(config: TerminalConfig, bench: SimulatorBench | None, workdir: Path) -> Devices:
    """The devices the core uses (not opened: each driver opens on first use)."""
    ctx = device_context(config, bench, workdir)
    wanted = {f.name for f in dataclasses.fields(Devices)}
    built: dict[str, Any] = {}
    for kind in KINDS:
        if kind.name in wanted:
            built[kind.name] = build_device(kind, config, ctx)
    return Devices(photo_decoder=photo_decoder(config.devices.section(IDCARD)), **built)


def close_devices(devices: Devices) -> None:
    """Close every device, one failure never stopping the others."""
    for f in dataclasses.fields(devices):
        dev = getattr(devices, f.name)
        close = getattr(dev, "close", None)
        if close is None:
            continue
        try:
            close()
        except Exception:
            log.exception("closing %s failed", f.name)
