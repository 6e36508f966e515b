"""The result step: the delivery choice, then the receipt (every outcome, in the session's
language), the window slips, the certificate when approved and printed here, and the commitment
form where the item has one."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from devices.base import DeviceError, RequiredAction
from devices.interfaces import AnyIdCardText, DocumentPrinter, ReceiptPrinter
from kiosk import i18n, logsetup
from kiosk.cases.outbox import JOB_ATTACHMENT, OutboxDrainer
from kiosk.hall.reference import progress_url
from kiosk.identity.cards import card_address
from kiosk.outputs import render as outputs
from kiosk.outputs.delivery import (
    EXPRESS_FIELDS,
    DeliveryChoice,
    DeliveryMethod,
    ExpressAddress,
    validate_express,
)
from kiosk.review.applicants import parties
from kiosk.review.engine import Decision, Outcome
from kiosk.review.items import ItemPackage
from kiosk.session.context import SessionContext
from kiosk.session.events import OutputsPrinted
from kiosk.session.machine import SessionData
from kiosk.session.steps.item_outputs import ItemOutput, fallback, item_outputs, needs_window, session_offers
from kiosk.session.steps.numbers import Numbering
from kiosk.session.steps.slips import receipt_delivery, window_slips
from kiosk.session.values import PrintResult, Problem
from offline_cache.store import NewAttachment, StorageError

log = logging.getLogger(__name__)

#: The store refused a write after the case was stored (a full disk): staff must free space.
STORAGE_PROBLEM = Problem("storage", RequiredAction.MAINTENANCE, "problem.storage", None, allow_manual=False)

_PICKUP = {
    Outcome.APPROVE: ("本机打印，请取走证照", "Printed here: take your certificate"),
    Outcome.MANUAL: ("审核通过后窗口领取或邮寄", "At the window or by post once approved"),
    Outcome.REJECT: ("无", "None"),
}


class OutputsStep:
    def __init__(
        self,
        ctx: SessionContext,
        receipt_printer: ReceiptPrinter,
        document_printer: DocumentPrinter,
        drainer: OutboxDrainer,
        numbering: Numbering,
    ) -> None:
        self.ctx = ctx
        self.receipt_printer = receipt_printer
        self.document_printer = document_printer
        self.drainer = drainer
        self.numbering = numbering

    # ------------------------------------------------------------------ delivery choice
    def delivery_options(self) -> tuple[tuple[DeliveryMethod, ...], DeliveryMethod | None]:
        """The delivery methods to offer for the current decision, and the one preselected.

        Empty when the item declares none (receipt only) or the decision delivers nothing."""
        data = self.ctx.data
        if data.application.decision is None:
            return (), None
        # a life event (一件事): every method some item offers for its own decision
        return session_offers(data, self.ctx.package(data))

    def express_prefill(self) -> dict[str, str]:
        """What the terminal knows for the express form: the card's name and address, the phone
        typed in the form.  The citizen edits it; the postal code is theirs to give."""
        data = self.ctx.data
        values = dict.fromkeys(EXPRESS_FIELDS, "")
        if data.identity.card is not None:
            values["recipient"] = data.identity.require_card().text.name
            values["address"] = card_address(data.identity.require_card().text)
        for spec in self.ctx.package(data).form:
            if spec.type == "phone" and data.application.form.get(spec.key):
                values["mobile"] = data.application.form[spec.key]
                break
        if data.case.delivery is not None and data.case.delivery.address is not None:
            values.update(data.case.delivery.address.to_record())
        return values

    def choose_delivery(
        self, method: DeliveryMethod | str, express: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Record the citizen's choice; field → i18n error key when it cannot be accepted.

        ``express`` carries the address fields (:data:`kiosk.outputs.delivery.EXPRESS_FIELDS`) for
        :attr:`DeliveryMethod.EXPRESS`; they are validated against the hall's jurisdiction."""
        offered, _default = self.delivery_options()
        try:
            chosen = DeliveryMethod(method)
        except ValueError:
            return {"method": "delivery.error.choice"}
        if chosen not in offered:
            return {"method": "delivery.error.choice"}
        self.ctx.touch()
        address: ExpressAddress | None = None
        if chosen is DeliveryMethod.EXPRESS:
            values = {k: (express or {}).get(k, "").strip() for k in EXPRESS_FIELDS}
            logsetup.register_sensitive(values["recipient"], values["address"])
            errors = validate_express(values, self.ctx.config.delivery.jurisdiction)
            if errors:
                return errors
            address = ExpressAddress(**values)
        self.ctx.data.case.delivery = DeliveryChoice(chosen, address)
        return {}

    def _progress_url(self, data: SessionData) -> str:
        """The receipt QR: the hall's progress URL base, the case id and its verifiable tag."""
        key = getattr(self.drainer.client, "lookup_key", None)
        base = self.ctx.config.ui.progress_url_base
        return progress_url(base, data.case.case_id, key if isinstance(key, bytes) else None)

    def settle_delivery(self, data: SessionData) -> None:
        """Before the case is written: the default delivery when the citizen left it, and a queue
        number when the outcome sends the citizen to a window (recorded in the case)."""
        offered, default = self.delivery_options()
        if data.case.delivery is not None and data.case.delivery.method not in offered:
            data.case.delivery = None  # chosen for an earlier decision (back to the form and again)
        if data.case.delivery is None and offered:
            method = fallback(offered, default)
            if method is not None:
                data.case.delivery = DeliveryChoice(method)
        if needs_window(item_outputs(data, self.ctx.package(data))) and data.case.queue_number is None:
            data.case.queue_number = self.numbering.next_queue()

    # ------------------------------------------------------------------ printing
    def print(self, language: i18n.Language | None = None) -> PrintResult:
        """The receipt for every outcome (in the session's language), the window slips, the
        certificate when approved and printed here, and the commitment form where the item has one."""
        ctx = self.ctx
        data = ctx.data
        pkg = ctx.package(data)
        decision = data.application.require_decision()
        lang: i18n.Language = language or i18n.language()
        now = ctx.clock()
        choice: DeliveryChoice | None = data.case.delivery
        problems: list[Problem] = []
        # each item by its own decision and delivery (one, or a life event's items: 一件事)
        items = item_outputs(data, pkg)
        certificates = self._certificate_numbers(data, items, problems)
        cert_no = ", ".join(certificates.values()) or None
        receipt_ok = self._print_receipt(data, pkg, decision, cert_no, lang, now, problems, items)
        slips: list[str] = []
        if receipt_ok:
            at_window = [n for o in items if (n := certificates.get(o.pkg.id)) and not o.prints_here]
            pickup = any(o.delivery is not None and o.delivery.method is DeliveryMethod.WINDOW for o in items)
            for kind, doc in window_slips(
                ctx.config,
                data,
                _applied_name(data, pkg),
                decision,
                ", ".join(at_window),
                lang,
                now,
                self._progress_url(data),
                pickup=pickup,
            ):
                try:
                    self.receipt_printer.print_receipt(doc)
                    slips.append(kind)
                except DeviceError as err:
                    problems.append(Problem.from_device("receipt_printer", err, None))
                    log.warning("%s slip printing failed: %s", kind, err)
                    break
        cert_jobs = [
            self._print_certificate(data, o, certificates[o.pkg.id], now, problems)
            for o in items
            if o.pkg.id in certificates and o.prints_here
        ]
        cert_job = next((j for j in cert_jobs if j is not None), None)
        commitment_job = self._print_commitment(data, pkg, decision, lang, now, problems)
        try:
            ctx.audit(
                "outputs",
                {
                    "session": data.session_id,
                    "receipt": receipt_ok,
                    "certificate": cert_job is not None,
                    "delivery": choice.method.value if choice is not None else None,
                    "slips": slips,
                    "queue_number": data.case.queue_number,
                    "commitment": commitment_job is not None,
                    "language": lang,
                },
            )
        except StorageError as err:  # printed already: a full disk costs the record only
            log.error("audit record outputs not written: %s", err)
            if STORAGE_PROBLEM not in problems:
                problems.append(STORAGE_PROBLEM)
        result = PrintResult(
            receipt_ok,
            cert_job is not None,
            cert_no,
            problems[0] if problems else None,
            delivery=choice.method.value if choice is not None else None,
            queue_number=data.case.queue_number,
            slips_printed=tuple(slips),
            commitment_printed=commitment_job is not None,
            certificate_job=cert_job,
            commitment_job=commitment_job,
        )
        ctx.publish(OutputsPrinted(result))
        return result

    def _certificate_numbers(
        self, data: SessionData, items: list[ItemOutput], problems: list[Problem]
    ) -> dict[str, str]:
        """Item id → certificate number of each approved item with a certificate (numbered when
        its case was stored; here when that could not be done)."""
        numbers: dict[str, str] = {}
        for o in items:
            if o.decision.outcome is not Outcome.APPROVE or o.pkg.certificate is None:
                continue
            number = data.case.item_certificates.get(o.pkg.id)
            if number is None and data.bundle is None:
                number = data.case.certificate_number
            try:
                numbers[o.pkg.id] = number or self.numbering.next_certificate(o.pkg)
            except StorageError as err:  # a full disk: no number can be issued; the receipt still prints
                log.error("no certificate number for case %s: %s", o.case_id, err)
                if STORAGE_PROBLEM not in problems:
                    problems.append(STORAGE_PROBLEM)
        return numbers

    def _print_receipt(
        self,
        data: SessionData,
        pkg: ItemPackage,
        decision: Decision,
        cert_no: str | None,
        lang: i18n.Language,
        now: dt.datetime,
        problems: list[Problem],
        items: list[ItemOutput],
    ) -> bool:
        ui = self.ctx.config.ui
        text = data.identity.require_card().text
        pickup_zh, pickup_en = _PICKUP[decision.outcome]
        receipt = outputs.build_receipt(
            outputs.ReceiptData(
                hall_name=ui.hall_name if lang == "zh" else ui.hall_name_en,
                # 一件事: the life event's name; the reasons list each item with its decision
                item_name=i18n.bilingual(*_applied_name(data, pkg), lang),
                case_id=data.case.case_number or data.case.case_id or "",
                decision=decision.outcome.value,
                reasons=decision.reason_texts_zh if lang == "zh" else decision.reason_texts_en,
                **receipt_parties(
                    data.application.form,
                    text,
                    authorised=pkg.applicants.authorised(data.application.materials),
                ),
                submitted_at=now,
                pickup_text=pickup_zh if lang == "zh" else pickup_en,
                progress_url=self._progress_url(data),
                contact_line=i18n.tr("receipt.contact", lang, v=ui.hall_contact),
                language=lang,
                delivery=receipt_delivery(data.case.delivery, decision),
                item_pickups=_item_pickups(data, items, lang),
                queue_number=data.case.queue_number or "",
                certificate_number=cert_no or "",
            )
        )
        try:
            self.receipt_printer.print_receipt(receipt)
        except DeviceError as err:
            problems.append(Problem.from_device("receipt_printer", err, None))
            log.warning("receipt printing failed: %s", err)
            return False
        return True

    def _print_certificate(
        self, data: SessionData, item: ItemOutput, cert_no: str, now: dt.datetime, problems: list[Problem]
    ) -> str | None:
        cert = item.pkg.certificate
        assert cert is not None
        text = data.identity.require_card().text
        pdf = outputs.build_certificate_pdf(
            outputs.CertificateData(
                title=cert.title_zh,
                number=cert_no,
                holder_name=text.name,
                id_number=text.id_number,
                issue_date=now.date(),
                authority=cert.authority.zh,
                verify_url=f"https://zwfw.example.gov.cn/verify/{cert_no}",
            )
        )
        if item.case_id:  # with the item's own case (a life event has one per item)
            self._queue_certificate(item.case_id, pdf)
        try:
            return self.document_printer.print_pdf(pdf, title=cert_no)
        except DeviceError as err:
            problems.append(Problem.from_device("document_printer", err, None))
            log.warning("certificate printing failed: %s", err)
            return None

    def _print_commitment(
        self,
        data: SessionData,
        pkg: ItemPackage,
        decision: Decision,
        lang: i18n.Language,
        now: dt.datetime,
        problems: list[Problem],
    ) -> str | None:
        commitment = pkg.outputs.commitment
        if (
            commitment is None
            or decision.outcome.value not in commitment.outcomes
            or not data.case.signature_png
        ):
            return None
        pdf = outputs.build_commitment_pdf(
            outputs.CommitmentData(
                title=i18n.bilingual(commitment.title.zh, commitment.title.en, lang),
                text=i18n.bilingual(commitment.text.zh, commitment.text.en, lang),
                originals=tuple(i18n.bilingual(o.zh, o.en, lang) for o in commitment.originals),
                item_name=i18n.bilingual(pkg.name_zh, pkg.name_en, lang),
                case_id=data.case.case_number or data.case.case_id or "",
                applicant_name=data.identity.require_card().text.name,
                id_number_masked=outputs.mask_id_number(data.identity.require_card().text.id_number),
                deadline=now.date() + dt.timedelta(days=commitment.deadline_days),
                signed_on=now.date(),
                signature_png=data.case.signature_png,
                authority=pkg.catalogue.department.zh,
                language=lang,
            )
        )
        try:
            return self.document_printer.print_pdf(pdf, title=f"commitment-{(data.case.case_id or '')[:8]}")
        except DeviceError as err:
            problems.append(Problem.from_device("document_printer", err, None))
            log.warning("commitment form printing failed: %s", err)
            return None

    def _queue_certificate(self, case_id: str, pdf: bytes) -> None:
        """The certificate PDF goes to the platform as a late attachment of the case (its own job), from
        where ``GET /api/v1/cases/{case_id}/certificate`` serves it."""
        attachment = NewAttachment(str(uuid.uuid4()), "certificate", "application/pdf", pdf)
        try:
            self.ctx.store.outbox.add(
                str(uuid.uuid4()),
                JOB_ATTACHMENT,
                json.dumps({"attachment_id": attachment.attachment_id}).encode("ascii"),
                self.ctx.clock().timestamp(),
                case_id=case_id,
                attachment=attachment,
            )
        except StorageError as err:
            log.error("queueing the certificate of case %s failed: %s", case_id, err)
            return
        self.drainer.kick()


