"""证照打印/补打: a citizen's issued certificates and case receipts, reprinted after ID card + face.

* A **certificate** is fetched from the platform (``GET /api/v1/certificates/{id}``, checked
  against the listed SHA-256) and printed through the certificate printer (CUPS), as a case's
  certificate is.
* A **receipt** reprint is a 受理回执（补打）on the receipt printer: the case as the platform
  knows it now (reference, item, status, next step, where to collect) with the hall's verifiable
  progress QR, marked as a reprint.  The original receipt is not kept by the terminal (it held
  personal data), so the reprint is a fresh statement of the same case, not a byte copy.

Each reprint is printed first, then recorded on the platform (``POST /api/v1/reprints``, one
``Idempotency-Key`` per reprint, retried once) and in the audit trail (masked ID, document, job,
record).  A record the platform did not take (it is down) is queued in the outbox (job kind
``reprint``) with the same key and body: the drainer sends it once the platform is back, and the
key makes a re-send after a lost answer count once.  A printer fault (out of paper, queue stopped) prints nothing, records nothing, and
leaves the list as it was: the citizen can try again once staff have fixed the printer.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from devices.base import DeviceError
from devices.interfaces import DocumentPrinter, ReceiptDoc, ReceiptLine, ReceiptPrinter
from kiosk.cases.platform_hall import CaseProgress, HallPlatform
from kiosk.cases.platform_reprint import CertificateInfo, ReprintPlatform, ReprintRecord
from kiosk.cases.platform_transport import PlatformError
from kiosk.hall.identity import Audit, HallHolder
from kiosk.hall.reference import progress_url
from kiosk.i18n import tr

log = logging.getLogger(__name__)


class ReprintUnavailable(Exception):
    """The platform cannot list or hand over the documents."""


@dataclass(frozen=True)
class ReprintDoc:
    kind: Literal["certificate", "receipt"]
    ref: str  # certificate id, or the case reference of a receipt
    title: str  # the item's name
    number: str  # certificate number, or the case reference
    certificate: CertificateInfo | None = None
    case: CaseProgress | None = None


@dataclass(frozen=True)
class ReprintOutcome:
    doc: ReprintDoc
    printed: bool
    job: str | None = None
    record: ReprintRecord | None = None
    #: i18n key of what went wrong (printer fault, platform), None when printed.
    problem: str | None = None
    #: The printer's required action (e.g. "clear_by_staff") when it failed.
    action: str | None = None
    #: Printed, the record not taken by the platform: queued in the outbox for a later upload.
    queued: bool = False


def build_receipt_reprint(
    case: CaseProgress, *, hall_name: str, terminal_id: str, qr: str, now: dt.datetime, lang: str = "zh"
) -> ReceiptDoc:
    def text(value: str, *, bold: bool = False, align: str = "left") -> ReceiptLine:
        return ReceiptLine(kind="text", text=value, bold=bold, align=align)

    lines = [
        text(hall_name, bold=True, align="center"),
        text(tr("hall.reprint.receipt_title", lang), bold=True, align="center"),
        ReceiptLine(kind="feed"),
        text(tr("hall.progress.case", lang, ref=case.case_ref, item=case.item_name)),
        text(tr("hall.progress.status", lang, v=tr(f"hall.status.{case.status}", lang))),
    ]
    if case.next_step:
        lines.append(text(tr("hall.progress.next", lang, v=case.next_step)))
    if case.collect_at:
        lines.append(text(tr("hall.progress.collect", lang, v=case.collect_at)))
    lines += [
        text(tr("hall.reprint.printed_at", lang, v=now.strftime("%Y-%m-%d %H:%M"))),
        text(tr("hall.ticket.terminal", lang, v=terminal_id)),
        ReceiptLine(kind="qr", text=qr, align="center"),
        text(tr("hall.reprint.receipt_note", lang), align="center"),
        ReceiptLine(kind="cut"),
    ]
    return ReceiptDoc(tuple(lines))


class ReprintService:
    def __init__(
        self,
        platform: ReprintPlatform,
        hall: HallPlatform,
        receipt_printer: ReceiptPrinter | None,
        document_printer: DocumentPrinter | None,
        *,
        hall_name: str,
        terminal_id: str,
        progress_base: str,
        audit: Audit | None = None,
        queue: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.platform = platform
        self.hall = hall
        self.receipt_printer = receipt_printer
        self.document_printer = document_printer
        self.hall_name = hall_name
        self.terminal_id = terminal_id
        self.progress_base = progress_base
        self.audit = audit
        #: ``queue(idempotency_key, body)`` puts a record the platform did not take in the outbox.
        self.queue = queue

    def documents(self, holder: HallHolder) -> list[ReprintDoc]:
        """The holder's certificates (newest first), then the receipts of their cases."""
        try:
            certs = self.platform.certificates_for(holder.id_number)
            cases = self.hall.progress_for(holder.id_number)
        except (PlatformError, ValueError) as err:
            raise ReprintUnavailable(str(err)) from err
        docs = [
            ReprintDoc("certificate", c.certificate_id, c.item_name, c.certificate_number, certificate=c)
            for c in certs
        ]
        docs += [ReprintDoc("receipt", c.case_ref, c.item_name, c.case_ref, case=c) for c in cases]
        return docs

    def reprint(self, holder: HallHolder, doc: ReprintDoc, lang: str = "zh") -> ReprintOutcome:
        try:
            job = self._print(holder, doc, lang)
        except DeviceError as err:
            log.warning("reprint of %s %s not printed: %s", doc.kind, doc.ref, err)
            self._audit(holder, doc, "printer_fault", None, None)
            return ReprintOutcome(doc, printed=False, problem="hall.reprint.printer", action=err.action.value)
        except (PlatformError, ValueError) as err:
            log.warning("reprint of %s %s: the platform did not hand it over: %s", doc.kind, doc.ref, err)
            return ReprintOutcome(doc, printed=False, problem="hall.unavailable")
        record, queued = self._record(holder, doc, job)
        self._audit(holder, doc, "printed", job, record, queued=queued)
        return ReprintOutcome(doc, printed=True, job=job, record=record, queued=queued)

    def _print(self, holder: HallHolder, doc: ReprintDoc, lang: str) -> str:
        if doc.certificate is not None:
            if self.document_printer is None:
                raise DeviceError("no certificate printer", device="document_printer")
            pdf = self.platform.certificate_pdf(doc.certificate, holder.id_number)
            return self.document_printer.print_pdf(pdf, doc.certificate.certificate_number)
        if doc.case is None or self.receipt_printer is None:
            raise DeviceError("no receipt printer", device="receipt_printer")
        key = self.hall.client.lookup_key
        qr = progress_url(self.progress_base, doc.case.case_ref, key)
        receipt = build_receipt_reprint(
            doc.case,
            hall_name=self.hall_name,
            terminal_id=self.terminal_id,
            qr=qr,
            now=dt.datetime.now(),
            lang=lang,
        )
        self.receipt_printer.print_receipt(receipt)
        return f"receipt-{uuid.uuid4().hex[:12]}"

    def _record(self, holder: HallHolder, doc: ReprintDoc, job: str) -> tuple[ReprintRecord | None, bool]:
        """(the platform's record, queued?): sent now, else queued with the same key and body."""
        key = str(uuid.uuid4())
        for attempt in (1, 2):
            try:
                return self.platform.record(doc.kind, doc.ref, holder.id_number, job, key), False
            except (PlatformError, ValueError) as err:
                log.warning("reprint record (attempt %d) failed: %s", attempt, err)
        if self.queue is None:
            return None, False
        try:
            self.queue(key, self.platform.request_body(doc.kind, doc.ref, holder.id_number, job))
        except Exception as err:  # a full disk or a broken store: the audit trail still has the print
            log.error("reprint record of %s %s not queued: %s", doc.kind, doc.ref, err)
            return None, False
        log.info("reprint record of %s %s queued for a later upload", doc.kind, doc.ref)
        return None, True

    def _audit(
        self,
        holder: HallHolder,
        doc: ReprintDoc,
        outcome: str,
        job: str | None,
        record: ReprintRecord | None,
        *,
        queued: bool = False,
    ) -> None:
        if self.audit is None:
            return
        self.audit(
            "hall_reprint",
            {
                "id": holder.masked,
                "kind": doc.kind,
                "ref": doc.ref,
                "outcome": outcome,
                "job": job,
                "reprint_id": None if record is None else record.reprint_id,
                "queued": queued,
            },
        )
