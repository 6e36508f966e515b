"""The sign-and-submit step: the case and its outbox entry stored in one transaction, the upload
started, and for an approval the certificate number, publicity record, ledger entry and archive
record (§8.3.2/§8.4/§8.5)."""

from __future__ import annotations

import logging
import uuid

from devices.interfaces import DocumentKind
from kiosk.cases.outbox import OutboxDrainer
from kiosk.outputs import publicity as publicity_queue
from kiosk.outputs import records
from kiosk.outputs.records import Ledger
from kiosk.review.engine import Outcome
from kiosk.review.items import ItemPackage
from kiosk.session.context import SessionContext
from kiosk.session.events import CaseSubmitted
from kiosk.session.machine import SessionData, Step
from kiosk.session.steps.case_record import case_attachments, case_payload, store_bundle
from kiosk.session.steps.numbers import Numbering, platform_case_number
from kiosk.session.steps.outputs import OutputsStep
from kiosk.session.values import SubmitResult
from offline_cache.store import StorageError

log = logging.getLogger(__name__)

#: How long the submitter waits for the platform's acknowledgement before showing "queued".
ACK_WAIT_S = 3.0


class SubmitStep:
    def __init__(
        self,
        ctx: SessionContext,
        drainer: OutboxDrainer,
        outputs: OutputsStep,
        numbering: Numbering,
        *,
        ledger: Ledger | None = None,
    ) -> None:
        self.ctx = ctx
        self.drainer = drainer
        self.outputs = outputs  # settles the delivery choice before the case is written
        self.numbering = numbering
        self.ledger = ledger

    def submit(self, signature_png: bytes) -> SubmitResult | None:
        """Build the case, store it with its outbox entry in one transaction, start the upload."""
        ctx = self.ctx
        data = ctx.data
        data.case.signature_png = signature_png
        ctx.go(Step.SUBMIT)
        pkg = ctx.package(data)
        case_id = str(uuid.uuid4())
        try:
            data.case.case_number = self.numbering.next_case_number()
        except StorageError as err:
            log.error("numbering the case failed: %s", err)
            ctx.storage_problem(data)
            return None
        self.outputs.settle_delivery(data)
        try:
            if data.bundle is not None:  # 一件事: every item's case in one transaction
                case_ids = store_bundle(ctx, data, data.bundle)
                case_id = case_ids[0]
                data.case.item_cases = dict(zip(data.bundle.item_ids, case_ids, strict=True))
            else:
                attachments = case_attachments(data)
                payload = case_payload(ctx.config, data, pkg, case_id, ctx.clock(), attachments)
                ctx.store.cases.add(
                    case_id, pkg.id, payload, ctx.clock().timestamp(), attachments=list(attachments.values())
                )
                case_ids = [case_id]
        except StorageError as err:
            log.error("storing case failed: %s", err)
            ctx.storage_problem(data)
            return None
        data.case.case_id = case_id
        # From here the case is safe in its own transaction: a disk that fills up now (issue 17,
        # finding 8) costs audit records and the approval's ledger entry, never the citizen's receipt.
        self._note("case_submitted", {"session": data.session_id, "case": case_id, "cases": len(case_ids)})
        if data.bundle is None:
            if data.application.require_decision().outcome is Outcome.APPROVE:
                self._record_approval(data, pkg, case_id)
        else:  # 一件事: each approved item's own records and certificate number
            for item_case, item in zip(case_ids, data.bundle.packages, strict=True):
                if data.application.item_decisions[item.id].outcome is Outcome.APPROVE:
                    self._record_approval(data, item, item_case)
        self.drainer.kick()
        acknowledged = all(self.drainer.wait_acknowledged(c, timeout_s=ACK_WAIT_S) for c in case_ids)
        data.case.acknowledged = acknowledged
        if acknowledged:  # the platform's number when it answered; the terminal's otherwise
            data.case.case_number = (
                platform_case_number(ctx.store.outbox.ack(case_id)) or data.case.case_number
            )
        result = SubmitResult(
            case_id=case_id,
            acknowledged=acknowledged,
            queued=not acknowledged,
            case_number=data.case.case_number or case_id,
        )
        ctx.publish(CaseSubmitted(result))
        ctx.go(Step.RESULT, session=data)
        return result

    def _record_approval(self, data: SessionData, pkg: ItemPackage, case_id: str) -> None:
        """Certificate number, publicity record, ledger entry and archive record.

        Written right after the case is stored (well within the 20 s §8.5 allows); a failure here
        is logged and audited but never loses the submitted case."""
        ctx = self.ctx
        now = ctx.clock()
        text = data.identity.require_card().text
        try:
            certificate_number = None
            if pkg.certificate is not None:
                certificate_number = self.numbering.next_certificate(pkg)
                data.case.item_certificates[pkg.id] = certificate_number
                data.case.certificate_number = data.case.certificate_number or certificate_number
            if self.ledger is None:
                return
            doc_name = pkg.certificate.title_zh if pkg.certificate is not None else pkg.name_zh
            authority = (
                pkg.certificate.authority.zh if pkg.certificate is not None else ctx.config.ui.hall_name
            )
            number = certificate_number or case_id
            publicity = records.PublicityRecord(
                party_name=text.name,
                party_type=records.PartyType.NATURAL_PERSON,
                id_type=(
                    records.IdType.RESIDENT_ID
                    if text.kind is DocumentKind.RESIDENT_ID
                    else records.IdType.FOREIGNER_PERMANENT_RESIDENCE
                ),
                id_number=text.id_number,
                upload_time=now,
                decision_document_name=doc_name,
                decision_document_number=number,
                authority=authority,
                permit_category=records.PermitCategory.OTHER,
                content=f"{pkg.name_zh}：准予办理",
                decision_date=now.date(),
                case_id=case_id,
            )
            entry = records.ledger_entry_for(
                case_id=case_id,
                terminal_id=ctx.config.terminal_id,
                item_id=pkg.id,
                item_name=pkg.name_zh,
                party_name=text.name,
                id_number=text.id_number,
                decision="approve",
                decided_at=now,
                certificate_number=certificate_number or "",
                publicity=publicity,
                id_type=publicity.id_type,
            )
            archived = self.ledger.record_approval(entry, publicity, now)
            publicity_queue.queue_publicity(ctx.store, publicity, now)  # to the platform, via the outbox
        except (OSError, ValueError, StorageError) as err:
            log.error("ledger/archive record failed for case %s: %s", case_id, err)
            self._note("ledger_failed", {"case": case_id, "error": type(err).__name__})
            return
        self._note(
            "ledger",
            {
                "case": case_id,
                "archive": archived.archive_id,
                "fixity": archived.fixity,
                "ms": round(archived.elapsed_ms, 1),
            },
        )

    def _note(self, event: str, details: dict[str, object]) -> None:
        """An audit record written after the case is stored: logged when the store cannot take it."""
        try:
            self.ctx.audit(event, details)
        except StorageError as err:
            log.error("audit record %s not written (the case is stored): %s", event, err)

    def revoke_publicity(self, case_id: str, reason: str) -> str:
        """§8.4.4: a revoked decision stops being published: queue the revocation to the platform
        (after the publication) and archive the withdrawn record.  Returns the revocation's job id."""
        now = self.ctx.clock()
        job_id, withdrawn = publicity_queue.queue_revocation(self.ctx.store, case_id, reason, now)
        if self.ledger is not None:
            self.ledger.record_revocation(withdrawn, now)
        self.ctx.audit("publicity_revoked", {"case": case_id, "job": job_id})
        self.drainer.kick()
        return job_id
