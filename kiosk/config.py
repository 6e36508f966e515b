"""The terminal's configuration: one typed, validated schema.

Loaded from a TOML file (``KIOSK_CONFIG`` or ``var/terminal.toml``); when no file
exists the demo profile is used: every device simulated and a sandbox platform
started on 127.0.0.1.  Validation happens once, at start-up; a bad file stops
the terminal with a message that names the offending key.
"""

from __future__ import annotations

import enum
import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The configuration file is missing a key, has a wrong value or cannot be read."""


class Profile(enum.Enum):
    DEMO = "demo"  # simulators + local sandbox platform
    PRODUCTION = "production"  # hardware + the central platform


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdCardConfig(_Model):
    driver: Literal["simulator", "serial"] = "simulator"
    port: str = ""  # /dev/serial/by-id/... for driver "serial"
    baudrate: int = Field(115200, gt=0)
    poll_interval_s: float = Field(0.2, gt=0)


class CameraConfig(_Model):
    driver: Literal["simulator", "opencv"] = "simulator"
    # driver "opencv": a device index ("0" = /dev/video0) or a device path, best a stable one
    # (/dev/v4l/by-id/usb-...-video-index0); a video file plays as a camera (bench checks)
    source: str = "0"
    width: int = Field(640, gt=0)
    height: int = Field(480, gt=0)
    # manual exposure in the driver's units (V4L2: 100 us); unset: the camera's automatic exposure
    exposure: float | None = Field(None, gt=0)
    # a live device whose image does not change for this long is reported frozen (action: reset)
    frozen_after_s: float = Field(3.0, gt=0)


class DocumentCameraConfig(_Model):
    driver: Literal["simulator", "opencv"] = "simulator"
    source: str = "1"
    width: int = Field(1536, gt=0)
    height: int = Field(2048, gt=0)
    exposure: float | None = Field(None, gt=0)
    frozen_after_s: float = Field(3.0, gt=0)


class ReceiptPrinterConfig(_Model):
    driver: Literal["simulator", "network"] = "simulator"
    host: str = "127.0.0.1"
    port: int = Field(9100, gt=0, lt=65536)
    profile: str = "generic-80mm"


class DocumentPrinterConfig(_Model):
    #: "auto": CUPS in the production profile; in the demo profile CUPS only when ``cups_server``
    #: names a cupsd whose queue answers (a private test cupsd), else the spool directory.
    #: "simulator"/"spool": PDFs into the spool directory.  "cups": always CUPS.
    driver: Literal["auto", "simulator", "spool", "cups"] = "auto"
    spool_dir: str = ""  # driver "spool": defaults to <data_dir>/spool
    cups_queue: str = "kiosk-a4"  # driver "cups": the certificate/A4 printer's queue
    cups_server: str = ""  # driver "cups": host[:port]; empty = the local cupsd


class BarcodeConfig(_Model):
    driver: Literal["simulator", "serial", "none"] = "simulator"
    port: str = ""
    baudrate: int = Field(9600, gt=0)


class StaffCardConfig(_Model):
    """The PC/SC reader the hall staff put their staff card on (maintenance mode, d-maint)."""

    driver: Literal["simulator", "pcsc", "none"] = "simulator"
    reader: str = ""  # driver "pcsc": the PC/SC reader name (pcsc_scan lists them); "" = any reader
    poll_interval_s: float = Field(0.5, gt=0)


class DevicesConfig(_Model):
    idcard: IdCardConfig = IdCardConfig()
    camera: CameraConfig = CameraConfig()
    document_camera: DocumentCameraConfig = DocumentCameraConfig()
    receipt_printer: ReceiptPrinterConfig = ReceiptPrinterConfig()
    document_printer: DocumentPrinterConfig = DocumentPrinterConfig()
    barcode: BarcodeConfig = BarcodeConfig()
    staff_card: StaffCardConfig = StaffCardConfig()


class PlatformConfig(_Model):
    url: str = ""  # empty in the demo profile: a sandbox is started on 127.0.0.1
    timeout_s: float = Field(5.0, gt=0)
    sync_interval_s: float = Field(300.0, gt=0)
    upload_interval_s: float = Field(5.0, gt=0)
    # b-outbox: algorithm of the field cipher agreed with the platform (docs/security.md)
    field_algorithm: Literal["aes-256-gcm", "sm4-gcm"] = "aes-256-gcm"


class RetentionConfig(_Model):
    """Local retention of personal data (b-outbox): wiped this long after the platform acknowledged
    the case; the ledger/archive (§8.5) keeps its masked/hashed record."""

    personal_data_days: float = Field(30.0, gt=0)
    check_interval_s: float = Field(3600.0, gt=0)  # the background wipe runs this often (and at start)


class SessionConfig(_Model):
    idle_timeout_s: float = Field(90.0, gt=0)
    idle_warning_s: float = Field(20.0, gt=0)  # warning shown this long before the timeout
    card_timeout_s: float = Field(60.0, gt=0)
    face_timeout_s: float = Field(15.0, gt=0)
    face_max_attempts: int = Field(3, ge=1)
    # cosine distance of SFace embeddings (card photo vs the mean of the live frames) at or below
    # which the faces match = kiosk.identity.face.DEFAULT_THRESHOLD (docs/face-check.md)
    face_threshold: float = Field(0.612, gt=0, lt=2)
    review_budget_s: float = Field(45.0, gt=0)  # §8.3.4: decide within 45 s
    review_deadline_s: float = Field(120.0, gt=0)  # past 2 min: error → manual review

    @model_validator(mode="after")
    def _warning_inside_timeout(self) -> SessionConfig:
        if self.idle_warning_s >= self.idle_timeout_s:
            raise ValueError("idle_warning_s must be shorter than idle_timeout_s")
        if self.review_budget_s > self.review_deadline_s:
            raise ValueError("review_budget_s must not exceed review_deadline_s")
        return self


class FaceConfig(_Model):
    """Face check (issue 4): liveness mode and prompts.  See kiosk/identity/liveness.py for what each stops."""

    # challenge: randomised actions checked on the face mesh; external: the IR/binocular camera's
    # own verdict (ExternalLivenessCheck); off: no liveness.  Unset: external in the demo profile
    # (the SimulatorBench simulates the IR camera's verdict: the demo camera plays still photos,
    # which challenge liveness rightly refuses), challenge in production.
    liveness: Literal["challenge", "external", "off"] | None = None
    challenges: int = Field(2, ge=1, le=4)  # how many random challenges are asked
    challenge_timeout_s: float = Field(5.0, gt=0)  # per challenge
    voice: bool = False  # speak the prompts (espeak-ng, kiosk/voice.py)
    voice_name: str = "cmn-latn-pinyin"  # espeak-ng voice for the Chinese prompts

    def liveness_mode(self, profile: Profile) -> Literal["challenge", "external", "off"]:
        if self.liveness is not None:
            return self.liveness
        return "external" if profile is Profile.DEMO else "challenge"


class UiConfig(_Model):
    language: Literal["zh", "en"] = "zh"
    fullscreen: bool = True
    hall_name: str = "德州市政务服务中心"
    hall_contact: str = "0534-12345"
    hall_name_en: str = "Dezhou Government Service Centre"  # English receipts (h-outputs)


class DeliveryConfig(_Model):
    """Delivery of results and window tickets (§8.3.2; h-outputs)."""

    #: Areas the hall sends express deliveries to: administrative prefixes (kiosk.review.checks).
    jurisdiction: tuple[str, ...] = Field(("山东省德州市",), min_length=1)
    #: Queue ticket numbers: this prefix + a per-terminal, per-day sequence (K001, K002, ...).
    queue_prefix: str = Field("K", pattern=r"^[A-Z]{1,3}$")


class MaintenanceConfig(_Model):
    """Maintenance mode for hall staff (kiosk/maintenance/service.py, docs/operations.md)."""

    # The staff registry (staff id -> per-card key): a 0600 JSON file, never this config file.
    # Empty: <data_dir>/secrets/staff.json.  Demo profile: the simulated staff card's registry.
    staff_registry: str = ""
    idle_timeout_s: float = Field(300.0, gt=0)  # maintenance mode ends after this long untouched
    log_lines: int = Field(200, gt=0, le=5000)  # lines of each log shown


class TerminalConfig(_Model):
    terminal_id: str = "DEMO-0001"
    profile: Profile = Profile.DEMO
    data_dir: str = "var"
    devices: DevicesConfig = DevicesConfig()
    platform: PlatformConfig = PlatformConfig()
    session: SessionConfig = SessionConfig()
    ui: UiConfig = UiConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    maintenance: MaintenanceConfig = MaintenanceConfig()
    face: FaceConfig = FaceConfig()
    retention: RetentionConfig = RetentionConfig()  # b-outbox

    def data_path(self) -> Path:
        p = Path(self.data_dir)
        return p if p.is_absolute() else REPO_ROOT / p


def default_config_path() -> Path:
    env = os.environ.get("KIOSK_CONFIG")
    return Path(env) if env else REPO_ROOT / "var" / "terminal.toml"


def load_config(path: Path | None = None) -> TerminalConfig:
    """Load and validate the config; the demo profile when no file exists."""
    path = path or default_config_path()
    if not path.exists():
        return TerminalConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"cannot read config {path}: {err}") from err
    try:
        return TerminalConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"invalid config {path}: {problems}") from err
