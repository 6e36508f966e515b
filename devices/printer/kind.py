"""The receipt printer kind (ESC/POS): config section ``[devices.receipt_printer]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import ReceiptPrinter

if TYPE_CHECKING:  # the driver and simulator load when a printer is built (python-escpos is slow to import)
    from devices.printer.escpos_printer import EscPosReceiptPrinter
    from devices.printer.simulator import ReceiptPrinterSimulator


class ReceiptPrinterConfig(SectionConfig):
    driver: Literal["simulator", "network"] = "simulator"
    host: str = "127.0.0.1"
    port: int = Field(9100, gt=0, lt=65536)
    profile: str = "generic-80mm"


def _network(section: ReceiptPrinterConfig, ctx: DeviceContext) -> EscPosReceiptPrinter:
    from devices.printer.escpos_printer import EscPosReceiptPrinter

    return EscPosReceiptPrinter(section.host, section.port, section.profile)


def _simulate(workdir: Path) -> ReceiptPrinterSimulator:
    from devices.printer.simulator import ReceiptPrinterSimulator

    return ReceiptPrinterSimulator().start()


def _attach(sim: ReceiptPrinterSimulator, section: ReceiptPrinterConfig) -> EscPosReceiptPrinter:
    from devices.printer.escpos_printer import EscPosReceiptPrinter

    return EscPosReceiptPrinter("127.0.0.1", sim.port, profile=section.profile)


def _release(sim: ReceiptPrinterSimulator) -> None:
    sim.stop()


RECEIPT_PRINTER: DeviceKind[ReceiptPrinterConfig, ReceiptPrinter, ReceiptPrinterSimulator] = DeviceKind(
    name="receipt_printer",
    config=ReceiptPrinterConfig,
    interface=ReceiptPrinter,
    drivers={"network": _network},
    simulate=_simulate,
    attach=_attach,
    release=_release,
    description="thermal receipt printer (ESC/POS over TCP)",
)
