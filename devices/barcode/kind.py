"""The QR/barcode scanner kind (e-ID QR identity): config section ``[devices.barcode]``.

Optional: without it (driver ``"none"``, or no section in the production profile) the terminal
works with the ID card alone.  A scanner that cannot be opened switches QR identity off, it
never stops the terminal."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import Field

from devices.barcode.scanner import SerialBarcodeReader
from devices.barcode.simulator import BarcodeScannerSimulator
from devices.base import DeviceError
from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import BarcodeReader

log = logging.getLogger(__name__)


class BarcodeConfig(SectionConfig):
    driver: Literal["simulator", "serial", "none"] = "simulator"
    port: str = ""
    baudrate: int = Field(9600, gt=0)


def _open(port: str, baudrate: int) -> SerialBarcodeReader | None:
    if not port:
        log.warning("devices.barcode: no port configured; QR identity is off")
        return None
    try:
        return SerialBarcodeReader(port, baudrate)
    except DeviceError as err:  # the card still works without it
        log.warning("barcode scanner unavailable, QR identity is off: %s", err)
        return None


def _serial(section: BarcodeConfig, ctx: DeviceContext) -> SerialBarcodeReader | None:
    return _open(section.port, section.baudrate)


def _none(section: BarcodeConfig, ctx: DeviceContext) -> None:
    return None


def _simulate(workdir: Path) -> BarcodeScannerSimulator:
    return BarcodeScannerSimulator()


def _attach(sim: BarcodeScannerSimulator, section: BarcodeConfig) -> SerialBarcodeReader | None:
    return _open(sim.port, section.baudrate)


BARCODE: DeviceKind[BarcodeConfig, BarcodeReader, BarcodeScannerSimulator] = DeviceKind(
    name="barcode",
    config=BarcodeConfig,
    interface=BarcodeReader,
    drivers={"serial": _serial, "none": _none},
    simulate=_simulate,
    attach=_attach,
    release=BarcodeScannerSimulator.unplug,
    required=False,
    description="QR/barcode scanner (serial)",
)
