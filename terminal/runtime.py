"""The composition root: builds a running terminal from its config (no Qt).

In the demo profile every device is a simulator speaking the device's real
wire protocol (a pty for the ID card reader, a TCP socket for the receipt
printer, image sources for the cameras, a spool directory for the document
printer) and a sandbox platform serves on 127.0.0.1.  The same drivers run
against hardware in the production profile.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.barcode.scanner import SerialBarcodeReader
from devices.barcode.simulator import BarcodeScannerSimulator
from devices.base import DeviceError
from devices.camera.opencv import OpenCvCamera
from devices.camera.simulator import SimulatedCamera, document_camera, document_source, media_path
from devices.docprinter.cups import CupsDocumentPrinter
from devices.docprinter.spool import PdfSpoolPrinter
from devices.idcard.driver import SerialIdCardReader
from devices.idcard.photo import SimulatorPhotoDecoder
from devices.idcard.simulator import IdCardSimulator
from devices.interfaces import BarcodeReader, DocumentPrinter
from devices.printer.escpos_printer import EscPosReceiptPrinter
from devices.printer.simulator import ReceiptPrinterSimulator
from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.staff_applet import StaffApplet
from kiosk.cases.crypto import (
    FieldAlgorithm,
    derive_key,
    load_or_create_machine_secret,
    load_or_create_terminal_key,
)
from kiosk.cases.lookup_key import load_lookup_key, save_lookup_key
from kiosk.cases.outbox import OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformError
from kiosk.cases.retention import RetentionWiper
from kiosk.cases.uploads import FieldKeyring
from kiosk.config import REPO_ROOT, Profile, TerminalConfig
from kiosk.documents.elicence_platform import PlatformELicenceSource, pin_elicence_key
from kiosk.documents.ocr import RapidOcrEngine
from kiosk.i18n import tr
from kiosk.identity.face import FaceVerifier, LivenessCheck, NoLivenessCheck
from kiosk.identity.face_prompts import FacePrompter
from kiosk.identity.liveness import ChallengeLiveness, ExternalLivenessCheck
from kiosk.identity.qr import QrIdentityVerifier
from kiosk.maintenance.service import LeaveReason, MaintenanceService
from kiosk.maintenance.staff_card import StaffCardAuthenticator, StaffRegistry, StaffRegistryError
from kiosk.maintenance.staff_watcher import CardReaders, StaffCardWatcher
from kiosk.outputs.records import Ledger
from kiosk.review.engine import ReviewEngine
from kiosk.review.sync import RuleSync, provision_root
from kiosk.session.assembly import build_session
from kiosk.session.catalogue import Catalogue
from kiosk.session.coordinator import SessionCoordinator
from kiosk.session.values import Devices
from offline_cache.store import Store
from terminal.docgen import render_lease

log = logging.getLogger(__name__)

ITEMS_DIR = REPO_ROOT / "items"
#: The demo profile's staff card (its key is made fresh for every run; never a real staff id).
DEMO_STAFF_ID = "DEMO-STAFF-01"


@dataclass(frozen=True)
class DemoCitizen:
    """A scripted citizen of the demo profile: which card, which face, which item."""

    key: str  # simulated card key (devices.idcard.sim_cards)
    item_id: str
    live_images: tuple[str, ...]  # media file names the face camera plays
    form: dict[str, str] = field(default_factory=dict)  # what the citizen types
    lease: dict[str, Any] | None = None  # lease document placed under the document camera


DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen("senior", "senior-card", ("obama_live1.jpg", "obama_live2.jpg")),
    DemoCitizen(
        "business",
        "business-registration",
        ("biden_live.jpg",),
        form={
            "business_name": "德城区建国便利店",
            "business_scope": "日用百货零售",
            "premises_address": "山东省德州市德城区新华路26号",
            "phone": "13905340000",
        },
        lease={
            "lessor": "德州市德城区新华物业管理有限公司",
            "lessee": "李建国",
            "lessee_id": "37140219880721003X",
            "premises_address": "山东省德州市德城区新华路26号",
            "term_start": dt.date(2025, 1, 1),
            "term_end": dt.date(2027, 12, 31),
        },
    ),
    DemoCitizen("expired", "resident-pension", ("kit_live.jpg",)),
)


class SimulatorBench:
    """The demo profile's simulated hardware, with the handles a script or test needs."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.idcard = IdCardSimulator().start()
        # Like /dev/serial/by-id: a stable name that follows the device across re-plugging.
        self.idcard_port = workdir / "dev" / "ttyIDCARD"
        self.idcard_port.parent.mkdir(parents=True, exist_ok=True)
        self.idcard_port.symlink_to(self.idcard.port)
        self.printer = ReceiptPrinterSimulator().start()
        # The QR/barcode scanner on a pty (e-ID QR codes: scanner.scan(token)).
        self.scanner = BarcodeScannerSimulator()
        self._camera_dir = workdir / "camera"
        self.camera = SimulatedCamera(self._camera_dir, [media_path("obama_live1.jpg")])
        self._doc_dir = workdir / "document_camera"
        self.spool_dir = workdir / "spool"
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.place_blank_page()
        # The staff card reader (no pcscd in the demo): an in-process PC/SC reader whose card runs
        # the same staff applet as the vpcd virtual card; the key lives only in this process.
        self.staff_reader = InProcessReaders()
        self.staff_key = secrets.token_bytes(32)
        # Simulates the IR/binocular face camera's OWN liveness result (what such a camera reports
        # through ExternalLivenessCheck), not a liveness check of the played photos: True = it sees
        # a live person, False = it reports an attack, None = no verdict yet.
        self.ir_liveness: bool | None = True

    def present_staff_card(self, staff_id: str = DEMO_STAFF_ID, key: bytes | None = None) -> None:
        """Put a staff card on the staff reader (``key``: another key, e.g. a cloned card)."""
        self.staff_reader.insert(StaffApplet(staff_id, self.staff_key if key is None else key))

    def remove_staff_card(self) -> None:
        self.staff_reader.remove()

    def ir_liveness_verdict(self) -> bool | None:
        """The simulated IR camera's verdict (the demo's ``face.liveness = "external"`` source)."""
        return self.ir_liveness

    def replug_idcard(self) -> None:
        """The reader comes back (after ``idcard.unplug()``): a new module behind the same name."""
        self.idcard.stop()
        self.idcard = IdCardSimulator().start()
        tmp = self.idcard_port.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self.idcard.port)
        tmp.replace(self.idcard_port)

    def present_face(self, images: Sequence[str]) -> None:
        """Put a person in front of the face camera (media file names or paths)."""
        paths = [Path(p) if Path(p).is_absolute() else media_path(p) for p in images]
        shutil.rmtree(self.camera.frames_dir, ignore_errors=True)
        self.camera = SimulatedCamera(self._camera_dir, paths)

    def place_document(self, page_bgr: Any) -> Path:
        return document_source(page_bgr, self._doc_dir, "page.png")

    def place_lease(self, **fields: Any) -> Path:
        return self.place_document(render_lease(**fields))

    def place_blank_page(self) -> Path:
        import numpy as np

        return self.place_document(np.full((2048, 1536, 3), 250, dtype=np.uint8))

    def stop(self) -> None:
        for stop in (self.idcard.stop, self.printer.stop, self.scanner.unplug):
            try:
                stop()
            except Exception:
                log.exception("stopping a simulator failed")


