"""USB ESC/POS receipt printers for ``hall-kiosk provision``, read from sysfs (no device is opened).

A candidate is a USB device with a printer-class interface (07) or one whose ids are in
:data:`THERMAL_USB_IDS` (some thermal printers report a vendor-specific class).  A4 printers also
have the printer class: they are told apart by the id table and by the product string (an A4
printer is set up as a CUPS queue instead); what stays unsure is listed but not chosen, and the
installer names it with ``--receipt-printer usb:VID:PID[:SERIAL]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SYSFS_USB = Path("/sys/bus/usb/devices")
PRINTER_CLASS = "07"

#: Receipt (thermal, ESC/POS) printers by USB id: (vendor, product or None for the whole vendor).
#: Vendors that make receipt printers only are listed whole.  Extend from the field's `lsusb`.
THERMAL_USB_IDS: dict[tuple[int, int | None], str] = {
    (0x04B8, 0x0202): "Epson TM series (TM-T20/T70/T88, M129)",
    (0x0416, 0x5011): "Winbond-based POS58/POS80 (many Chinese thermal printers)",
    (0x0FE6, 0x811E): "ICS Advent-based POS58 thermal printers",
    (0x0519, None): "Star Micronics",
    (0x1504, None): "Bixolon",
    (0x0DD4, None): "Custom (kiosk printers)",
}
_RECEIPT_WORDS = re.compile(r"(?<![a-z])(pos|receipt|thermal|tm-|kiosk)", re.IGNORECASE)
_USB_SPEC = re.compile(r"usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?")


@dataclass(frozen=True)
class UsbPrinter:
    vendor_id: int
    product_id: int
    serial: str
    product: str  # the device's product string (or the table's name)
    receipt: bool  # known or named as a receipt printer: chosen by provisioning

    @property
    def spec(self) -> str:
        return f"usb:{self.vendor_id:04x}:{self.product_id:04x}" + (f":{self.serial}" if self.serial else "")

    def section(self) -> dict[str, object]:
        """The ``[devices.receipt_printer]`` section for this printer."""
        out: dict[str, object] = {
            "driver": "usb",
            "usb_vendor_id": self.vendor_id,
            "usb_product_id": self.product_id,
        }
        if self.serial:
            out["usb_serial"] = self.serial
        return out


def parse_spec(spec: str) -> UsbPrinter | None:
    """``usb:VID:PID[:SERIAL]`` (hex ids) as given on the command line; None when not that form."""
    match = _USB_SPEC.fullmatch(spec)
    if match is None:
        return None
    vid, pid, serial = match.groups()
    return UsbPrinter(int(vid, 16), int(pid, 16), serial or "", "", True)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def known_thermal(vendor_id: int, product_id: int) -> str | None:
    return THERMAL_USB_IDS.get((vendor_id, product_id)) or THERMAL_USB_IDS.get((vendor_id, None))


def usb_escpos_printers(sysfs: Path = SYSFS_USB) -> list[UsbPrinter]:
    """USB printers on this box, receipt printers first."""
    found: list[UsbPrinter] = []
    for dev in sorted(sysfs.glob("[0-9]*")):
        if ":" in dev.name:
            continue  # an interface, read below through its device
        vid_text, pid_text = _read(dev / "idVendor"), _read(dev / "idProduct")
        if not (vid_text and pid_text):
            continue
        try:
            vid, pid = int(vid_text, 16), int(pid_text, 16)
        except ValueError:
            continue
        classes = {_read(iface / "bInterfaceClass") for iface in dev.glob(f"{dev.name}:*")}
        known = known_thermal(vid, pid)
        if PRINTER_CLASS not in classes and known is None:
            continue
        product = _read(dev / "product") or known or ""
        receipt = known is not None or bool(_RECEIPT_WORDS.search(product))
        found.append(UsbPrinter(vid, pid, _read(dev / "serial"), product, receipt))
    return sorted(found, key=lambda p: not p.receipt)
