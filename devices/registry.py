"""The device registry: every device kind the terminal knows, in one table.

A kind (:class:`DeviceKind`) declares

* ``name``: its config section, ``[devices.<name>]``;
* ``config``: the section's schema (a :class:`SectionConfig` whose ``driver`` field picks the
  driver);
* ``interface``: what its drivers return (a ``Protocol`` of :mod:`devices.interfaces`);
* ``drivers``: the hardware drivers, keyed by the section's ``driver`` setting;
* ``simulate`` / ``attach``: the demo profile's simulator (started in a directory) and the
  kind's real driver talking to it over the device's wire protocol (driver ``"simulator"``).

A new device kind is a package under ``devices/`` with a ``kind.py`` declaring its
:class:`DeviceKind`, plus one entry in :data:`KINDS`.  The config schema
(``kiosk.config.DevicesConfig``) and the composition root (``terminal/hardware.py``) are built
from this table.

Driver factories import their driver lazily: loading the config never imports OpenCV, pyscard
or python-escpos.
"""

from __future__ import annotations

from typing import Any

from devices.device_kind import (
    NONE,
    SIMULATOR,
    DeviceConfigError,
    DeviceContext,
    DeviceKind,
    SectionConfig,
)

__all__ = [
    "KINDS",
    "NONE",
    "SIMULATOR",
    "DeviceConfigError",
    "DeviceContext",
    "DeviceKind",
    "SectionConfig",
    "kind",
]


def _kinds() -> tuple[DeviceKind[Any, Any, Any], ...]:
    from devices.barcode.kind import BARCODE
    from devices.camera.kind import CAMERA, DOCUMENT_CAMERA
    from devices.docprinter.kind import DOCUMENT_PRINTER
    from devices.idcard.kind import IDCARD
    from devices.printer.kind import RECEIPT_PRINTER
    from devices.scanner.kind import SCANNER
    from devices.smartcard.kind import STAFF_CARD
    from devices.ssccard.kind import SSC_CARD

    return (
        IDCARD,
        CAMERA,
        DOCUMENT_CAMERA,
        RECEIPT_PRINTER,
        DOCUMENT_PRINTER,
        BARCODE,
        SCANNER,
        STAFF_CARD,
        SSC_CARD,
    )


#: Every device kind, in the order the terminal builds them.
KINDS: tuple[DeviceKind[Any, Any, Any], ...] = _kinds()


def kind(name: str) -> DeviceKind[Any, Any, Any]:
    """The kind configured under ``[devices.<name>]``."""
    for k in KINDS:
        if k.name == name:
            return k
    raise DeviceConfigError(f"no device kind {name!r}: known kinds are {', '.join(k.name for k in KINDS)}")