@dataclass
class Terminal:
    config: TerminalConfig
    session: SessionCoordinator
    store: Store
    client: PlatformClient
    drainer: OutboxDrainer
    bench: SimulatorBench | None
    sandbox: Any  # sandbox_platform.server.SandboxServer | None
    workdir: Path
    _owned_tmp: Path | None = None
    _warm_up: threading.Thread | None = None
    syncer: PeriodicSync | None = None
    maintenance: MaintenanceService | None = None
    staff_watcher: StaffCardWatcher | None = None
    retention: RetentionWiper | None = None  # b-outbox

    def warm_up(self) -> threading.Thread:
        """Load the models in the background once the attract screen is up."""

        def load() -> None:
            for name, model in (("face", self.session.face.verifier), ("ocr", self.session.materials.ocr)):
                try:
                    getattr(model, "load", lambda: None)()
                except Exception:
                    log.exception("loading the %s model failed", name)

        t = threading.Thread(target=load, name="warm-up", daemon=True)
        t.start()
        self._warm_up = t
        return t

    def close(self) -> None:
        if self._warm_up is not None:
            # Never leave a model half-loaded in native code when the process ends.
            self._warm_up.join(timeout=60)
        if self.staff_watcher is not None:
            self.staff_watcher.stop()
        if self.maintenance is not None and self.maintenance.active:
            self.maintenance.leave(LeaveReason.SHUTDOWN)
        if self.syncer is not None:
            self.syncer.stop()
        if self.retention is not None:
            self.retention.stop()
        self.drainer.stop()
        self.session.close()
        for dev in (
            self.session.devices.idcard,
            self.session.devices.camera,
            self.session.devices.document_camera,
            self.session.devices.receipt_printer,
            self.session.devices.document_printer,
        ):
            try:
                dev.close()
            except Exception:
                log.exception("closing %s failed", getattr(dev, "kind", dev))
        if self.session.devices.barcode is not None:
            try:
                self.session.devices.barcode.close()
            except Exception:
                log.exception("closing the barcode scanner failed")
        if self.bench is not None:
            self.bench.stop()
        if self.sandbox is not None:
            self.sandbox.close()
        self.client.close()
        self.store.close()
        if self._owned_tmp is not None:
            shutil.rmtree(self._owned_tmp, ignore_errors=True)


