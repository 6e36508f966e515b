"""The terminal's configuration: one typed, validated schema.

Loaded from a TOML file (``KIOSK_CONFIG`` or ``var/terminal.toml``); when no file
exists the demo profile is used: every device simulated and a sandbox platform
started on 127.0.0.1.  Validation happens once, at start-up; a bad file stops
the terminal with a message that names the offending key.
"""

from __future__ import annotations

import enum
import os
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from devices.barcode.kind import BarcodeConfig
from devices.camera.kind import CameraConfig, DocumentCameraConfig
from devices.docprinter.kind import DocumentPrinterConfig
from devices.idcard.kind import IdCardConfig
from devices.printer.kind import ReceiptPrinterConfig
from devices.registry import KINDS, SIMULATOR, DeviceKind, SectionConfig
from devices.smartcard.kind import StaffCardConfig
from kiosk.i18n import languages
from kiosk.limits import CONFIG_LIMITS, parse_toml

__all__ = [
    "REPO_ROOT",
    "BarcodeConfig",
    "CameraConfig",
    "ConfigError",
    "DeliveryConfig",
    "DevicesConfig",
    "DocumentCameraConfig",
    "DocumentPrinterConfig",
    "FaceConfig",
    "IdCardConfig",
    "MaintenanceConfig",
    "PlatformConfig",
    "Profile",
    "ReceiptPrinterConfig",
    "RetentionConfig",
    "SessionConfig",
    "StaffCardConfig",
    "TerminalConfig",
    "UiConfig",
    "default_config_path",
    "load_config",
]

