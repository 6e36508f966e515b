"""The receipt printer kind (ESC/POS): config section ``[devices.receipt_printer]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import ReceiptPrinter

if TYPE_CHECKING:  # the driver and simulator load when a printer is built (python-escpos is slow to import)
    from devices.printer.escpos_printer import EscPosReceiptPrinter
    from devices.printer.simulator import ReceiptPrinterSimulator


class ReceiptPrinterConfig(SectionConfig):
    #: "network": raw TCP (port 9100); "serial": an RS-232 or USB-serial printer on ``serial_port``;
    #: "usb": a USB printer-class device by ``usb_vendor_id``/``usb_product_id`` (TOML: 0x0416)
    driver: Literal["simulator", "network", "serial", "usb"] = "simulator"
    host: str = "127.0.0.1"
    port: int = Field(9100, gt=0, lt=65536)
    serial_port: str = ""  # driver "serial": best a stable name (/dev/serial/by-id/..., /dev/hall-kiosk/...)
    baudrate: int = Field(19200, gt=0)
    usb_vendor_id: int = Field(0, ge=0, le=0xFFFF)
    usb_product_id: int = Field(0, ge=0, le=0xFFFF)
    usb_serial: str = ""  # driver "usb": tells two printers of one model apart
    profile: str = "generic-80mm"

    @model_validator(mode="after")
    def _serial_needs_a_port(self) -> ReceiptPrinterConfig:
        if self.driver == "serial" and not self.serial_port:
            raise ValueError("driver 'serial' needs serial_port")
        if self.driver == "usb" and not (self.usb_vendor_id and self.usb_product_id):
            raise ValueError("driver 'usb' needs usb_vendor_id and usb_product_id")
        return self


def _network(section: ReceiptPrinterConfig, ctx: DeviceContext) -> EscPosReceiptPrinter:
    from devices.printer.escpos_printer import EscPosReceiptPrinter

    return EscPosReceiptPrinter(section.host, section.port, section.profile)


def _serial(section: ReceiptPrinterConfig, ctx: DeviceContext) -> EscPosReceiptPrinter:
    from devices.idcard.serial_transport import SerialTransport
    from devices.printer.escpos_printer import KIND, EscPosReceiptPrinter

    transport = SerialTransport(section.serial_port, section.baudrate, device=KIND)
    return EscPosReceiptPrinter(section.serial_port, 0, section.profile, transport=transport)


def _usb(section: ReceiptPrinterConfig, ctx: DeviceContext) -> EscPosReceiptPrinter:
    from devices.printer.escpos_printer import KIND, EscPosReceiptPrinter
    from devices.printer.usb_transport import UsbTransport

    transport = UsbTransport(
        section.usb_vendor_id, section.usb_product_id, serial_number=section.usb_serial or None, device=KIND
    )
    return EscPosReceiptPrinter(transport.name, 0, section.profile, transport=transport)


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
    drivers={"network": _network, "serial": _serial, "usb": _usb},
    simulate=_simulate,
    attach=_attach,
    release=_release,
    description="thermal receipt printer (ESC/POS over TCP, a serial line or USB)",
)