def build_terminal(
    config: TerminalConfig,
    workdir: Path | None = None,
    *,
    face: FaceVerifier | None = None,
    ocr: RapidOcrEngine | None = None,
) -> Terminal:
    """Start everything the config asks for.  The caller owns the result and must ``close()`` it."""
    owned: Path | None = None
    if workdir is None:
        workdir = config.data_path()
    workdir.mkdir(parents=True, exist_ok=True)
    sim_dir = Path(tempfile.mkdtemp(prefix="kiosk-sim-", dir=workdir))
    owned = sim_dir

    sandbox = None
    bench: SimulatorBench | None = None
    platform_url = config.platform.url
    if config.profile is Profile.DEMO:
        from sandbox_platform.server import SandboxServer

        sandbox = SandboxServer(workdir / "sandbox", ITEMS_DIR).start()
        platform_url = sandbox.url
        bench = SimulatorBench(sim_dir)
    if not platform_url:
        raise ValueError("platform.url is required outside the demo profile")

    devices = _build_devices(config, bench, workdir)
    # Keys: the store is encrypted with a key derived from the machine secret (docs/security.md);
    # requests to the platform are signed with the terminal's own Ed25519 key.
    secrets_dir = workdir / "secrets"
    machine_secret = load_or_create_machine_secret(secrets_dir / "machine.key")
    store = Store(
        workdir / "terminal.db", key=derive_key(machine_secret, "store", terminal_id=config.terminal_id)
    )
    client = PlatformClient(
        platform_url,
        config.terminal_id,
        timeout=config.platform.timeout_s,
        signing_key=load_or_create_terminal_key(secrets_dir / "signing.pem"),
        lookup_key=load_lookup_key(secrets_dir / LOOKUP_KEY_FILE),
    )
    # E-licences are believed only under the pinned platform key (docs/security.md).
    elicences = PlatformELicenceSource(client, pin_elicence_key(secrets_dir / ELICENCE_KEY_FILE, None))
    # b-outbox: cases and attachments travel sealed with the field key agreed with the platform.
    keyring = FieldKeyring(
        store,
        client,
        machine_secret,
        terminal_id=config.terminal_id,
        algorithm=FieldAlgorithm(config.platform.field_algorithm),
    )
    drainer = OutboxDrainer(store, client, cipher=keyring.cipher)
    review = ReviewEngine()
    tuf_dir = workdir / "tuf"
    rulesync = RuleSync(store, platform_url, tuf_dir / "metadata", tuf_dir / "targets", engine=review)
    session = build_session(
        config,
        devices,
        store,
        client,
        face or FaceVerifier(threshold=config.session.face_threshold),
        ocr or RapidOcrEngine(),
        review=review,
        drainer=drainer,
        rulesync=rulesync,
        ledger=Ledger(workdir / "ledger"),
        elicences=elicences,
        qr=QrIdentityVerifier(client),
        liveness=build_liveness(config, bench),
        face_prompter=build_face_prompter(config),
    )
    maintenance = MaintenanceService(
        session, client=client, drainer=drainer, log_dir=config.data_path() / "logs", data_dir=workdir
    )
    session.maintenance = maintenance
    try:
        client.enrol()
        _keep_enrolment(client, elicences, secrets_dir)
        if config.profile is Profile.DEMO:
            # Trust on first use, demo only: a provisioned terminal gets its TUF root from the
            # installer (docs/rule-package-sync.md).
            provision_root(platform_url, tuf_dir / "metadata")
    except (PlatformError, OSError) as err:
        log.warning("platform unreachable at start-up, serving from the cache: %s", err)
    else:
        log.info("sync: %s", session.catalogue.sync())
    drainer.start(interval_s=config.platform.upload_interval_s)
    syncer = PeriodicSync(session.catalogue, config.platform.sync_interval_s)
    syncer.start()
    watcher = _build_staff_watcher(config, maintenance, bench, secrets_dir)
    if watcher is not None:
        watcher.start()
    # b-outbox: personal data wiped after the retention period, at start and then on a schedule.
    retention = RetentionWiper(store, config.retention.personal_data_days)
    retention.start(config.retention.check_interval_s)
    return Terminal(
        config,
        session,
        store,
        client,
        drainer,
        bench,
        sandbox,
        workdir,
        owned,
        syncer=syncer,
        maintenance=maintenance,
        staff_watcher=watcher,
        retention=retention,
    )