C = TypeVar("C", bound=SectionConfig)

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The configuration file is missing a key, has a wrong value or cannot be read."""


class Profile(enum.Enum):
    DEMO = "demo"  # simulators + local sandbox platform
    PRODUCTION = "production"  # hardware + the central platform


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------ devices
# Each device kind declares its own section in its package (devices/<package>/kind.py); the
# [devices] table has one section per kind of the registry (devices/registry.py).


class _DevicesBase(_Model):
    """``[devices]``: one section per device kind of :data:`devices.registry.KINDS`."""

    def section(self, kind: DeviceKind[C, Any, Any]) -> C:
        """The ``[devices.<kind>]`` section (its defaults when the file has none)."""
        value = getattr(self, kind.name)
        if not isinstance(value, kind.config):
            raise TypeError(f"devices.{kind.name} is not a {kind.config.__name__}")
        return value

    def configured(self, kind: DeviceKind[Any, Any, Any]) -> bool:
        """Whether the section was given (in the file or by the caller), not left to defaults."""
        return kind.name in self.model_fields_set


if TYPE_CHECKING:
    DevicesConfig = _DevicesBase
else:
    DevicesConfig = create_model(
        "DevicesConfig",
        __base__=_DevicesBase,
        __doc__=_DevicesBase.__doc__,
        **{k.name: (k.config, k.config()) for k in KINDS},
    )


class PlatformConfig(_Model):
    url: str = ""  # empty in the demo profile: a sandbox is started on 127.0.0.1
    timeout_s: float = Field(5.0, gt=0)
    sync_interval_s: float = Field(300.0, gt=0)
    upload_interval_s: float = Field(5.0, gt=0)
    # Algorithm of the field cipher agreed with the platform (docs/security.md)
    field_algorithm: Literal["aes-256-gcm", "sm4-gcm"] = "aes-256-gcm"
    #: One-time code the platform issued for this terminal id (first enrolment, or re-enrolment
    #: after the terminal's key was lost); spent by the first successful enrolment.
    enrolment_code: str | None = Field(default=None, max_length=128)
    #: CA bundle (PEM file) every client of the platform trusts (platform API and rule sync);
    #: None: the system's default store.
    ca_bundle: str | None = None
    heartbeat_s: float = Field(60.0, gt=0)  # kiosk/fleet/heartbeat.py
    #: Prometheus metrics on 127.0.0.1 (terminal/metrics.py); 0: a free port, None: off.
    metrics_port: int | None = Field(9464, ge=0, le=65535)


class RetentionConfig(_Model):
    """Local retention of personal data: wiped this long after the platform acknowledged
    the case; the ledger/archive (§8.5) keeps its masked/hashed record."""

    personal_data_days: float = Field(30.0, gt=0)
    check_interval_s: float = Field(3600.0, gt=0)  # the background wipe runs this often (and at start)


class SessionConfig(_Model):
    idle_timeout_s: float = Field(90.0, gt=0)
    idle_warning_s: float = Field(20.0, gt=0)  # warning shown this long before the timeout
    card_timeout_s: float = Field(
        60.0, gt=0
    )  # the card step reminds this often; it waits until cancel or idle
    # how often a card accepted earlier is asked for (find-card) until the reader sees it lifted; a
    # card placed again sooner than this after a lift is taken for the same placement once more
    card_lift_poll_s: float = Field(0.5, gt=0, le=5.0)
    face_timeout_s: float = Field(15.0, gt=0)
    face_max_attempts: int = Field(3, ge=1)
    # cosine distance of SFace embeddings (card photo vs the mean of the live frames) at or below
    # which the faces match = kiosk.identity.face.DEFAULT_THRESHOLD (docs/face-check.md)
    face_threshold: float = Field(0.608, gt=0, lt=2)
    review_budget_s: float = Field(45.0, gt=0)  # §8.3.4: decide within 45 s
    review_deadline_s: float = Field(120.0, gt=0)  # past 2 min: error → manual review
    lookup_timeout_s: float = Field(10.0, gt=0)  # platform.<name> inputs: within the review budget

    @model_validator(mode="after")
    def _warning_inside_timeout(self) -> SessionConfig:
        if self.idle_warning_s >= self.idle_timeout_s:
            raise ValueError("idle_warning_s must be shorter than idle_timeout_s")
        if self.review_budget_s > self.review_deadline_s:
            raise ValueError("review_budget_s must not exceed review_deadline_s")
        if self.lookup_timeout_s >= self.review_budget_s:
            raise ValueError("lookup_timeout_s must be less than review_budget_s")
        return self


class FaceConfig(_Model):
    """Face check: liveness mode and prompts.  See kiosk/identity/liveness.py for what each stops."""

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
    #: The language sessions start in: any catalogue under kiosk/locale (docs/translations.md).
    language: str = "zh"
    fullscreen: bool = True
    hall_name: str = "德州市政务服务中心"
    hall_contact: str = "0534-12345"
    hall_name_en: str = "Dezhou Government Service Centre"  # English receipts
    #: The hall's progress page: the receipt QR is this + the case reference + ``?t=`` its tag
    #: (kiosk/hall/reference.py).  https, ending in "/", no query or fragment.
    progress_url_base: str = "https://zwfw.example.gov.cn/progress/"
    voice: bool = False  # spoken prompts on every screen for each citizen (elderly mode turns them on)
    voice_volume: float = Field(0.8, ge=0.0, le=1.0)
    voice_neural: bool = True  # the neural Mandarin voice where installed (kiosk/voice.py); else espeak-ng

    @field_validator("progress_url_base")
    @classmethod
    def _progress_base(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("progress_url_base must be an https:// URL with a host")
        if parts.query or parts.fragment or not value.endswith("/"):
            raise ValueError("progress_url_base must end in '/' and carry no query or fragment")
        if len(value) > 120 or not value.isascii() or any(c.isspace() for c in value):
            raise ValueError("progress_url_base must be at most 120 ASCII characters without spaces")
        return value

    @field_validator("language")
    @classmethod
    def _has_catalogue(cls, value: str) -> str:
        if value not in languages():
            raise ValueError(f"no text catalogue for language {value!r} (have: {', '.join(languages())})")
        return value


class DeliveryConfig(_Model):
    """Delivery of results and window tickets (§8.3.2)."""

    #: Areas the hall sends express deliveries to: administrative prefixes (kiosk.review.checks).
    jurisdiction: tuple[str, ...] = Field(("山东省德州市",), min_length=1)
    #: Queue ticket numbers: this prefix + a per-terminal, per-day sequence (K001, K002, ...).
    queue_prefix: str = Field("K", pattern=r"^[A-Z]{1,3}$")


class MaintenanceConfig(_Model):
    """Maintenance mode for hall staff (kiosk/maintenance/service.py, docs/operations.md)."""

    # The hall's staff card issuer CA (PEM), pinned from the first signed staff registry the platform
    # sends (kiosk/maintenance/staff_registry.py).  Empty: <data_dir>/secrets/staff-issuer-ca.pem.
    staff_issuer_ca: str = ""
    # Ignored (the per-terminal registry file of the staff applet cards); accepted in old configs.
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
    retention: RetentionConfig = RetentionConfig()

    @model_validator(mode="after")
    def _production_devices_are_explicit(self) -> TerminalConfig:
        """In production every required device is configured and none is simulated: a missing
        section would otherwise become a simulator's defaults (printer 127.0.0.1:9100, camera 0)."""
        if self.profile is not Profile.PRODUCTION:
            return self
        missing = [f"[devices.{k.name}]" for k in KINDS if k.required and not self.devices.configured(k)]
        if missing:
            raise ValueError(
                f"the production profile needs {', '.join(missing)} (each with its driver; "
                "docs/terminal.example.toml)"
            )
        simulated = [
            f"devices.{k.name}.driver"
            for k in KINDS
            if self.devices.configured(k) and self.devices.section(k).driver == SIMULATOR
        ]
        if simulated:
            raise ValueError(f"{', '.join(simulated)}: 'simulator' is for the demo profile only")
        return self

    @model_validator(mode="after")
    def _https_outside_the_demo(self) -> TerminalConfig:
        url = self.platform.url.strip().lower()
        if self.profile is not Profile.DEMO and url and not url.startswith("https://"):
            raise ValueError("platform.url must be https:// outside the demo profile")
        return self

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
        raw = parse_toml(path.read_text(encoding="utf-8"), CONFIG_LIMITS, "config")
    except (OSError, ValueError) as err:  # UnicodeDecodeError, TOMLDecodeError, LimitExceeded
        raise ConfigError(f"cannot read config {path}: {err}") from err
    try:
        return TerminalConfig.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
            for e in err.errors()
        )
        raise ConfigError(f"invalid config {path}: {problems}") from err