def receipt_parties(
    form: Mapping[str, str], text: AnyIdCardText, *, authorised: bool = False
) -> dict[str, Any]:
    """The receipt's applicant (the principal or legal person) and, when someone applied for them,
    the person at the terminal in their role (``authorised``: the item's authorisation material
    was presented, so a legal person's authorised agent, not its representative): masked
    (kiosk.review.applicants)."""
    applying = parties(form, {"name": text.name, "id_number": text.id_number}, authorised=authorised)
    entity = applying.kind == "legal_person"
    number = str(applying.applicant["uscc" if entity else "id_number"])
    out: dict[str, Any] = {
        "applicant_name_masked": outputs.mask_name(str(applying.applicant["name"])),
        "id_number_masked": outputs.mask_id_number(number),
        "applicant_is_legal_person": entity,
    }
    if applying.agent is not None:
        out["agent_name_masked"] = outputs.mask_name(text.name)
        out["agent_id_number_masked"] = outputs.mask_id_number(text.id_number)
        out["agent_role"] = str(applying.agent["role"])
    return out


def _item_pickups(
    data: SessionData, items: list[ItemOutput], lang: i18n.Language
) -> tuple[tuple[str, outputs.ReceiptDelivery], ...]:
    """A life event's items delivered otherwise than the citizen chose, each with its own delivery."""
    if data.bundle is None:
        return ()
    chosen = data.case.delivery.method if data.case.delivery is not None else None
    out: list[tuple[str, outputs.ReceiptDelivery]] = []
    for o in items:
        delivered = receipt_delivery(o.delivery, o.decision)
        if delivered is not None and delivered.method != (chosen.value if chosen else None):
            out.append((i18n.bilingual(o.pkg.name_zh, o.pkg.name_en, lang), delivered))
    return tuple(out)


def _applied_name(data: SessionData, pkg: ItemPackage) -> tuple[str, str]:
    """What the citizen applied for: the life event (一件事) or the item."""
    name = data.bundle.name if data.bundle is not None else pkg.catalogue.name
    return name.zh, name.en
