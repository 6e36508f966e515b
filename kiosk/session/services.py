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

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from devices.base import FAULT_STATUSES, DeviceError, DeviceStatus, RequiredAction
from devices.interfaces import (
    BarcodeReader,
    Camera,
    DocumentKind,
    DocumentPrinter,
    IdCardRead,
    IdCardReader,
    IdCardText,
    PhotoDecoder,
    ReceiptPrinter,
)
from kiosk import i18n, logsetup
from kiosk.cases.outbox import JOB_ATTACHMENT, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformError
from kiosk.config import TerminalConfig
from kiosk.documents import capture as mc
from kiosk.documents.capture import MaterialResult
from kiosk.documents.elicence import ELicence, ELicenceSource
from kiosk.documents.extractors import EXTRACTORS
from kiosk.documents.ocr import OcrEngine
from kiosk.documents.pagecapture import capture_page
from kiosk.identity.cards import (
    applicant_fields,
    birth_date_from_id,
    card_address,
    mask_id_number,
    sensitive_values,
)
from kiosk.identity.face import FaceProgress, FaceResult, FaceVerifier, LivenessCheck
from kiosk.identity.face_prompts import FacePrompter
from kiosk.identity.qr import QrIdentity, QrIdentityVerifier, QrRefusal, QrVerification
from kiosk.outputs import publicity as publicity_queue
from kiosk.outputs import records
from kiosk.outputs import render as outputs
from kiosk.outputs.delivery import (
    EXPRESS_FIELDS,
    DeliveryChoice,
    DeliveryMethod,
    ExpressAddress,
    mask_address,
    mask_mobile,
    options_for,
    validate_express,
)
from kiosk.outputs.records import Ledger
from kiosk.review.engine import Decision, Outcome, ReviewEngine, build_inputs
from kiosk.review.items import ItemPackage, load_package, search
from kiosk.review.sync import RuleSync, last_verified_at
from kiosk.review.warnings import WarningHit, WarningList, check_warnings, load_warning_list
from kiosk.session.forms import known_values
from kiosk.session.machine import EndReason, SessionData, SessionMachine, Step
from offline_cache.store import NewAttachment, StorageError, Store

if TYPE_CHECKING:
    from kiosk.maintenance.service import MaintenanceService

log = logging.getLogger(__name__)


_PICKUP = {
    Outcome.APPROVE: "本机打印，请取走证照",
    Outcome.MANUAL: "审核通过后窗口领取或邮寄",
    Outcome.REJECT: "无",
}
_PICKUP_EN = {  # h-outputs: English receipts of items without a delivery choice
    Outcome.APPROVE: "Printed here: take your certificate",
    Outcome.MANUAL: "At the window or by post once approved",
    Outcome.REJECT: "None",
}
EventSink = Callable[[str, Any], None]


