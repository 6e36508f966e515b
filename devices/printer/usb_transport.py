"""USB transport for ESC/POS receipt printers (pyusb on libusb-1.0): the printer-class interface's
bulk OUT endpoint carries the job, its bulk IN endpoint the real-time status answers.

Why not python-escpos's ``escpos.printer.Usb``: it resets the device on every open (the
printer re-enumerates; the driver opens once per job and status query), assumes endpoints
0x01/0x82 (models differ: 0x02/0x81, 0x03/0x84), reads without a caller's time limit and has
a quiet ``raise_not_found=False`` mode.  This transport takes the same pyusb calls, finds the
endpoints in the interface descriptor and maps every libusb failure onto the device errors the
TCP and serial transports raise, so :class:`devices.printer.escpos_printer.EscPosReceiptPrinter`
(and its status parsing: paper out, near end) is the same for all three.

The unit boundary is :class:`UsbBus` (find a device, release it): tests put a fake pyusb device
behind it; the default one is pyusb's ``usb.core.find`` / ``usb.util.dispose_resources``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from devices.base import DeviceNotFound, DeviceStatus, DeviceTimeout

logger = logging.getLogger(__name__)
wire = logging.getLogger("devices.printer.wire")

#: USB interface class of printers (ESC/POS thermal printers and A4 printers alike).
PRINTER_CLASS = 0x07
_BULK = 0x02
_DIR_IN = 0x80


class UsbBus(Protocol):
    """Where USB devices come from: pyusb, or a fake at the unit boundary."""

    def find(self, vendor_id: int, product_id: int, serial_number: str | None) -> Any | None: ...

    def release(self, device: Any) -> None: ...


class PyUsbBus:
    """pyusb on libusb-1.0 (Debian ``libusb-1.0-0``)."""

    def find(self, vendor_id: int, product_id: int, serial_number: str | None) -> Any | None:
        import usb.core

        def matches(dev: Any) -> bool:
            if serial_number is None:
                return True
            try:
                return bool(dev.serial_number == serial_number)
            except (usb.core.USBError, ValueError):  # no permission to read strings, no string
                return False

        return usb.core.find(idVendor=vendor_id, idProduct=product_id, custom_match=matches)

    def release(self, device: Any) -> None:
        import usb.util

        usb.util.dispose_resources(device)


def _usb_errors() -> tuple[type[BaseException], ...]:
    try:
        import usb.core
    except ImportError:  # pragma: no cover - pyusb is a dependency; a fake bus needs none
        return (OSError,)
    return (usb.core.USBError, OSError)


def _is_timeout(err: BaseException) -> bool:
    name = type(err).__name__
    return name == "USBTimeoutError" or getattr(err, "errno", None) == 110  # ETIMEDOUT


class UsbTransport:
    """A byte pipe over a USB printer's bulk endpoints.  Explicit ``open``/``close``."""

    def __init__(
        self,
        vendor_id: int,
        product_id: int,
        *,
        serial_number: str | None = None,
        timeout: float = 5.0,
        device: str = "receipt_printer",
        bus: UsbBus | None = None,
    ) -> None:
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.serial_number = serial_number
        self.timeout = timeout
        self.device = device
        self._bus: UsbBus = bus if bus is not None else PyUsbBus()
        self._dev: Any | None = None
        self._iface = 0
        self._out = 0
        self._in: int | None = None
        self._packet = 64
        self._pending = b""  # bytes of an IN packet beyond what the last read asked for
        self._errors = _usb_errors()

    @property
    def name(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    @property
    def is_open(self) -> bool:
        return self._dev is not None

    def open(self) -> None:
        if self._dev is not None:
            return
        try:
            dev = self._bus.find(self.vendor_id, self.product_id, self.serial_number)
        except self._errors as err:
            raise DeviceNotFound(f"USB bus not readable: {err}", device=self.device) from err
        if dev is None:
            raise DeviceNotFound(
                f"no USB printer {self.name}"
                + (f" serial {self.serial_number}" if self.serial_number else ""),
                device=self.device,
                status=DeviceStatus.OFFLINE,
            )
        try:
            self._claim(dev)
        except self._errors as err:
            self._bus.release(dev)
            raise DeviceNotFound(
                f"USB printer {self.name} cannot be opened: {err}", device=self.device
            ) from err
        except DeviceNotFound:
            self._bus.release(dev)
            raise
        self._dev = dev
        self._pending = b""
        wire.debug("open usb %s (interface %d, out 0x%02x)", self.name, self._iface, self._out)

    def _claim(self, dev: Any) -> None:
        try:
            config = dev.get_active_configuration()
        except self._errors:  # not configured yet
            dev.set_configuration()
            config = dev.get_active_configuration()
        for iface in config:
            if iface.bInterfaceClass != PRINTER_CLASS:
                continue
            out_ep = in_ep = None
            for ep in iface:
                if ep.bmAttributes & 0x03 != _BULK:
                    continue
                if ep.bEndpointAddress & _DIR_IN:
                    in_ep = ep if in_ep is None else in_ep
                elif out_ep is None:
                    out_ep = ep
            if out_ep is None:
                continue
            number = iface.bInterfaceNumber
            try:
                if dev.is_kernel_driver_active(number):  # usblp holds it: raw access instead
                    dev.detach_kernel_driver(number)
            except NotImplementedError:
                pass
            self._iface = number
            self._out = out_ep.bEndpointAddress
            self._in = in_ep.bEndpointAddress if in_ep is not None else None
            self._packet = int(in_ep.wMaxPacketSize) if in_ep is not None else 64
            return
        raise DeviceNotFound(
            f"USB device {self.name} has no printer-class interface with a bulk OUT endpoint",
            device=self.device,
        )

    def close(self) -> None:
        if self._dev is None:
            return
        dev, self._dev = self._dev, None
        self._pending = b""
        try:
            self._bus.release(dev)
        except self._errors as err:
            logger.debug("releasing USB printer %s: %s", self.name, err)
        wire.debug("close usb %s", self.name)

    def _require(self) -> Any:
        if self._dev is None:
            raise DeviceNotFound("transport is not open", device=self.device, status=DeviceStatus.OFFLINE)
        return self._dev

    def write(self, data: bytes) -> None:
        dev = self._require()
        try:
            sent = dev.write(self._out, data, int(self.timeout * 1000))
        except self._errors as err:
            self.close()
            if _is_timeout(err):
                raise DeviceTimeout(f"printer did not take {len(data)} bytes", device=self.device) from err
            raise DeviceNotFound(
                f"USB printer lost while sending: {err}", device=self.device, status=DeviceStatus.OFFLINE
            ) from err
        if sent != len(data):
            self.close()
            raise DeviceTimeout(f"printer took {sent} of {len(data)} bytes", device=self.device)
        wire.debug("tx %d bytes", len(data))

    def read(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes; ``b""`` when nothing came in ``timeout`` s (or the printer has no
        IN endpoint: it cannot answer status queries)."""
        dev = self._require()
        if not self._pending:
            if self._in is None:
                return b""
            try:
                packet = dev.read(self._in, max(size, self._packet), max(1, int(timeout * 1000)))
            except self._errors as err:
                if _is_timeout(err):
                    return b""
                self.close()
                raise DeviceNotFound(
                    f"USB printer lost while reading: {err}", device=self.device, status=DeviceStatus.OFFLINE
                ) from err
            self._pending = bytes(packet)
        data, self._pending = self._pending[:size], self._pending[size:]
        if data:
            wire.debug("rx %d bytes", len(data))
        return data
