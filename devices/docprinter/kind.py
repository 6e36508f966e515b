"""The document (A4 / certificate) printer kind: config section ``[devices.document_printer]``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from devices.base import DeviceError
from devices.device_kind import SIMULATOR, DeviceContext, DeviceKind, SectionConfig
from devices.docprinter.cups import CupsDocumentPrinter
from devices.docprinter.ipp_printer import IppDocumentPrinter
from devices.docprinter.spool import PdfSpoolPrinter
from devices.interfaces import DocumentPrinter

log = logging.getLogger(__name__)


class DocumentPrinterConfig(SectionConfig):
    #: "auto": CUPS in the production profile; in the demo profile CUPS only when ``cups_server``
    #: names a cupsd whose queue answers (a private test cupsd), else the simulator's spool
    #: directory.  "simulator": the demo's spool directory.  "spool": PDFs into ``spool_dir``.
    #: "cups": always CUPS (``lp``/``lpstat`` in the C locale).  "ipp": the same queue through IPP
    #: (devices/docprinter/ipp_printer.py: paper out, offline and job states from CUPS's keywords).
    driver: Literal["auto", "simulator", "spool", "cups", "ipp"] = "auto"
    spool_dir: str = ""  # driver "spool": defaults to <data_dir>/spool
    cups_queue: str = "kiosk-a4"  # driver "cups": the certificate/A4 printer's queue
    cups_server: str = ""  # host[:port] (driver "ipp": or cupsd's socket path); empty = the local cupsd


def _cups(section: DocumentPrinterConfig, ctx: DeviceContext) -> CupsDocumentPrinter:
    return CupsDocumentPrinter(section.cups_queue, section.cups_server or None)


def _ipp(section: DocumentPrinterConfig, ctx: DeviceContext) -> IppDocumentPrinter:
    return IppDocumentPrinter(section.cups_queue, section.cups_server or None)


def _spool(section: DocumentPrinterConfig, ctx: DeviceContext) -> PdfSpoolPrinter:
    return PdfSpoolPrinter(Path(section.spool_dir) if section.spool_dir else ctx.data_dir / "spool")


def _resolve(section: DocumentPrinterConfig, ctx: DeviceContext) -> str:
    """Driver "auto": CUPS in production; in the demo CUPS only when a private cupsd's queue
    answers at ``cups_server`` (e.g. packaging/cups/start-test-cupsd.sh), else the spool
    directory of the simulator."""
    if section.driver != "auto":
        return section.driver
    if ctx.production:
        return "cups"
    if not section.cups_server:
        return SIMULATOR
    try:
        _cups(section, ctx).queue_state()
    except DeviceError as err:
        log.info("no private cupsd for the demo (%s): certificates go to the spool directory", err)
        return SIMULATOR
    log.info(
        "demo certificates print through the CUPS queue %s at %s", section.cups_queue, section.cups_server
    )
    return "cups"


def _simulate(workdir: Path) -> Path:
    """The demo's printer: a spool directory the tests and the demo read the PDFs from."""
    workdir.mkdir(parents=True, exist_ok=True)
    return workdir


def _attach(spool_dir: Path, section: DocumentPrinterConfig) -> PdfSpoolPrinter:
    return PdfSpoolPrinter(spool_dir)


DOCUMENT_PRINTER: DeviceKind[DocumentPrinterConfig, DocumentPrinter, Path] = DeviceKind(
    name="document_printer",
    config=DocumentPrinterConfig,
    interface=DocumentPrinter,
    drivers={"cups": _cups, "ipp": _ipp, "spool": _spool},
    simulate=_simulate,
    attach=_attach,
    resolve=_resolve,
    resolved=("auto",),
    description="A4 document printer (certificates, commitment forms)",
)