def _card_source(source: str | None) -> bool:
    """Whether a form field's value comes from the ID card."""
    return source is not None and source.startswith("idcard.")


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
    # h-outputs: delivery choice, window slips and the commitment form
    delivery: str | None = None  # kiosk.outputs.delivery.DeliveryMethod value
    queue_number: str | None = None
    slips_printed: tuple[str, ...] = ()  # "pickup", "queue"
    commitment_printed: bool = False
    certificate_job: str | None = None  # document printer job ids
    commitment_job: str | None = None


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
        elicences: ELicenceSource | None = None,
        qr: QrIdentityVerifier | None = None,
        liveness: LivenessCheck | None = None,
        face_prompter: FacePrompter | None = None,
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
        #: The citizen's e-licences held by the platform (materials step; None: not offered).
        self.elicences = elicences
        self._elicence_cache: tuple[str, list[ELicence]] | None = None  # (session id, licences)
        #: Verifies e-ID / government-app QR codes with the platform (identity without the card).
        self.qr = qr
        self.liveness = liveness  # None: the verifier's own check (kiosk/identity/face.py)
        self.face_prompter = face_prompter or FacePrompter()
        self.machine = SessionMachine()
        self._clock = clock
        self._listeners: list[EventSink] = []
        self._packages: dict[str, ItemPackage] = {}
        self._warning_lists: dict[str, WarningList] = {}
        self._review_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review")
        self._cancel = threading.Event()
        # Keyed digest of the ID number of the last card accepted; cleared once the reader has
        # seen no card.  A card still lying there from an earlier session is not taken for this
        # session's placement (the next citizen would get the previous one's identity).
        self._card_key = secrets.token_bytes(32)
        self._unlifted_card: bytes | None = None
        self._lift_watch: threading.Thread | None = None
        self._card_lock = threading.Lock()
        self._closing = threading.Event()
        self.machine.subscribe(self._on_step)
        self.maintenance: MaintenanceService | None = None  # hall staff's mode (terminal/runtime.py sets it)

    def _on_step(self, old: Step, new: Step) -> None:
        if new is Step.ATTRACT:
            logsetup.clear_sensitive()
            self._elicence_cache = None  # the last citizen's e-licences go with their session
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
        for stored in self.store.packages.active_all():
            try:
                pkg = load_package(stored.body)
            except Exception:
                log.exception("cached package %s is unusable", stored.item_id)
                continue
            self._packages[pkg.id] = pkg
        for blob in self.store.warning_lists.all():
            try:
                self._warning_lists[blob.name] = load_warning_list(blob.body)
            except Exception:
                log.exception("cached warning list %s is unusable", blob.name)
        return len(self._packages)

    def sync(self) -> dict[str, str]:
        """TUF-verified sync of packages and warning lists (kiosk/review/sync.py).

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
        asked = False
        while time.monotonic() < deadline and not self._cancel.is_set():
            if self.machine.step is not Step.READ_CARD:
                return None
            try:
                read = self.devices.idcard.read_card(timeout=0.5)
            except DeviceError as err:
                self._problem("idcard", err, retry=Step.READ_CARD, data=data)
                return None
            if read is None:
                self._unlifted_card = None  # the reader saw no card: whatever comes next is placed anew
                continue
            if self._unlifted_card is not None and self._card_digest(read) == self._unlifted_card:
                # The card of an earlier session, never lifted since (left behind, or the session
                # was cancelled): ask for it to be lifted and placed again; read nothing from it.
                if not asked:
                    asked = True
                    self.store.audit_trail.append(
                        "card_read", {"session": data.session_id, "refused": "not_lifted"}
                    )
                    self._emit("card_not_lifted", None)
                self._cancel.wait(0.3)
                continue
            return self._accept_card(read)
        return None

    def _card_digest(self, read: IdCardRead) -> bytes:
        return hmac.new(self._card_key, read.text.id_number.encode("utf-8"), hashlib.sha256).digest()

    @property
    def awaiting_card_lift(self) -> bool:
        """A card accepted earlier has not been seen lifted yet (it would not be read again)."""
        return self._unlifted_card is not None

    def _watch_card_lift(self) -> None:
        """Once a card is accepted, watch (every 0.5 s, find-card only) until it leaves the reader,
        so a citizen who takes the card and places it again between sessions is read at once.
        Not while a session reads cards itself (READ_CARD); only with a reader that can tell
        presence (``card_present``); otherwise the next READ_CARD notices the lift."""
        present: Callable[[], bool] | None = getattr(self.devices.idcard, "card_present", None)
        if present is None or (self._lift_watch is not None and self._lift_watch.is_alive()):
            return

        def watch() -> None:
            while self._unlifted_card is not None and not self._closing.wait(0.5):
                if self.machine.step is Step.READ_CARD:
                    continue
                watched = self._unlifted_card
                try:
                    lifted = not present()
                except DeviceError:
                    continue  # the reader's own problems surface where it is used
                with self._card_lock:
                    if lifted and self._unlifted_card == watched:
                        self._unlifted_card = None

        self._lift_watch = threading.Thread(target=watch, name="card-lift", daemon=True)
        self._lift_watch.start()

    def _accept_card(self, read: IdCardRead) -> IdCardRead | None:
        data = self.machine.data
        data.card = read
        with self._card_lock:
            self._unlifted_card = self._card_digest(read)
        self._watch_card_lift()
        logsetup.register_sensitive(*sensitive_values(read.text))
        data.card_photo = self.devices.photo_decoder.decode(read.photo_raw)
        data.identity_source, data.face_reference = "card", None
        self.machine.touch()
        self.store.audit_trail.append(
            "card_read", {"session": data.session_id, "id": mask_id_number(read.text.id_number)}
        )
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
            # No decodable card photo (no decoder, decode failure, QR identity): the platform's
            # reference photo of the holder; without one, hall staff check the identity.
            data.card_photo = self._platform_reference_photo(data)
            if data.card_photo is None:
                data.staff_assisted_identity = True
                data.staff_assist_reason = "staff.no_reference_photo"
                self.store.audit_trail.append(
                    "face_check", {"session": data.session_id, "reason": "no_reference_photo"}
                )
                self.machine.go(Step.STAFF_ASSIST, session=data)
                return None
            data.face_reference = "platform_reference"
        elif data.face_reference is None:
            data.face_reference = "card_photo"
        data.face_attempts += 1
        self._cancel.clear()
        try:
            self.devices.camera.open()
            result = self.face.verify(
                data.card_photo,
                self._camera_frames(),
                timeout_s=self.config.session.face_timeout_s,
                max_frames=60 if self.liveness is None else int(self.config.session.face_timeout_s * 30),
                liveness=self.liveness,
                on_progress=self._face_progress,
            )
        except DeviceError as err:
            if data.face_attempts >= self.config.session.face_max_attempts:
                # The camera keeps failing: identity is checked by staff instead (case flagged).
                log.warning("camera failed %d times, staff-assisted identity: %s", data.face_attempts, err)
                data.staff_assisted_identity = True
                self.store.audit_trail.append(
                    "face_check", {"session": data.session_id, "reason": "camera_failed"}
                )
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
        self.store.audit_trail.append(
            "face_check",
            {
                "session": data.session_id,
                "matched": result.matched,
                "score": round(result.score, 4) if math.isfinite(result.score) else None,
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

    def _platform_reference_photo(self, data: SessionData) -> Any:
        """The platform's reference photo of the holder, decoded to BGR; None when there is none."""
        if data.card is None:
            return None
        try:
            jpeg = self.client.reference_photo(data.card.text.id_number)
        except PlatformError as err:  # the message names only the keyed holder token, never the ID
            log.warning("reference photo lookup failed: %s", err)
            self.store.audit_trail.append(
                "reference_photo", {"session": data.session_id, "error": type(err).__name__}
            )
            return None
        image = None
        if jpeg is not None:
            image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("the platform's reference photo does not decode")
        self.store.audit_trail.append(
            "reference_photo", {"session": data.session_id, "found": image is not None}
        )
        return image

    # ------------------------------------------------------------------ QR identity (a-platform)
    @property
    def qr_available(self) -> bool:
        """A QR identity can be scanned here (a barcode reader and a verifier are configured)."""
        return self.qr is not None and self.devices.barcode is not None

    def identify_by_qr(self, timeout_s: float | None = None) -> QrVerification | None:
        """Identity from an e-ID / government-app QR code instead of the ID card.

        Waits for a code on the barcode reader (``timeout_s``, default the card timeout), has the
        platform verify it and, when valid, goes on like a card read without a card photo (the face
        check then uses the platform's reference photo).  A refusal is returned and published as
        ``qr_refused`` while the step stays on the card; ``None`` when cancelled, timed out, the
        session moved on, or no reader/verifier is configured."""
        data = self.machine.data
        reader = self.devices.barcode
        if self.qr is None or reader is None:
            log.warning("QR identity asked for, but no barcode reader or verifier is configured")
            return None
        wait = self.config.session.card_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + wait
        self._cancel.clear()
        while time.monotonic() < deadline and not self._cancel.is_set():
            if self.machine.step is not Step.READ_CARD or self.machine.data is not data:
                return None
            try:
                code = reader.read_code(timeout=0.5)
            except DeviceError as err:
                # The card still works: say so instead of taking the terminal out of service.
                log.warning("barcode reader failed during QR identity: %s", err)
                return self._qr_refused(data, QrVerification(None, QrRefusal.PLATFORM_UNAVAILABLE))
            if code is None:
                continue
            verification = self.qr.verify(code)
            if self.machine.data is not data:
                return None
            if verification.identity is None:
                return self._qr_refused(data, verification)
            self._accept_qr(verification.identity)
            return verification
        return None

    def _qr_refused(self, data: SessionData, verification: QrVerification) -> QrVerification:
        refusal = verification.refusal.value if verification.refusal is not None else "unknown"
        self.store.audit_trail.append("qr_identity", {"session": data.session_id, "refused": refusal})
        self.machine.touch()
        self._emit("qr_refused", verification)
        return verification

    def _accept_qr(self, identity: QrIdentity) -> None:
        data = self.machine.data
        number = identity.id_number.upper()
        today = self._clock().date()
        # What the code vouches for is the name and number; birth date and sex follow from the
        # number (GB 11643).  The platform verified the identity now, so it stands in for the
        # card's validity period; the address is typed on the form (see form_fields).
        text = IdCardText(
            name=identity.name,
            sex="1" if int(number[16]) % 2 else "2",
            nation="",
            birth_date=birth_date_from_id(number),
            address="",
            id_number=number,
            authority="",
            valid_from=today,
            valid_until=None,
        )
        data.card = IdCardRead(text=text, photo_raw=b"", read_at=self._clock())
        data.card_photo = None
        data.identity_source, data.face_reference = "qr", None
        logsetup.register_sensitive(identity.name)
        self.machine.touch()
        self.store.audit_trail.append(
            "card_read",
            {"session": data.session_id, "id": mask_id_number(number), "source": f"qr:{identity.source}"},
        )
        self._emit("card", data.card)
        self.machine.go(Step.FACE_CHECK, session=data)

    def _complete_qr_identity(self, pkg: ItemPackage, values: Mapping[str, str]) -> None:
        """The address a QR identity lacks, as the citizen typed it, joins the identity (case, outputs)."""
        data = self.machine.data
        typed = next((values.get(f.key, "").strip() for f in pkg.form if f.source == "idcard.address"), "")
        if typed and isinstance(data.card.text, IdCardText) and not data.card.text.address:
            logsetup.register_sensitive(typed)
            data.card = dataclasses.replace(
                data.card, text=dataclasses.replace(data.card.text, address=typed)
            )

    def _camera_frames(self) -> Any:
        while not self._cancel.is_set():
            frame = self.devices.camera.read_frame(timeout=2.0)
            self._emit("frame", frame)
            yield frame

    def _face_progress(self, progress: FaceProgress) -> None:
        """Per frame of the face check: the prompt (quality, challenge) for the screen and voice."""
        if progress.frames == 1:
            self.face_prompter.reset()
        self._emit("face_prompt", self.face_prompter.update(progress))

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
            readonly = spec.readonly
            if (
                readonly
                and not value
                and (
                    self.machine.data.identity_source == "qr"
                    or (current is None and _card_source(spec.source))
                )
            ):
                # what the identity should fill but cannot (the address: not in a QR identity,
                # not on a foreigner's card): the citizen types it
                readonly = False
            fields.append(
                FormField(
                    key=spec.key,
                    label=(spec.label_zh, spec.label_en),
                    value=value,
                    readonly=readonly,
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
        if self.machine.data.identity_source == "qr":
            self._complete_qr_identity(pkg, values)
        self.machine.go(Step.MATERIALS if pkg.materials else Step.REVIEW)
        return {}

    def capture_material(self, material_type: str) -> MaterialResult | None:
        """Capture one more page of a material, OCR it, and read the fields over all its pages."""
        page = self._capture_page(material_type)
        if page is None:
            return None
        spec = self.package(self._item_id()).material(material_type)
        expected = self._cross_check_expectations(spec.cross_checks)
        current = self.machine.data.materials.get(material_type)
        return self._set_material(material_type, mc.add_page(spec, current, page, expected))

    def _capture_page(self, material_type: str) -> mc.MaterialPage | None:
        """One page from the document camera: found, corrected, checked, OCR'd (None on a device problem)."""
        data = self.machine.data
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
        # Known layouts read only their regions; the engine settles 0/180 on the lines it finds
        # and the page it returns (possibly turned) is what the field boxes refer to.
        known = EXTRACTORS.get(material_type)
        regions = known.regions if known is not None else ((0.0, 0.0, 1.0, 1.0),)
        read = self.ocr.read_regions(capture.page, regions)
        ocr_ms = (time.perf_counter() - t0) * 1000.0
        return mc.make_page(read.page, read.lines, ocr_ms, [i.value for i in capture.issues])

    def _set_material(self, material_type: str, result: MaterialResult | None) -> MaterialResult | None:
        data = self.machine.data
        if result is None:
            data.materials.pop(material_type, None)
        else:
            data.materials[material_type] = result
        self.machine.touch()
        self._emit("material", result)
        return result

    def _material_now(self, material_type: str) -> tuple[Any, MaterialResult, dict[str, str]]:
        spec = self.package(self._item_id()).material(material_type)
        current = self.machine.data.materials.get(material_type)
        if current is None:
            raise KeyError(f"no {material_type} captured")
        return spec, current, self._cross_check_expectations(spec.cross_checks)

    # g-materials: multi-page materials, field confirmation, e-licence reuse
    def retake_page(self, material_type: str, index: int) -> MaterialResult | None:
        """Capture page ``index`` of a material again (the other pages stay)."""
        page = self._capture_page(material_type)
        if page is None:
            return None
        spec, current, expected = self._material_now(material_type)
        return self._set_material(material_type, mc.replace_page(spec, current, index, page, expected))

    def delete_page(self, material_type: str, index: int) -> MaterialResult | None:
        """Drop page ``index``; the material is gone when it was the last page."""
        spec, current, expected = self._material_now(material_type)
        return self._set_material(material_type, mc.delete_page(spec, current, index, expected))

    def confirm_pages(self, material_type: str) -> MaterialResult | None:
        """The citizen checked the thumbnails: these are the pages of the material."""
        _spec, current, _expected = self._material_now(material_type)
        return self._set_material(material_type, mc.confirm_pages(current))

    def confirm_field(self, material_type: str, key: str, value: str) -> dict[str, str]:
        """Confirm or correct a field on screen.  Returns field key → i18n error key (empty: accepted)."""
        spec, current, expected = self._material_now(material_type)
        try:
            result = mc.confirm_field(spec, current, key, value, expected)
        except mc.InvalidFieldValue:
            self.machine.touch()
            return {key: "form.invalid"}
        self._set_material(material_type, result)
        return {}

    def pending_materials(self) -> dict[str, tuple[str, ...]]:
        """Material type → what the citizen must still do: "pages" and/or flagged field keys."""
        pending: dict[str, tuple[str, ...]] = {}
        for mtype, result in self.machine.data.materials.items():
            todo = (() if result.pages_confirmed else ("pages",)) + result.pending_fields
            if todo:
                pending[mtype] = todo
        return pending

    def elicence_offers(self) -> dict[str, list[ELicence]]:
        """Material type → the citizen's e-licences that can stand for it (blocking: platform call).

        Looked up once per session; {} without an e-licence source, a card, or when offline."""
        data = self.machine.data
        if self.elicences is None or data.card is None or data.item_id is None:
            return {}
        cached = self._elicence_cache
        if cached is None or cached[0] != data.session_id:
            try:
                found = self.elicences.for_holder(data.card.text.id_number)
            except Exception:  # a lookup must never block the citizen: scan the paper instead
                log.exception("e-licence lookup failed")
                found = []
            cached = (data.session_id, found)
            self._elicence_cache = cached
        pkg = self.package(data.item_id)
        offers = {m.type: mc.matching_licences(m, cached[1]) for m in pkg.materials}
        return {t: lics for t, lics in offers.items() if lics}

    def use_elicence(self, material_type: str, licence_id: str) -> MaterialResult | None:
        """Fill a material from one of the offered e-licences (no OCR, no confirmation)."""
        data = self.machine.data
        cached = self._elicence_cache
        if cached is None or cached[0] != data.session_id:
            raise KeyError("no e-licences looked up in this session")
        licence = next((lic for lic in cached[1] if lic.licence_id == licence_id), None)
        if licence is None:
            raise KeyError(licence_id)
        spec = self.package(self._item_id()).material(material_type)
        expected = self._cross_check_expectations(spec.cross_checks)
        result = mc.from_elicence(spec, licence, expected)
        self.store.audit_trail.append(
            "elicence_used", {"session": data.session_id, "material": material_type, "licence": licence_id}
        )
        return self._set_material(material_type, result)

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

    def finish_materials(self) -> bool:
        """On to the review, once every material's pages and flagged fields are confirmed."""
        data = self.machine.data
        if self.pending_materials():
            self.machine.touch()
            return False
        for mtype, result in list(data.materials.items()):  # the form may have changed meanwhile
            spec = self.package(self._item_id()).material(mtype)
            data.materials[mtype] = mc.recheck(result, self._cross_check_expectations(spec.cross_checks))
        self.machine.go(Step.REVIEW)
        return True

    def run_review(self) -> Decision:
        """The intelligent review, within the standard's budget.

        Past the hard deadline (2 min by default) the case is transferred to
        manual review with the reason; an engine error does the same."""
        pkg = self.package(self._item_id())
        data = self.machine.data
        if self.pending_materials():  # a flagged field the citizen has not confirmed: a bug upstream
            raise RuntimeError("review refused: materials not confirmed by the citizen")
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
        self.store.audit_trail.append(
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
        self._settle_delivery(data)
        attachments = self._case_attachments()
        payload = self._case_payload(case_id, attachments)
        try:
            self.store.cases.add(
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
        self.store.audit_trail.append("case_submitted", {"session": data.session_id, "case": case_id})
        if data.decision.outcome is Outcome.APPROVE:
            self._record_approval(data)
        self.drainer.kick()
        acknowledged = self.drainer.wait_acknowledged(case_id, timeout_s=3.0)
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
                id_type=publicity.id_type,
            )
            archived = self.ledger.record_approval(entry, publicity, now)
            publicity_queue.queue_publicity(self.store, publicity, now)  # b-outbox: to the platform
        except (OSError, ValueError, StorageError) as err:
            log.error("ledger/archive record failed for case %s: %s", data.case_id, err)
            self.store.audit_trail.append(
                "ledger_failed", {"case": data.case_id, "error": type(err).__name__}
            )
            return
        self.store.audit_trail.append(
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
        self.store.audit_trail.append("publicity_revoked", {"case": case_id, "job": job_id})
        self.drainer.kick()
        return job_id

    def _case_attachments(self) -> dict[str, NewAttachment]:
        """Material page images, the signature and the face check's best frame, uploaded in resumable
        chunks before the case body (b-outbox); the case references them by attachment id (and the
        platform by SHA-256)."""
        data = self.machine.data
        out = {
            name: NewAttachment(str(uuid.uuid4()), name, "image/jpeg", page.jpeg)
            for r in data.materials.values()
            for i, page in enumerate(r.pages)
            for name in (f"material:{r.material_type}:{i}",)
        }
        if data.signature_png:
            out["signature"] = NewAttachment(str(uuid.uuid4()), "signature", "image/png", data.signature_png)
        if data.face is not None and data.face.best_frame:
            # issue 4: the best compared frame is the case's evidence of who was at the terminal
            out["face"] = NewAttachment(str(uuid.uuid4()), "face", "image/jpeg", data.face.best_frame)
        return out

    def _queue_certificate(self, case_id: str, pdf: bytes) -> None:
        """The certificate PDF goes to the platform as a late attachment of the case (its own job), from
        where ``GET /api/v1/cases/{case_id}/certificate`` serves it (b-outbox)."""
        attachment = NewAttachment(str(uuid.uuid4()), "certificate", "application/pdf", pdf)
        try:
            self.store.outbox.add(
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
            "applicant": applicant_fields(text),  # + document_kind, nationality (c-idcard)
            "form": data.form,
            "materials": [
                mc.case_record(
                    r,
                    [
                        attachments[f"material:{r.material_type}:{i}"].attachment_id
                        for i in range(len(r.pages))
                    ],
                )
                for r in data.materials.values()
            ],
            "identity_evidence": {
                "card_read_at": data.card.read_at.isoformat(),
                "face_score": data.face.score
                if data.face is not None and math.isfinite(data.face.score)
                else None,
                "face_threshold": data.face.threshold if data.face is not None else None,
                "face_matched": data.face.matched if data.face is not None else None,
                "face_reason": data.face.reason.value if data.face is not None else None,
                "staff_assisted": data.staff_assisted_identity,
                "identity_source": data.identity_source,
                "face_reference": data.face_reference,
                "face_frame_attachment": attachments["face"].attachment_id if "face" in attachments else None,
            },
            "warnings": [
                {"list": h.list_name, "version": h.list_version, "matched": h.matched, "stale": h.stale}
                for h in data.warnings
            ],
            "decision": decision.to_record(),
            "delivery": data.delivery.to_record() if data.delivery is not None else None,
            "queue_number": data.queue_number,
            "signature_attachment": attachments["signature"].attachment_id
            if "signature" in attachments
            else None,
        }
        return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def print_outputs(self, language: i18n.Language | None = None) -> PrintResult:
        """The receipt for every outcome (in the session's language), the window slips, the
        certificate when approved and printed here, and the commitment form where the item has one."""
        data = self.machine.data
        pkg = self.package(self._item_id())
        decision: Decision = data.decision
        text = data.card.text
        lang: i18n.Language = language or i18n.language()
        problem: Problem | None = None
        now = self._clock()
        choice: DeliveryChoice | None = data.delivery
        issues_certificate = decision.outcome is Outcome.APPROVE and pkg.certificate is not None
        cert_no: str | None = None
        if issues_certificate:
            cert_no = data.certificate_number or self._next_certificate_number(pkg)
        pickup = _PICKUP[decision.outcome] if lang == "zh" else _PICKUP_EN[decision.outcome]
        receipt = outputs.build_receipt(
            outputs.ReceiptData(
                hall_name=self.config.ui.hall_name if lang == "zh" else self.config.ui.hall_name_en,
                item_name=i18n.bilingual(pkg.name_zh, pkg.name_en, lang),
                case_id=data.case_id or "",
                decision=decision.outcome.value,
                reasons=decision.reason_texts_zh if lang == "zh" else decision.reason_texts_en,
                applicant_name_masked=outputs.mask_name(text.name),
                id_number_masked=outputs.mask_id_number(text.id_number),
                submitted_at=now,
                pickup_text=pickup,
                progress_url=f"https://zwfw.example.gov.cn/progress/{data.case_id}",
                contact_line=i18n.tr("receipt.contact", lang, v=self.config.ui.hall_contact),
                language=lang,
                delivery=self._receipt_delivery(choice, decision),
                queue_number=data.queue_number or "",
                certificate_number=cert_no or "",
            )
        )
        receipt_ok = False
        try:
            self.devices.receipt_printer.print_receipt(receipt)
            receipt_ok = True
        except DeviceError as err:
            problem = self._to_problem("receipt_printer", err, retry=None)
            log.warning("receipt printing failed: %s", err)
        slips: list[str] = []
        if receipt_ok:
            for kind, doc in self._window_slips(pkg, decision, choice, cert_no, lang, now):
                try:
                    self.devices.receipt_printer.print_receipt(doc)
                    slips.append(kind)
                except DeviceError as err:
                    problem = problem or self._to_problem("receipt_printer", err, retry=None)
                    log.warning("%s slip printing failed: %s", kind, err)
                    break
        cert_ok = False
        cert_job: str | None = None
        prints_here = choice is None or choice.method is DeliveryMethod.PRINT_HERE
        if issues_certificate and prints_here and cert_no is not None and pkg.certificate is not None:
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
                cert_job = self.devices.document_printer.print_pdf(pdf, title=cert_no)
                cert_ok = True
            except DeviceError as err:
                problem = problem or self._to_problem("document_printer", err, retry=None)
                log.warning("certificate printing failed: %s", err)
        commitment_job: str | None = None
        commitment = pkg.outputs.commitment
        if commitment is not None and decision.outcome.value in commitment.outcomes and data.signature_png:
            pdf = outputs.build_commitment_pdf(
                outputs.CommitmentData(
                    title=i18n.bilingual(commitment.title.zh, commitment.title.en, lang),
                    text=i18n.bilingual(commitment.text.zh, commitment.text.en, lang),
                    originals=tuple(i18n.bilingual(o.zh, o.en, lang) for o in commitment.originals),
                    item_name=i18n.bilingual(pkg.name_zh, pkg.name_en, lang),
                    case_id=data.case_id or "",
                    applicant_name=text.name,
                    id_number_masked=outputs.mask_id_number(text.id_number),
                    deadline=now.date() + dt.timedelta(days=commitment.deadline_days),
                    signed_on=now.date(),
                    signature_png=data.signature_png,
                    authority=pkg.catalogue.department.zh,
                    language=lang,
                )
            )
            try:
                commitment_job = self.devices.document_printer.print_pdf(
                    pdf, title=f"commitment-{(data.case_id or '')[:8]}"
                )
            except DeviceError as err:
                problem = problem or self._to_problem("document_printer", err, retry=None)
                log.warning("commitment form printing failed: %s", err)
        self.store.audit_trail.append(
            "outputs",
            {
                "session": data.session_id,
                "receipt": receipt_ok,
                "certificate": cert_ok,
                "delivery": choice.method.value if choice is not None else None,
                "slips": slips,
                "queue_number": data.queue_number,
                "commitment": commitment_job is not None,
                "language": lang,
            },
        )
        result = PrintResult(
            receipt_ok,
            cert_ok,
            cert_no,
            problem,
            delivery=choice.method.value if choice is not None else None,
            queue_number=data.queue_number,
            slips_printed=tuple(slips),
            commitment_printed=commitment_job is not None,
            certificate_job=cert_job,
            commitment_job=commitment_job,
        )
        self._emit("printed", result)
        return result

    # ------------------------------------------------------------------ delivery and slips (h-outputs)
    def delivery_options(self) -> tuple[tuple[DeliveryMethod, ...], DeliveryMethod | None]:
        """The delivery methods to offer for the current decision, and the one preselected.

        Empty when the item declares none (receipt only) or the decision delivers nothing."""
        pkg = self.package(self._item_id())
        decision: Decision | None = self.machine.data.decision
        declared = pkg.outputs.delivery
        if declared is None or decision is None:
            return (), None
        allowed = [DeliveryMethod(m) for m in declared.options]
        return options_for(allowed, DeliveryMethod(declared.default), decision.outcome.value)

    def express_prefill(self) -> dict[str, str]:
        """What the terminal knows for the express form: the card's name and address, the phone
        typed in the form.  The citizen edits it; the postal code is theirs to give."""
        data = self.machine.data
        values = dict.fromkeys(EXPRESS_FIELDS, "")
        if data.card is not None:
            values["recipient"] = data.card.text.name
            values["address"] = card_address(data.card.text)
        pkg = self.package(self._item_id())
        for spec in pkg.form:
            if spec.type == "phone" and data.form.get(spec.key):
                values["mobile"] = data.form[spec.key]
                break
        if data.delivery is not None and data.delivery.address is not None:
            values.update(data.delivery.address.to_record())
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
        self.machine.touch()
        address: ExpressAddress | None = None
        if chosen is DeliveryMethod.EXPRESS:
            values = {k: (express or {}).get(k, "").strip() for k in EXPRESS_FIELDS}
            logsetup.register_sensitive(values["recipient"], values["address"])
            errors = validate_express(values, self.config.delivery.jurisdiction)
            if errors:
                return errors
            address = ExpressAddress(**values)
        self.machine.data.delivery = DeliveryChoice(chosen, address)
        return {}

    def _settle_delivery(self, data: SessionData) -> None:
        """Before the case is written: the default delivery when the citizen left it, and a queue
        number when the outcome sends the citizen to a window (recorded in the case)."""
        offered, default = self.delivery_options()
        if data.delivery is not None and data.delivery.method not in offered:
            data.delivery = None  # chosen for an earlier decision (back to the form and again)
        if data.delivery is None and offered:
            fallback = default if default is not DeliveryMethod.EXPRESS else None
            fallback = fallback or next((m for m in offered if m is not DeliveryMethod.EXPRESS), None)
            if fallback is not None:
                data.delivery = DeliveryChoice(fallback)
        decision: Decision = data.decision
        to_window = decision.outcome is Outcome.MANUAL or (
            data.delivery is not None and data.delivery.method is DeliveryMethod.WINDOW
        )
        if to_window and decision.outcome is not Outcome.REJECT and data.queue_number is None:
            data.queue_number = self._next_queue_number()

    def _next_queue_number(self) -> str:
        """Queue ticket number: unique per terminal and day, on disk before it is printed."""
        today = self._clock().strftime("%Y%m%d")
        seq = self.store.meta.next_sequence(f"queue-seq:{today}")
        return outputs.queue_number(self.config.delivery.queue_prefix, seq)

    def _receipt_delivery(
        self, choice: DeliveryChoice | None, decision: Decision
    ) -> outputs.ReceiptDelivery | None:
        if choice is None:
            return None
        after_review = decision.outcome is not Outcome.APPROVE
        if choice.address is None:
            return outputs.ReceiptDelivery(choice.method.value, after_review=after_review)
        a = choice.address
        return outputs.ReceiptDelivery(
            choice.method.value,
            after_review=after_review,
            recipient_masked=outputs.mask_name(a.recipient),
            mobile_masked=mask_mobile(a.mobile),
            address_masked=mask_address(a.address),
            postal_code=a.postal_code,
        )

    def _window_slips(
        self,
        pkg: ItemPackage,
        decision: Decision,
        choice: DeliveryChoice | None,
        cert_no: str | None,
        lang: i18n.Language,
        now: dt.datetime,
    ) -> list[tuple[str, Any]]:
        """("pickup", doc) for a window pick-up and ("queue", doc) when a queue number was issued."""
        data = self.machine.data
        hall = self.config.ui.hall_name if lang == "zh" else self.config.ui.hall_name_en
        item_name = i18n.bilingual(pkg.name_zh, pkg.name_en, lang)
        slips: list[tuple[str, Any]] = []
        if choice is not None and choice.method is DeliveryMethod.WINDOW:
            slips.append(
                (
                    "pickup",
                    outputs.build_pickup_slip(
                        outputs.PickupSlipData(
                            hall_name=hall,
                            item_name=item_name,
                            case_id=data.case_id or "",
                            applicant_name_masked=outputs.mask_name(data.card.text.name),
                            certificate_number=cert_no or "",
                            queue_number=data.queue_number or "",
                            progress_url=f"https://zwfw.example.gov.cn/progress/{data.case_id}",
                            language=lang,
                        )
                    ),
                )
            )
        if data.queue_number:
            kind: Literal["pickup", "review"] = "review" if decision.outcome is Outcome.MANUAL else "pickup"
            slips.append(
                (
                    "queue",
                    outputs.build_queue_ticket(
                        outputs.QueueTicketData(
                            hall_name=hall,
                            number=data.queue_number,
                            kind=kind,
                            item_name=item_name,
                            case_id=data.case_id or "",
                            terminal_id=self.config.terminal_id,
                            issued_at=now,
                            language=lang,
                        )
                    ),
                )
            )
        return slips

    def _next_certificate_number(self, pkg: ItemPackage) -> str:
        """Coding rule: prefix + terminal + date + per-day sequence, persisted before use (never reused)."""
        today = self._clock().strftime("%Y%m%d")
        key = f"cert-seq:{today}"
        seq = int(self.store.meta.get(key) or "0") + 1
        self.store.meta.set(key, str(seq))  # persisted before use: never reused after a crash
        prefix = pkg.certificate.number_prefix if pkg.certificate else "Z"
        return f"{prefix}{self.config.terminal_id[-4:]}{today}{seq:04d}"

    def finish_result(self) -> None:
        self.machine.go(Step.RATING)

    def rate(self, rating: str) -> None:
        data = self.machine.data
        data.rating = rating
        self.store.audit_trail.append(
            "rating", {"session": data.session_id, "case": data.case_id, "rating": rating}
        )
        self.machine.reset(EndReason.COMPLETED)

    def cancel(self, reason: EndReason = EndReason.CANCELLED) -> None:
        """Cancel from any step, or idle timeout: everything the session held is dropped."""
        self._cancel.set()
        old = self.machine.data
        if self.machine.step is not Step.ATTRACT:
            self.store.audit_trail.append("session_end", {"session": old.session_id, "reason": reason.value})
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
        self.store.audit_trail.append(
            "device_problem", {"device": problem.device, "action": problem.action.value}
        )
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
        self.store.audit_trail.append("back_in_service", {"device": device})
        self.machine.reset(EndReason.COMPLETED)
        return True

    def _item_id(self) -> str:
        item = self.machine.data.item_id
        if item is None:
            raise RuntimeError("no item chosen")
        return item

    def close(self) -> None:
        self._cancel.set()
        self._closing.set()
        self._review_pool.shutdown(wait=False, cancel_futures=True)
