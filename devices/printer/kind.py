"""The receipt printer kind (ESC/POS): config section ``[devices.receipt_printer]``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import ReceiptPrinter
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator


class ReceiptPrinterConfig(SectionConfig):
    driver: Literal["simulator", "network"] = "simulator"
    host: str = "127.0.0.1"
    port: int = Field(9100, gt=0, lt=65536)
    profile: str = "generic-80mm"


def _network(section: ReceiptPrinterConfig, ctx: DeviceContext) -> EscPosReceiptPrinter:
    return EscPosReceiptPrinter(section.host, section.port, section.profile)


def _simulate(workdir: Path) -> ReceiptPrinterSimulator:
    return ReceiptPrinterSimulator().start()


def _attach(sim: ReceiptPrinterSimulator, section: ReceiptPrinterConfig) -> EscPosReceiptPrinter:
    return EscPosReceiptPrinter("127.0.0.1", sim.port, profile=section.profile)


RECEIPT_PRINTER: DeviceKind[ReceiptPrinterConfig, ReceiptPrinter, ReceiptPrinterSimulator] = DeviceKind(
    name="receipt_printer",
    config=ReceiptPrinterConfig,
    interface=ReceiptPrinter,
    drivers={"network": _network},
    simulate=_simulate,
    attach=_attach,
    release=ReceiptPrinterSimulator.stop,
    description="thermal receipt printer (ESC/POS over TCP)",
)
