"""Thermal receipt printers: ESC/POS codec, TCP transport, driver, simulator.

The names below load on first use: python-escpos reads its capability database when imported
(seconds on a small CPU), which loading the config (devices.printer.kind) must not pay.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devices.printer.codec import EscPosCodec
    from devices.printer.escpos_printer import EscPosReceiptPrinter
    from devices.printer.profiles import PrinterProfile, get_profile
    from devices.printer.transport import TcpTransport

__all__ = ["EscPosCodec", "EscPosReceiptPrinter", "PrinterProfile", "TcpTransport", "get_profile"]

_HOME = {
    "EscPosCodec": "devices.printer.codec",
    "EscPosReceiptPrinter": "devices.printer.escpos_printer",
    "PrinterProfile": "devices.printer.profiles",
    "get_profile": "devices.printer.profiles",
    "TcpTransport": "devices.printer.transport",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'devices.printer' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
