"""Document (A4/certificate) printers.  For now a spool directory; CUPS comes later."""

from devices.docprinter.spool import PdfSpoolPrinter

__all__ = ["PdfSpoolPrinter"]
