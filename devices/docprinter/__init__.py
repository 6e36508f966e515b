"""Document (A4/certificate) printers: a CUPS queue (``lp``/``lpstat``) or a spool directory."""

from devices.docprinter.cups import CupsDocumentPrinter, QueueStopped
from devices.docprinter.spool import PdfSpoolPrinter

__all__ = ["CupsDocumentPrinter", "PdfSpoolPrinter", "QueueStopped"]
