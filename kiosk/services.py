"""The citizen session's work: what each step does, on whatever devices are plugged in.

:class:`KioskService` is the kiosk core's one entry point for the UI.  Its
step methods block (device I/O, models, network) and are meant to run on a
worker thread; the UI facade turns the events they publish into Qt signals.
Every device, model or platform failure is turned into a :class:`Problem`
with the required action, and the session moves to a defined step: retry,
continue to manual review, or out of service.  Nothing here raises into the UI
except bugs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from devices.base import FAULT_STATUSES, DeviceError, DeviceStatus, RequiredAction
from devices.interfaces import (
    BarcodeReader,
    Camera,
    DocumentPrinter,
    IdCardRead,
    IdCardReader,
    PhotoDecoder,
    ReceiptPrinter,
)
from kiosk import logsetup, outputs, records
from kiosk import publicity as publicity_queue
from kiosk.config import TerminalConfig
from kiosk.face import FaceResult, FaceVerifier
from kiosk.forms import known_values
from kiosk.identity import mask_id_number
from kiosk.items import ItemPackage, load_package, search
from kiosk.materials import CrossCheckResult, ExtractedField, FieldSpec, cross_check, extract_fields
from kiosk.ocr import OcrEngine
from kiosk.outbox import JOB_ATTACHMENT, OutboxDrainer
from kiosk.pagecapture import capture_page
from kiosk.platform_client import PlatformClient
from kiosk.records import Ledger
from kiosk.review import Decision, Outcome, ReviewEngine, build_inputs
from kiosk.rulesync import RuleSync, last_verified_at
from kiosk.session import EndReason, SessionData, SessionMachine, Step
from kiosk.warnings import WarningHit, WarningList, check_warnings, load_warning_list
from offline_cache.store import NewAttachment, OutboxState, StorageError, Store

log = logging.getLogger(__name__)


_PICKUP = {
    Outcome.APPROVE: "本机打印，请取走证照",
    Outcome.MANUAL: "审核通过后窗口领取或邮寄",
    Outcome.REJECT: "无",
}
EventSink = Callable[[str, Any], None]


# --------------------------------------------------------------------------- values
@dataclass(frozen=True)
class Problem:
    """A failure the citizen sees, with what clears it and where the session can go next."""

    device: str  # idcard | camera | document_camera | receipt_printer | document_printer | platform | storage
    action: RequiredAction
    detail_key: str  # i18n key of the specific message
    retry_step: Step | None  # the step to retry, None when retrying makes no sense
    allow_manual: bool  # the citizen may continue with the case transferred to manual review

    @property
    def title_key(self) -> str:
        return f"problem.{self.device}"


@dataclass(frozen=True)
class MaterialResult:
    material_type: str
    fields: Mapping[str, ExtractedField]
    checks: tuple[CrossCheckResult, ...]
    ocr_ms: float
    image_sha256: str
    image_jpeg: bytes = field(repr=False)
    capture_issues: tuple[str, ...] = ()  # kiosk.pagecapture.CaptureIssue values


@dataclass(frozen=True)
class FormField:
    key: str
    label: tuple[str, str]
    value: str
    readonly: bool
    prefilled: bool
    required: bool
    kind: str


@dataclass(frozen=True)
class SubmitResult:
    case_id: str
    acknowledged: bool
    queued: bool


@dataclass(frozen=True)
class PrintResult:
    receipt_printed: bool
    certificate_printed: bool
    certificate_number: str | None
    problem: Problem | None


@dataclass
class Devices:
    idcard: IdCardReader
    camera: Camera
    document_camera: Camera
    receipt_printer: ReceiptPrinter
    document_printer: DocumentPrinter
    photo_decoder: PhotoDecoder
    barcode: BarcodeReader | None = None

    def statuses(self) -> dict[str, DeviceStatus]:
        out: dict[str, DeviceStatus] = {}
        for name in ("idcard", "camera", "document_camera", "receipt_printer", "document_printer", "barcode"):
            dev = getattr(self, name)
            if dev is None:
                continue
            try:
                out[name] = dev.status()
            except Exception:  # a status query must never take the terminal down
                log.exception("status of %s failed", name)
                out[name] = DeviceStatus.HARDWARE_ERROR
        return out


# --------------------------------------------------------------------------- service
class KioskService:
    """The kiosk core as the UI sees it."""

    def __init__(
        self,
        config: TerminalConfig,
        devices: Devices,
        store: Store,
        client: PlatformClient,
        face: FaceVerifier,
        ocr: OcrEngine,
        review: ReviewEngine | None = None,
        drainer: OutboxDrainer | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
        *,
        rulesync: RuleSync | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.config = config
        self.devices = devices
        self.store = store
        self.client = client
        self.face = face
        self.ocr = ocr
        self.review_engine = review or ReviewEngine()
        self.drainer = drainer or OutboxDrainer(store, client)
        self.rulesync = rulesync
        self.ledger = ledger
        self.machine = SessionMachine()
        self._clock = clock
        self._listeners: list[EventSink] = []
        self._packages: dict[str, ItemPackage] = {}
        self._warning_lists: dict[str, WarningList] = {}
        self._review_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review")
        self._cancel = threading.Event()
        self.machine.subscribe(self._on_step)

    def _on_step(self, old: Step, new: Step) -> None:
        if new is Step.ATTRACT:
            logsetup.clear_sensitive()
        self._emit("step", new)

    # ------------------------------------------------------------------ events
    def subscribe(self, sink: EventSink) -> None:
        self._listeners.append(sink)

    def _emit(self, kind: str, payload: Any) -> None:
        for sink in list(self._listeners):
            try:
                sink(kind, payload)
            except Exception:
                log.exception("event listener failed for %s", kind)

    @property
    def step(self) -> Step:
        return self.machine.step

    @property
    def data(self) -> Any:
        return self.machine.data

    # ------------------------------------------------------------------ catalogue and sync
    def load_cached(self) -> int:
        """Activate what the offline cache holds (start-up, network or not)."""
        for stored in self.store.active_packages():
            try:
                pkg = load_package(stored.body)
            except Exception:
                log.exception("cached package %s is unusable", stored.item_id)
                continue
            self._packages[pkg.id] = pkg
        for blob in self.store.warning_lists():
            try:
                self._warning_lists[blob.name] = load_warning_list(blob.body)
            except Exception:
                log.exception("cached warning list %s is unusable", blob.name)
        return len(self._packages)

    def sync(self) -> dict[str, str]:
        """TUF-verified sync of packages and warning lists (kiosk/rulesync.py).

        A package activates only if its golden cases pass; a failed sync (network,
        signatures, rollback, expiry) keeps the last verified versions serving.  Returns
        item id / list name → "activated" | "unchanged" | "rejected: ...", or {"error": ...}."""
        if self.rulesync is None:
            raise RuntimeError("no rule sync configured")
        report = self.rulesync.sync()
        for pkg in report.activated:
            self._packages[pkg.id] = pkg
        for wl in report.warning_lists:
            self._warning_lists[wl.name] = wl
        if not report.ok:
            return {"error": report.error or "sync failed"}
        return report.result_map

    def catalogue(self) -> list[ItemPackage]:
        return sorted(self._packages.values(), key=lambda p: p.id)

    def search_items(self, query: str) -> list[ItemPackage]:
        return list(search(self.catalogue(), query))

    def package(self, item_id: str) -> ItemPackage:
        return self._packages[item_id]

    # ------------------------------------------------------------------ session steps
    def start(self) -> None:
        self._cancel.clear()
        self.machine.go(Step.CHOOSE_ITEM)

    def choose_item(self, item_id: str) -> None:
        if item_id not in self._packages:
            raise KeyError(item_id)
        self.machine.data.item_id = item_id
        self.machine.touch()
        self.machine.go(Step.READ_CARD)

    def read_card(self) -> IdCardRead | None:
        """Wait for the ID card and read it.  On success the session moves to the face check.

        Returns ``None`` when cancelled or timed out (the step stays); failures
        land in DEVICE_PROBLEM."""
        data = self.machine.data
        deadline = time.monotonic() + self.config.session.card_timeout_s
        self._cancel.clear()
        while time.monotonic() < deadline and not self._cancel.is_set():
            if self.machine.step is not Step.READ_CARD:
                return None
            try:
                read = self.devices.idcard.read_card(timeout=0.5)
            except DeviceError as err:
                self._problem("idcard", err, retry=Step.READ_CARD, data=data)
                return None
            if read is None:
                continue
            return self._accept_card(read)
        return None

    def _accept_card(self, read: IdCardRead) -> IdCardRead | None:
        data = self.machine.data
        data.card = read
        logsetup.register_sensitive(read.text.name, read.text.address)
        data.card_photo = self.devices.photo_decoder.decode(read.photo_raw)
        self.machine.touch()
        self.store.audit("card_read", {"session": data.session_id, "id": mask_id_number(read.text.id_number)})
        self._emit("card", read)
        self.machine.go(Step.FACE_CHECK, session=data)
        return read

    def cancel_wait(self) -> None:
        """Stop a blocking wait (card, face) so the worker returns promptly."""
        self._cancel.set()

    def check_face(self) -> FaceResult | None:
        """Verify the person in front of the camera against the card photo."""
        data = self.machine.data
        if data.card_photo is None:
            # No decodable photo on the card: the platform reference photo comes with the identity issue.
            data.staff_assisted_identity = True
            self.machine.go(Step.STAFF_ASSIST, session=data)
            return None
        data.face_attempts += 1
        self._cancel.clear()
        try:
            self.devices.camera.open()
            result = self.face.verify(
                data.card_photo,
                self._camera_frames(),
                timeout_s=self.config.session.face_timeout_s,
                max_frames=60,
            )
        except DeviceError as err:
            if data.face_attempts >= self.config.session.face_max_attempts:
                # The camera keeps failing: identity is checked by staff instead (case flagged).
                log.warning("camera failed %d times, staff-assisted identity: %s", data.face_attempts, err)
                data.staff_assisted_identity = True
                self.store.audit("face_check", {"session": data.session_id, "reason": "camera_failed"})
                self.machine.go(Step.STAFF_ASSIST, session=data)
            else:
                self._problem("camera", err, retry=Step.FACE_CHECK, data=data)
            return None
        finally:
            try:
                self.devices.camera.close()
            except DeviceError:
                log.warning("camera close failed", exc_info=True)
        data.face = result
        self.machine.touch()
        self.store.audit(
            "face_check",
            {
                "session": data.session_id,
                "matched": result.matched,
                "score": round(result.score, 4),
                "reason": result.reason.value,
            },
        )
        if result.matched:
            self.machine.go(Step.FORM, session=data)
        elif data.face_attempts >= self.config.session.face_max_attempts:
            data.staff_assisted_identity = True
            self.machine.go(Step.STAFF_ASSIST, session=data)
        else:
            self.machine.go(Step.FACE_CHECK, session=data)
        return result

    def _camera_frames(self) -> Any:
        while not self._cancel.is_set():
            frame = self.devices.camera.read_frame(timeout=2.0)
            self._emit("frame", frame)
            yield frame

    def staff_confirmed_identity(self) -> None:
        """Hall staff checked the identity in person: the case goes on, flagged for manual review."""
        self.machine.data.staff_assisted_identity = True
        self.machine.go(Step.FORM)

    def form_fields(self) -> list[FormField]:
        """The item's form with what the terminal already knows filled in."""
        pkg = self.package(self._item_id())
        known = self._known_values()
        fields: list[FormField] = []
        for spec in pkg.form:
            current = self.machine.data.form.get(spec.key)
            value = current if current is not None else known.get(spec.source or "", spec.default or "")
            fields.append(
                FormField(
                    key=spec.key,
                    label=(spec.label_zh, spec.label_en),
                    value=value,
                    readonly=spec.readonly,
                    prefilled=current is None and bool(value),
                    required=spec.required,
                    kind=spec.type,
                )
            )
        return fields

    def _known_values(self) -> dict[str, str]:
        data = self.machine.data
        materials = {t: {k: f.value for k, f in r.fields.items()} for t, r in data.materials.items()}
        card = data.card.text if data.card is not None else None
        return known_values(card, materials, self._clock().date())

    def submit_form(self, values: Mapping[str, str]) -> dict[str, str]:
        """Validate the form; on success go on.  Returns field key → i18n error key."""
        pkg = self.package(self._item_id())
        errors = pkg.validate_form(values)
        self.machine.touch()
        if errors:
            return errors
        self.machine.data.form = dict(values)
        self.machine.go(Step.MATERIALS if pkg.materials else Step.REVIEW)
        return {}

    def capture_material(self, material_type: str) -> MaterialResult | None:
        """Capture, OCR, extract and cross-check one material."""
        import cv2  # local: keeps start-up light

        data = self.machine.data
        pkg = self.package(self._item_id())
        spec = pkg.material(material_type)
        cam = self.devices.document_camera
        try:
            cam.open()
            try:
                image = cam.read_frame(timeout=5.0)
            finally:
                cam.close()
        except DeviceError as err:
            self._problem("document_camera", err, retry=Step.MATERIALS, data=data)
            return None
        t0 = time.perf_counter()
        # Find the page, correct perspective and 90° turns, and check legibility before OCR.
        capture = capture_page(image)
        image = capture.page
        lines = self.ocr.recognise(image)
        ocr_ms = (time.perf_counter() - t0) * 1000.0
        fields = extract_fields(
            lines,
            [FieldSpec(e.key, e.label_regex, e.value_regex, e.normaliser) for e in spec.extract],
        )
        expected = self._cross_check_expectations(spec.cross_checks)
        checks = tuple(cross_check(fields, expected))
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        jpeg_bytes = jpeg.tobytes() if ok else b""
        result = MaterialResult(
            material_type=material_type,
            fields=fields,
            checks=checks,
            ocr_ms=ocr_ms,
            image_sha256=hashlib.sha256(jpeg_bytes).hexdigest(),
            image_jpeg=jpeg_bytes,
            capture_issues=tuple(i.value for i in capture.issues),
        )
        data.materials[material_type] = result
        self.machine.touch()
        self._emit("material", result)
        return result

    def _cross_check_expectations(self, specs: Any) -> dict[str, str]:
        known = self._known_values()
        form = self.machine.data.form
        expected: dict[str, str] = {}
        for cc in specs:
            if cc.against.startswith("form."):
                value = form.get(cc.against.removeprefix("form."), "")
            else:
                value = known.get(cc.against, "")
            expected[cc.field] = value
        return expected

    def finish_materials(self) -> None:
        self.machine.go(Step.REVIEW)

    def run_review(self) -> Decision:
        """The intelligent review, within the standard's budget.

        Past the hard deadline (2 min by default) the case is transferred to
        manual review with the reason; an engine error does the same."""
        pkg = self.package(self._item_id())
        data = self.machine.data
        t0 = time.perf_counter()
        future = self._review_pool.submit(self._review_now, pkg)
        try:
            decision = future.result(timeout=self.config.session.review_deadline_s)
        except FutureTimeout:
            future.cancel()
            decision = self._fallback_decision(pkg, "review_timeout", t0)
        except Exception:
            log.exception("review failed for %s", pkg.id)
            decision = self._fallback_decision(pkg, "review_error", t0)
        if data.staff_assisted_identity and decision.outcome is Outcome.APPROVE:
            decision = decision.transferred(
                "staff_identity", ("身份由工作人员核验", "Identity checked by staff")
            )
        data.decision = decision
        self.store.audit(
            "review",
            {
                "session": data.session_id,
                "item": pkg.id,
                "outcome": decision.outcome.value,
                "reasons": list(decision.reasons),
                "ms": round(decision.elapsed_ms, 2),
            },
        )
        self._emit("decision", decision)
        self.machine.go(Step.CONFIRM_SIGN, session=data)
        return decision

    def _review_now(self, pkg: ItemPackage) -> Decision:
        data = self.machine.data
        today = self._clock().date()
        text = data.card.text
        identifiers = {"id_number": text.id_number, "name": text.name}
        for key in ("business_name", "business_scope"):
            if key in data.form:
                identifiers[key] = data.form[key]
        lists = [self._warning_lists[n] for n in pkg.warning_lists if n in self._warning_lists]
        hits: list[WarningHit] = check_warnings(lists, identifiers, today=today, expected=pkg.warning_lists)
        data.warnings = hits
        materials = {t: {k: f.value for k, f in r.fields.items()} for t, r in data.materials.items()}
        checks = {f"{t}.{c.field}": c.match for t, r in data.materials.items() for c in r.checks}
        inputs = build_inputs(
            pkg,
            card=text,
            form=data.form,
            materials=materials,
            cross_checks=checks,
            warning_hits=hits,
            today=today,
        )
        return self.review_engine.review(
            pkg,
            inputs,
            deadline_s=self.config.session.review_budget_s,
            # offline age: a package not confirmed by a verified sync for too long → manual review
            last_verified_at=last_verified_at(self.store, pkg.id) or 0.0,
            now=self._clock().timestamp(),
        )

    def _fallback_decision(self, pkg: ItemPackage, reason: str, t0: float) -> Decision:
        return Decision.manual_fallback(pkg, reason, elapsed_ms=(time.perf_counter() - t0) * 1000.0)

    def back_to_form(self) -> None:
        self.machine.go(Step.FORM)

    def submit(self, signature_png: bytes) -> SubmitResult | None:
        """Build the case, store it with its outbox entry in one transaction, start the upload."""
        data = self.machine.data
        data.signature_png = signature_png
        self.machine.go(Step.SUBMIT)
        case_id = str(uuid.uuid4())
        attachments = self._case_attachments()
        payload = self._case_payload(case_id, attachments)
        try:
            self.store.add_case(
                case_id,
                self._item_id(),
                payload,
                self._clock().timestamp(),
                attachments=list(attachments.values()),
            )
        except StorageError as err:
            log.error("storing case failed: %s", err)
            self._set_problem(
                Problem("storage", RequiredAction.MAINTENANCE, "problem.storage", None, allow_manual=False),
                data,
            )
            return None
        data.case_id = case_id
        self.store.audit("case_submitted", {"session": data.session_id, "case": case_id})
        if data.decision.outcome is Outcome.APPROVE:
            self._record_approval(data)
        self.drainer.kick()
        acknowledged = self._wait_for_ack(case_id, timeout_s=3.0)
        data.acknowledged = acknowledged
        result = SubmitResult(case_id=case_id, acknowledged=acknowledged, queued=not acknowledged)
        self._emit("submitted", result)
        self.machine.go(Step.RESULT, session=data)
        return result

    def _record_approval(self, data: SessionData) -> None:
        """§8.3.2/§8.4/§8.5: certificate number, publicity record, ledger entry and archive record.

        Written right after the case is stored (well within the 20 s §8.5 allows); a failure here
        is logged and audited but never loses the submitted case."""
        pkg = self.package(self._item_id())
        now = self._clock()
        text = data.card.text
        try:
            if pkg.certificate is not None:
                data.certificate_number = self._next_certificate_number(pkg)
            if self.ledger is None:
                return
            doc_name = pkg.certificate.title_zh if pkg.certificate is not None else pkg.name_zh
            authority = (
                pkg.certificate.authority.zh if pkg.certificate is not None else self.config.ui.hall_name
            )
            number = data.certificate_number or (data.case_id or "")
            publicity = records.PublicityRecord(
                party_name=text.name,
                party_type=records.PartyType.NATURAL_PERSON,
                id_type=records.IdType.RESIDENT_ID,
                id_number=text.id_number,
                upload_time=now,
                decision_document_name=doc_name,
                decision_document_number=number,
                authority=authority,
                permit_category=records.PermitCategory.OTHER,
                content=f"{pkg.name_zh}：准予办理",
                decision_date=now.date(),
                case_id=data.case_id or "",
            )
            entry = records.ledger_entry_for(
                case_id=data.case_id or "",
                terminal_id=self.config.terminal_id,
                item_id=pkg.id,
                item_name=pkg.name_zh,
                party_name=text.name,
                id_number=text.id_number,
                decision="approve",
                decided_at=now,
                certificate_number=data.certificate_number or "",
                publicity=publicity,
            )
            archived = self.ledger.record_approval(entry, publicity, now)
            publicity_queue.queue_publicity(self.store, publicity, now)  # b-outbox: to the platform
        except (OSError, ValueError, StorageError) as err:
            log.error("ledger/archive record failed for case %s: %s", data.case_id, err)
            self.store.audit("ledger_failed", {"case": data.case_id, "error": type(err).__name__})
            return
        self.store.audit(
            "ledger",
            {
                "case": data.case_id,
                "archive": archived.archive_id,
                "fixity": archived.fixity,
                "ms": round(archived.elapsed_ms, 1),
            },
        )

    def revoke_publicity(self, case_id: str, reason: str) -> str:
        """§8.4.4: a revoked decision stops being published: queue the revocation to the platform
        (after the publication) and archive the withdrawn record.  Returns the revocation's job id."""
        now = self._clock()
        job_id, withdrawn = publicity_queue.queue_revocation(self.store, case_id, reason, now)
        if self.ledger is not None:
            self.ledger.record_revocation(withdrawn, now)
        self.store.audit("publicity_revoked", {"case": case_id, "job": job_id})
        self.drainer.kick()
        return job_id

    def _wait_for_ack(self, case_id: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            stored = self.store.case(case_id)
            if stored is not None and stored.state is OutboxState.SENT:
                return True
            time.sleep(0.05)
        return False

    def _case_attachments(self) -> dict[str, NewAttachment]:
        """Material page images and the signature, uploaded in resumable chunks before the case body
        (b-outbox); the case references them by attachment id (and the platform by SHA-256)."""
        data = self.machine.data
        out = {
            f"material:{r.material_type}": NewAttachment(
                str(uuid.uuid4()), f"material:{r.material_type}", "image/jpeg", r.image_jpeg
            )
            for r in data.materials.values()
        }
        if data.signature_png:
            out["signature"] = NewAttachment(str(uuid.uuid4()), "signature", "image/png", data.signature_png)
        return out

    def _queue_certificate(self, case_id: str, pdf: bytes) -> None:
        """The certificate PDF goes to the platform as a late attachment of the case (its own job), from
        where ``GET /api/v1/cases/{case_id}/certificate`` serves it (b-outbox)."""
        attachment = NewAttachment(str(uuid.uuid4()), "certificate", "application/pdf", pdf)
        try:
            self.store.add_job(
                str(uuid.uuid4()),
                JOB_ATTACHMENT,
                json.dumps({"attachment_id": attachment.attachment_id}).encode("ascii"),
                self._clock().timestamp(),
                case_id=case_id,
                attachment=attachment,
            )
        except StorageError as err:
            log.error("queueing the certificate of case %s failed: %s", case_id, err)
            return
        self.drainer.kick()

    def _case_payload(self, case_id: str, attachments: dict[str, NewAttachment] | None = None) -> bytes:
        attachments = attachments or {}
        data = self.machine.data
        pkg = self.package(self._item_id())
        decision: Decision = data.decision
        text = data.card.text
        body = {
            "case_id": case_id,
            "terminal_id": self.config.terminal_id,
            "item": {"id": pkg.id, "version": pkg.version, "sha256": pkg.sha256},
            "submitted_at": self._clock().isoformat(),
            "applicant": {
                "name": text.name,
                "id_number": text.id_number,
                "sex": text.sex,
                "address": text.address,
                "card_valid_until": text.valid_until.isoformat() if text.valid_until else None,
            },
            "form": data.form,
            "materials": [
                {
                    "type": r.material_type,
                    "fields": {
                        k: {"value": f.value, "confidence": f.confidence} for k, f in r.fields.items()
                    },
                    "cross_checks": [{"field": c.field, "match": c.match} for c in r.checks],
                    "image_sha256": r.image_sha256,
                    "image_attachment": attachments[f"material:{r.material_type}"].attachment_id
                    if f"material:{r.material_type}" in attachments
                    else None,
                }
                for r in data.materials.values()
            ],
            "identity_evidence": {
                "card_read_at": data.card.read_at.isoformat(),
                "face_score": data.face.score if data.face is not None else None,
                "face_threshold": data.face.threshold if data.face is not None else None,
                "face_matched": data.face.matched if data.face is not None else None,
                "face_reason": data.face.reason.value if data.face is not None else None,
                "staff_assisted": data.staff_assisted_identity,
            },
            "warnings": [
                {"list": h.list_name, "version": h.list_version, "matched": h.matched, "stale": h.stale}
                for h in data.warnings
            ],
            "decision": decision.to_record(),
            "signature_attachment": attachments["signature"].attachment_id
            if "signature" in attachments
            else None,
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def print_outputs(self) -> PrintResult:
        """The receipt for every outcome, and the certificate when approved."""
        data = self.machine.data
        pkg = self.package(self._item_id())
        decision: Decision = data.decision
        text = data.card.text
        problem: Problem | None = None
        now = self._clock()
        receipt = outputs.build_receipt(
            outputs.ReceiptData(
                hall_name=self.config.ui.hall_name,
                item_name=pkg.name_zh,
                case_id=data.case_id or "",
                decision=decision.outcome.value,
                reasons=tuple(decision.reason_texts_zh),
                applicant_name_masked=outputs.mask_name(text.name),
                id_number_masked=outputs.mask_id_number(text.id_number),
                submitted_at=now,
                pickup_text=_PICKUP[decision.outcome],
                progress_url=f"https://zwfw.example.gov.cn/progress/{data.case_id}",
                contact_line=f"咨询电话 {self.config.ui.hall_contact}",
            )
        )
        receipt_ok = False
        try:
            self.devices.receipt_printer.print_receipt(receipt)
            receipt_ok = True
        except DeviceError as err:
            problem = self._to_problem("receipt_printer", err, retry=None)
            log.warning("receipt printing failed: %s", err)
        cert_ok = False
        cert_no: str | None = None
        if decision.outcome is Outcome.APPROVE and pkg.certificate is not None:
            cert_no = data.certificate_number or self._next_certificate_number(pkg)
            pdf = outputs.build_certificate_pdf(
                outputs.CertificateData(
                    title=pkg.certificate.title_zh,
                    number=cert_no,
                    holder_name=text.name,
                    id_number=text.id_number,
                    issue_date=now.date(),
                    authority=pkg.certificate.authority.zh,
                    verify_url=f"https://zwfw.example.gov.cn/verify/{cert_no}",
                )
            )
            if data.case_id:
                self._queue_certificate(data.case_id, pdf)
            try:
                self.devices.document_printer.print_pdf(pdf, title=cert_no)
                cert_ok = True
            except DeviceError as err:
                problem = problem or self._to_problem("document_printer", err, retry=None)
                log.warning("certificate printing failed: %s", err)
        self.store.audit(
            "outputs", {"session": data.session_id, "receipt": receipt_ok, "certificate": cert_ok}
        )
        result = PrintResult(receipt_ok, cert_ok, cert_no, problem)
        self._emit("printed", result)
        return result

    def _next_certificate_number(self, pkg: ItemPackage) -> str:
        """Coding rule: prefix + terminal + date + per-day sequence, persisted before use (never reused)."""
        today = self._clock().strftime("%Y%m%d")
        key = f"cert-seq:{today}"
        seq = int(self.store.get_meta(key) or "0") + 1
        self.store.set_meta(key, str(seq))  # persisted before use: never reused after a crash
        prefix = pkg.certificate.number_prefix if pkg.certificate else "Z"
        return f"{prefix}{self.config.terminal_id[-4:]}{today}{seq:04d}"

    def finish_result(self) -> None:
        self.machine.go(Step.RATING)

    def rate(self, rating: str) -> None:
        data = self.machine.data
        data.rating = rating
        self.store.audit("rating", {"session": data.session_id, "case": data.case_id, "rating": rating})
        self.machine.reset(EndReason.COMPLETED)

    def cancel(self, reason: EndReason = EndReason.CANCELLED) -> None:
        """Cancel from any step, or idle timeout: everything the session held is dropped."""
        self._cancel.set()
        old = self.machine.data
        if self.machine.step is not Step.ATTRACT:
            self.store.audit("session_end", {"session": old.session_id, "reason": reason.value})
        self.machine.reset(reason)

    def retry(self) -> None:
        """From DEVICE_PROBLEM: back to the step that failed."""
        problem: Problem | None = self.machine.data.problem
        if problem is None or problem.retry_step is None:
            self.cancel()
            return
        self.machine.data.problem = None
        self.machine.go(problem.retry_step)

    def continue_to_manual(self) -> None:
        """From DEVICE_PROBLEM: go on without the failed device; the case goes to manual review."""
        data = self.machine.data
        data.problem = None
        data.staff_assisted_identity = data.staff_assisted_identity or data.face is None
        self.machine.go(Step.FORM if data.card is not None else Step.READ_CARD)

    # ------------------------------------------------------------------ problems
    def _to_problem(self, device: str, err: DeviceError, retry: Step | None) -> Problem:
        detail = f"problem.{device}"
        if err.status is DeviceStatus.NO_MEDIA and device == "idcard":
            detail = "problem.card_removed"
        allow_manual = device in {"camera", "document_camera"}
        return Problem(device, err.action, detail, retry, allow_manual)

    def _problem(self, device: str, err: DeviceError, retry: Step | None, data: SessionData) -> None:
        log.warning("device problem on %s: %s", device, err)
        problem = self._to_problem(device, err, retry)
        self._set_problem(problem, data)

    def _set_problem(self, problem: Problem, data: SessionData) -> None:
        """Land in the defined state for ``problem`` found while serving session ``data``."""
        self.store.audit("device_problem", {"device": problem.device, "action": problem.action.value})
        self._emit("problem", problem)
        if problem.action is RequiredAction.MAINTENANCE and not problem.allow_manual:
            # The terminal cannot serve: whatever session is on ends (and is wiped) here.
            self.machine.reset(EndReason.OUT_OF_SERVICE)
            self.machine.data.problem = problem
            self.machine.go(Step.OUT_OF_SERVICE)
        elif self.machine.data is data:
            data.problem = problem
            self.machine.go(Step.DEVICE_PROBLEM, session=data)
        else:
            log.info("device problem of an ended session: %s", problem.device)

    def try_leave_out_of_service(self) -> bool:
        """Back to the attract screen once the device that failed answers again.

        Called periodically while out of service.  The ID card reader is probed
        actively (opening it checks that the module answers); other devices by
        their status.  Storage faults need staff and are not left automatically."""
        if self.machine.step is not Step.OUT_OF_SERVICE:
            return True
        problem: Problem | None = self.machine.data.problem
        device = problem.device if problem is not None else "idcard"
        try:
            if device == "idcard":
                self.devices.idcard.open()
            elif device == "storage":
                return False
            else:
                dev = getattr(self.devices, device, None)
                if dev is not None and dev.status() in FAULT_STATUSES:
                    return False
        except DeviceError as err:
            log.debug("still out of service: %s", err)
            return False
        self.store.audit("back_in_service", {"device": device})
        self.machine.reset(EndReason.COMPLETED)
        return True

    def _item_id(self) -> str:
        item = self.machine.data.item_id
        if item is None:
            raise RuntimeError("no item chosen")
        return item

    def close(self) -> None:
        self._cancel.set()
        self._review_pool.shutdown(wait=False, cancel_futures=True)
