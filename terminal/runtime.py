"""The composition root: builds a running terminal from its config (no Qt).

Config -> devices (terminal/hardware.py, through the device registry) -> store, platform client,
services -> background work (outbox, rule sync, staff card watcher, retention).  In the demo
profile every device is a simulator speaking the device's real wire protocol (terminal/simulators.py)
and a sandbox platform serves on 127.0.0.1; the same drivers run against hardware in the production
profile.  The demo cast is terminal/demo_profile.py; the names tests and scripts import from here
(``DEMO_CITIZENS``, ``SimulatorBench``, ...) are re-exported.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.assist.bridge import build_assist
from kiosk.assist.service import AssistService
from kiosk.cases.crypto import (
    FieldAlgorithm,
    derive_key,
    load_or_create_machine_secret,
    load_or_create_terminal_key,
)
from kiosk.cases.lookup_key import load_lookup_key, save_lookup_key
from kiosk.cases.outbox import OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformError
from kiosk.cases.platform_pins import ANSWER_KEY_FILE, pin_key, read_pinned_key
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
from kiosk.maintenance.alerts import AlertForwarder, start_alerts
from kiosk.maintenance.service import LeaveReason, MaintenanceService
from kiosk.maintenance.staff_watcher import StaffCardWatcher
from kiosk.outputs.records import Ledger
from kiosk.review.engine import ReviewEngine
from kiosk.review.sync import RuleSync, provision_root
from kiosk.session.assembly import build_session
from kiosk.session.catalogue import Catalogue
from kiosk.session.coordinator import SessionCoordinator
from offline_cache.store import Store
from terminal import selfcheck
from terminal.demo_profile import DEMO_CITIZENS, DEMO_STAFF_ID, DemoCitizen
from terminal.demo_sandbox import DemoSandbox
from terminal.fleet import FleetWatch, start_fleet_watch
from terminal.hardware import build_devices, close_devices, device_context
from terminal.heap import HeapTrim
from terminal.memory import release_memory
from terminal.models import ModelKeeper
from terminal.simulators import SimulatorBench
from terminal.staff import build_staff_watcher

__all__ = [
    "DEMO_CITIZENS",
    "DEMO_STAFF_ID",
    "ITEMS_DIR",
    "DemoCitizen",
    "PeriodicSync",
    "SimulatorBench",
    "Terminal",
    "_build_devices",
    "build_face_prompter",
    "build_liveness",
    "build_terminal",
]

#: Kept under these names for the callers that import them from here.
_build_devices = build_devices

log = logging.getLogger(__name__)

ITEMS_DIR = REPO_ROOT / "items"


@dataclass
class Terminal:
    config: TerminalConfig
    session: SessionCoordinator
    store: Store
    client: PlatformClient
    drainer: OutboxDrainer
    bench: SimulatorBench | None
    sandbox: DemoSandbox | None
    workdir: Path
    _owned_tmp: Path | None = None
    _warm_up: threading.Thread | None = None
    syncer: PeriodicSync | None = None
    maintenance: MaintenanceService | None = None
    staff_watcher: StaffCardWatcher | None = None
    retention: RetentionWiper | None = None
    assist: AssistService | None = None  # remote video help (kiosk/assist/)
    alerts: AlertForwarder | None = None
    _connecting: threading.Thread | None = None
    _window_up: threading.Event = field(default_factory=threading.Event)
    _closing: threading.Event = field(default_factory=threading.Event)
    fleet: FleetWatch | None = None
    startup: selfcheck.StartupGate | None = None

    def window_shown(self) -> None:
        """The welcome (or out-of-service) screen is up: enrolment and the first sync may start
        (``build_terminal(background_connect=True)`` holds them until then, ``CONNECT_AFTER_S`` at most)."""
        self._window_up.set()

    def startup_ok(self) -> bool:
        """Whether the start-up self-check passed (the update's health report)."""
        return self.startup is None or self.startup.last.ok

    models: ModelKeeper | None = None
    _warm_lock: threading.Lock = field(default_factory=threading.Lock)

    def warm_up(self) -> threading.Thread:
        """Load the models in the background (a call while they load returns the same thread), then
        give back the memory the loading left unused (only when something was loaded: trimming the
        heap at every citizen cost a millisecond and the page faults of refilling it).
        terminal/models.py calls it when a citizen leaves the welcome screen."""
        with self._warm_lock:
            if self._warm_up is not None and self._warm_up.is_alive():
                return self._warm_up
            return self._start_warm_up()

    def _start_warm_up(self) -> threading.Thread:
        def load() -> None:
            loaded_any = False
            for name, model in (("face", self.session.face.verifier), ("ocr", self.session.materials.ocr)):
                if getattr(model, "loaded", False):
                    continue  # the usual case from the second citizen on: nothing to load or give back
                loaded_any = True
                try:
                    getattr(model, "load", lambda: None)()
                except Exception:
                    log.exception("loading the %s model failed", name)
            if loaded_any:
                release_memory()

        t = threading.Thread(target=load, name="warm-up", daemon=True)
        t.start()
        self._warm_up = t
        return t

    def close(self) -> None:
        if self.models is not None:
            self.models.stop()
        if self._warm_up is not None:
            # Never leave a model half-loaded in native code when the process ends.
            self._warm_up.join(timeout=60)
        self._closing.set()  # a connect still held for the window: never started
        self._window_up.set()
        if self.sandbox is not None and not self.sandbox.started:
            self.sandbox.close()  # requests waiting in its backlog end now, not at their timeout
        if self._connecting is not None:  # enrolment and first sync write the store: let them end
            self._connecting.join(timeout=2 * self.config.platform.timeout_s + 5)
        if self.staff_watcher is not None:
            self.staff_watcher.stop()
        if self.maintenance is not None and self.maintenance.active:
            self.maintenance.leave(LeaveReason.SHUTDOWN)
        if self.fleet is not None:
            self.fleet.stop()
        if self.syncer is not None:
            self.syncer.stop()
        if self.retention is not None:
            self.retention.stop()
        if self.alerts is not None:
            self.alerts.stop()
        self.drainer.stop()
        if self.assist is not None:
            self.assist.close()
        self.session.close()
        # The review engine's event loop thread and the package fetcher's connections; the
        # syncer, their other user, is stopped above.
        self.session.review.engine.close()
        if self.session.catalogue.rulesync is not None:
            self.session.catalogue.rulesync.close()
        close_devices(self.session.devices)
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
    background_connect: bool = False,
    session_monotonic: Callable[[], float] = time.monotonic,
) -> Terminal:
    """Start everything the config asks for.  The caller owns the result and must ``close()`` it.

    ``background_connect``: enrol and sync on a thread (the window's start-up: an unreachable
    platform never delays the welcome screen); otherwise both are done when this returns."""
    owned: Path | None = None
    if workdir is None:
        workdir = config.data_path()
    workdir.mkdir(parents=True, exist_ok=True)
    sim_dir = Path(tempfile.mkdtemp(prefix="kiosk-sim-", dir=workdir))
    owned = sim_dir

    sandbox = None
    bench: SimulatorBench | None = None
    platform_url = config.platform.url
    enrolment_code = config.platform.enrolment_code
    if config.profile is Profile.DEMO and not platform_url:  # a demo given a url: a sandbox run apart
        # Its address now, the server itself on the connect thread (terminal/demo_sandbox.py).
        sandbox = DemoSandbox(workdir / "sandbox", ITEMS_DIR)
        platform_url = sandbox.url
    if config.profile is Profile.DEMO:
        bench = SimulatorBench(sim_dir)
    if not platform_url:
        raise ValueError("platform.url is required outside the demo profile")

    try:
        devices = build_devices(config, bench, workdir)
    except Exception:  # e.g. a device section the registry cannot build: leave nothing running
        if bench is not None:
            bench.stop()
        if sandbox is not None:
            sandbox.close()
        shutil.rmtree(sim_dir, ignore_errors=True)
        raise
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
        enrolment_code=enrolment_code,
        ca_bundle=config.platform.ca_bundle,
        require_https=config.profile is not Profile.DEMO,
        platform_answer_key=read_pinned_key(secrets_dir / ANSWER_KEY_FILE),
    )
    # E-licences are believed only under the pinned platform key (docs/security.md).
    elicences = PlatformELicenceSource(client, pin_elicence_key(secrets_dir / ELICENCE_KEY_FILE, None))
    # Cases and attachments travel sealed with the field key agreed with the platform.
    keyring = FieldKeyring(
        store,
        client,
        machine_secret,
        terminal_id=config.terminal_id,
        algorithm=FieldAlgorithm(config.platform.field_algorithm),
    )
    drainer = OutboxDrainer(store, client, cipher=keyring.cipher)
    review = ReviewEngine()
    ledger = Ledger(
        workdir / "ledger", key=derive_key(machine_secret, "ledger", terminal_id=config.terminal_id)
    )
    tuf_dir = workdir / "tuf"
    rulesync = RuleSync(
        store,
        platform_url,
        tuf_dir / "metadata",
        tuf_dir / "targets",
        engine=review,
        ca_bundle=config.platform.ca_bundle,  # the API client's CA bundle: one CA store
    )
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
        ledger=ledger,
        elicences=elicences,
        qr=QrIdentityVerifier(client),
        liveness=build_liveness(config, bench),
        face_prompter=build_face_prompter(config),
        monotonic=session_monotonic,  # the idle limit's clock (bench/soak lets a citizen walk away)
    )
    # Staff card + PIN (docs/security.md); only the demo's in-process staff card, which signs without
    # its PIN, unlocks with the card alone.
    maintenance = MaintenanceService(
        session,
        client=client,
        drainer=drainer,
        log_dir=config.data_path() / "logs",
        data_dir=workdir,
        allow_card_only=config.profile is Profile.DEMO,
    )
    session.maintenance = maintenance
    session.machine.subscribe(HeapTrim())  # freed heap back to the system between citizens

    def connect() -> None:  # in the background: an unreachable platform never delays the window
        if background_connect:  # after the first paint: the GUI thread has the interpreter to itself
            window_up.wait(CONNECT_AFTER_S)
        if closing.is_set():
            return
        if sandbox is not None:
            try:
                # The sandbox plays the installer's console: a fresh one-time code for this terminal.
                client.enrolment_code = sandbox.enrolment_code(config.terminal_id)
            except Exception:
                log.exception("the demo sandbox platform did not start: serving from the cache")
                return
        try:
            client.enrol()
            _keep_enrolment(client, elicences, secrets_dir)
            if config.profile is Profile.DEMO:
                # Trust on first use, demo only: a provisioned terminal gets its TUF root from the
                # installer (`hall-kiosk provision`, docs/installation.md).
                provision_root(platform_url, tuf_dir / "metadata")
        except (PlatformError, OSError) as err:
            log.warning("platform unreachable at start-up, serving from the cache: %s", err)
        else:
            log.info("sync: %s", session.catalogue.sync())
        release_memory()  # start-up done: what the imports and the first sync left over

    window_up, closing = threading.Event(), threading.Event()
    connecting = threading.Thread(target=connect, name="platform-connect", daemon=True)
    connecting.start()
    if not background_connect:
        connecting.join()
    # A required device missing or no trusted catalogue: out of service, not the welcome screen.
    startup = selfcheck.hold_if_unfit(session, config, devices, workdir)
    drainer.start(interval_s=config.platform.upload_interval_s)
    # Lockouts, staff calls, device faults, paper, dead letters, clock skew -> platform alerts.
    alerts = start_alerts(session, maintenance.access, drainer, client)
    syncer = PeriodicSync(session.catalogue, config.platform.sync_interval_s)
    syncer.start()
    watcher = build_staff_watcher(
        config, maintenance, bench, secrets_dir, device_context(config, bench, workdir), client
    )
    if watcher is not None:
        watcher.start()
    # Personal data wiped after the retention period, at start and then on a schedule.
    retention = RetentionWiper(store, config.retention.personal_data_days, ledger=ledger)
    retention.start(config.retention.check_interval_s)
    terminal = Terminal(
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
        assist=build_assist(session, client, workdir / "assist"),
        alerts=alerts,
        _connecting=connecting,
        _window_up=window_up,
        _closing=closing,
        fleet=start_fleet_watch(config, session, store, client),
        startup=startup,
    )
    # The models are loaded when a citizen starts, dropped after a while on the welcome screen.
    terminal.models = ModelKeeper(session, terminal.warm_up, lambda: terminal._warm_up)
    return terminal


LOOKUP_KEY_FILE = "lookup.key"
#: The longest a background connect waits for ``Terminal.window_shown`` (a terminal without a window).
CONNECT_AFTER_S = 3.0
#: The platform refuses signed requests whose timestamp is further than this from its clock.
SIGNATURE_WINDOW_S = 300.0
CLOCK_SKEW_WARN_S = 60.0
ELICENCE_KEY_FILE = "elicence-verify.pub"


def _keep_enrolment(client: PlatformClient, elicences: PlatformELicenceSource, secrets_dir: Path) -> None:
    """Store the lookup key and pin the e-licence key the enrolment announced; say when the
    terminal's clock is off the platform's (signed requests are refused past 300 s)."""
    skew = client.clock_skew_s
    if skew is not None and abs(skew) > CLOCK_SKEW_WARN_S:
        log.warning(
            "the terminal clock is %+.0f s off the platform's: signed requests fail past %.0f s",
            -skew,
            SIGNATURE_WINDOW_S,
        )
    info = client.enrolment
    if info is None:
        return
    if pin_key(secrets_dir / ANSWER_KEY_FILE, info.platform_answer_key) is None:
        log.warning("the platform announced no answer key: its answers are trusted on TLS alone")
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