def _staff_registry(config: TerminalConfig, bench: SimulatorBench | None, secrets_dir: Path) -> StaffRegistry:
    """The staff registry (docs/operations.md): a 0600 file, or the demo's simulated staff card."""
    if config.maintenance.staff_registry:
        path = Path(config.maintenance.staff_registry)
    elif bench is not None:
        return StaffRegistry({DEMO_STAFF_ID: bench.staff_key})
    else:
        path = secrets_dir / "staff.json"
    try:
        return StaffRegistry.load(path)
    except StaffRegistryError as err:
        # The terminal keeps serving citizens; only maintenance mode cannot be unlocked.
        log.error("maintenance mode cannot be unlocked: %s", err)
        return StaffRegistry({})


def _build_staff_watcher(
    config: TerminalConfig, maintenance: MaintenanceService, bench: SimulatorBench | None, secrets_dir: Path
) -> StaffCardWatcher | None:
    sc = config.devices.staff_card
    readers: Callable[[], CardReaders]
    if sc.driver == "pcsc":
        from devices.smartcard.pcsc import PcscReaders

        readers, reader = PcscReaders, sc.reader or None
    elif sc.driver == "simulator" and bench is not None:
        staff_reader = bench.staff_reader
        readers, reader = (lambda: staff_reader), staff_reader.name
    else:
        if sc.driver == "simulator":
            log.warning(
                "devices.staff_card.driver = simulator outside the demo profile: no staff card reader"
            )
        return None
    _staff_registry(config, bench, secrets_dir)  # say at start-up when the registry is unusable
    return StaffCardWatcher(
        maintenance,
        readers,
        lambda: StaffCardAuthenticator(_staff_registry(config, bench, secrets_dir)),
        reader=reader,
        idle_timeout_s=config.maintenance.idle_timeout_s,
        poll_s=sc.poll_interval_s,
    )


LOOKUP_KEY_FILE = "lookup.key"
ELICENCE_KEY_FILE = "elicence-verify.pub"


def _keep_enrolment(client: PlatformClient, elicences: PlatformELicenceSource, secrets_dir: Path) -> None:
    """Store the lookup key and pin the e-licence key the enrolment announced."""
    info = client.enrolment
    if info is None:
        return
    if info.lookup_key is not None:
        save_lookup_key(secrets_dir / LOOKUP_KEY_FILE, info.lookup_key)
    else:
        log.warning("the platform gave no lookup key: reference photos and e-licences are unavailable")
    elicences.verify_key = pin_elicence_key(secrets_dir / ELICENCE_KEY_FILE, info.elicence_public_key)


