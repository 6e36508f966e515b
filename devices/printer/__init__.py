"""Thermal receipt printers: ESC/POS codec, TCP transport, driver, simulator."""

from devices.printer.codec import EscPosCodec
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.profiles import PrinterProfile, get_profile
from devices.printer.transport import TcpTransport

__all__ = ["EscPosCodec", "EscPosReceiptPrinter", "PrinterProfile", "TcpTransport", "get_profile"]
