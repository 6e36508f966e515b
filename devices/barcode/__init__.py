"""Serial (USB-CDC / RS-232) barcode and QR scanners, and a pty simulator."""

from devices.barcode.scanner import SerialBarcodeReader

__all__ = ["SerialBarcodeReader"]