class PeriodicSync:
    """Rule sync in the background on a schedule; a failed sync never blocks a citizen."""

    def __init__(self, catalogue: Catalogue, interval_s: float) -> None:
        self.catalogue = catalogue
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rule-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.catalogue.sync()
            except Exception:  # the next round tries again
                log.exception("scheduled rule sync failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _build_devices(config: TerminalConfig, bench: SimulatorBench | None, workdir: Path) -> Devices:
    dc = config.devices
    if bench is not None:
        # the stable name (like /dev/serial/by-id), not the simulator's own: it follows a re-plug
        idcard = SerialIdCardReader(
            str(bench.idcard_port), dc.idcard.baudrate, poll_interval=dc.idcard.poll_interval_s
        )
        camera = bench.camera.camera()
        doc_cam = document_camera(bench.workdir / "document_camera" / "page.png")
        printer = EscPosReceiptPrinter("127.0.0.1", bench.printer.port, profile=dc.receipt_printer.profile)
        spool = bench.spool_dir
    else:
        idcard = SerialIdCardReader(
            dc.idcard.port, dc.idcard.baudrate, poll_interval=dc.idcard.poll_interval_s
        )
        camera = OpenCvCamera(
            _source(dc.camera.source),
            dc.camera.width,
            dc.camera.height,
            exposure=dc.camera.exposure,
            frozen_after_s=dc.camera.frozen_after_s,
        )
        doc_cam = OpenCvCamera(
            _source(dc.document_camera.source),
            dc.document_camera.width,
            dc.document_camera.height,
            kind="document_camera",
            exposure=dc.document_camera.exposure,
            frozen_after_s=dc.document_camera.frozen_after_s,
        )
        printer = EscPosReceiptPrinter(
            dc.receipt_printer.host, dc.receipt_printer.port, dc.receipt_printer.profile
        )
        spool = Path(dc.document_printer.spool_dir) if dc.document_printer.spool_dir else workdir / "spool"
    document_printer: DocumentPrinter
    cups = _cups_printer(config, demo=bench is not None)
    document_printer = cups if cups is not None else PdfSpoolPrinter(spool)
    return Devices(
        idcard=idcard,
        camera=camera,
        document_camera=doc_cam,
        receipt_printer=printer,
        document_printer=document_printer,
        photo_decoder=SimulatorPhotoDecoder(),
        barcode=_barcode(config, bench),
    )


def _cups_printer(config: TerminalConfig, *, demo: bool) -> CupsDocumentPrinter | None:
    """The CUPS certificate printer the config asks for, or ``None`` for the spool directory.

    Driver "cups": always.  Driver "auto": in the production profile always; in the demo profile
    only when ``cups_server`` names a cupsd whose queue answers (a private test cupsd, e.g.
    packaging/cups/start-test-cupsd.sh), so the demo keeps its spool directory otherwise."""
    dp = config.devices.document_printer
    if dp.driver in ("simulator", "spool"):
        return None
    printer = CupsDocumentPrinter(dp.cups_queue, dp.cups_server or None)
    if dp.driver == "cups" or config.profile is Profile.PRODUCTION:
        return printer
    if not dp.cups_server:
        return None
    try:
        printer.queue_state()
    except DeviceError as err:
        log.info("no private cupsd for the demo (%s): certificates go to the spool directory", err)
        return None
    log.info("demo certificates print through the CUPS queue %s at %s", dp.cups_queue, dp.cups_server)
    return printer


def _barcode(config: TerminalConfig, bench: SimulatorBench | None) -> BarcodeReader | None:
    """The QR/barcode scanner (e-ID QR identity); None when there is none or it cannot be opened."""
    bc = config.devices.barcode
    if bc.driver == "none":
        return None
    port = bench.scanner.port if bench is not None else bc.port
    if not port:
        log.warning("devices.barcode: no port configured; QR identity is off")
        return None
    try:
        return SerialBarcodeReader(port, bc.baudrate)
    except DeviceError as err:  # the card still works without it
        log.warning("barcode scanner unavailable, QR identity is off: %s", err)
        return None


def build_liveness(config: TerminalConfig, bench: SimulatorBench | None) -> LivenessCheck:
    """The face check's liveness from ``[face] liveness`` (kiosk/config.py FaceConfig)."""
    mode = config.face.liveness_mode(config.profile)
    if mode == "off":
        log.warning("face liveness is off: a photo of the card holder would pass the face check")
        return NoLivenessCheck()
    if mode == "external":
        if bench is None:
            raise ValueError(
                "face.liveness = 'external' needs an IR/binocular camera driver that pushes its verdict "
                "(ExternalLivenessCheck.set_verdict); none is configured in this build: use 'challenge'"
            )
        return ExternalLivenessCheck(bench.ir_liveness_verdict)
    return ChallengeLiveness(
        challenges=config.face.challenges, challenge_timeout_s=config.face.challenge_timeout_s
    )


def build_face_prompter(config: TerminalConfig) -> FacePrompter:
    """Prompts for the face screen, spoken with espeak-ng when ``[face] voice`` is on."""
    if not config.face.voice:
        return FacePrompter()
    from kiosk.voice import EspeakVoice, VoiceUnavailable

    try:
        voice = EspeakVoice(config.face.voice_name)
    except VoiceUnavailable as err:
        log.warning("spoken prompts off: %s", err)
        return FacePrompter()
    return FacePrompter(voice, lambda key: tr(key, "zh"))


def _source(value: str) -> int | str:
    return int(value) if value.isdigit() else value
