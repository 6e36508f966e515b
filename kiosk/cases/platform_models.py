"""The platform contract's request and reply bodies as pydantic models (docs/platform-api/openapi.json).

These are the terminal's side of the contract: every reply the client acts on is validated
through one of them before any field is read (a trust boundary: the platform, or whoever answers
in its name, may send anything).  Each model mirrors the schema of the same name under
``components.schemas`` in the contract; tests/kiosk/test_platform_models.py fails when one drifts.
Unknown extra fields in replies are ignored (the platform may add fields without a new version).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.cases.platform_hall import HALL_MODELS
from kiosk.cases.platform_lookups import LOOKUP_MODELS
from kiosk.cases.platform_reprint import REPRINT_MODELS

#: Bounds shared with the contract.
TERMINAL_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
#: Largest attachment sent inline in the upload's create request, and its base64 length.
INLINE_MAX_BYTES = 256 * 1024
INLINE_B64_MAX = 4 * ((INLINE_MAX_BYTES + 2) // 3)


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


# --------------------------------------------------------------------------- errors


class Problem(_Reply):
    detail: str = Field(
        description="Why the platform refused or failed the request (English, no personal data)"
    )


# --------------------------------------------------------------------------- terminals


class EnrolRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64, pattern=TERMINAL_ID_PATTERN)
    public_info: dict[str, Any] = Field(default_factory=dict)
    public_key: str | None = Field(
        default=None, max_length=64, description="The terminal's Ed25519 public key (base64 of 32 raw bytes)"
    )
    enrolment_code: str | None = Field(
        default=None,
        max_length=128,
        description="One-time code the platform issued for this terminal id (first enrolment, or a "
        "re-enrolment that is not signed with the enrolled key)",
    )


class EnrolResponse(_Reply):
    token: str = Field(min_length=1, max_length=256)
    lookup_key: str | None = Field(default=None, max_length=128)
    lookup_key_id: str | None = Field(default=None, max_length=128)
    elicence_public_key: str | None = Field(default=None, max_length=128)
    elicence_key_id: str | None = Field(default=None, max_length=128)
    platform_answer_key: str | None = Field(default=None, max_length=128)
    platform_answer_key_id: str | None = Field(default=None, max_length=128)


class HeartbeatRequest(BaseModel):
    device_status: dict[str, Any]
    # Optional: a terminal that sends the device statuses alone stays valid.
    app_version: str | None = Field(default=None, max_length=64)
    consumables: dict[str, str] | None = Field(default=None, max_length=16)
    queues: dict[str, int] | None = Field(default=None, max_length=16)
    clock_skew_s: float | None = None
    #: App updates (kiosk/update/): available, last_result, last_version, failed (comma-separated)
    update: dict[str, str] | None = Field(default=None, max_length=8)


class FieldKeyRequest(BaseModel):
    public_key: str = Field(max_length=64)
    algorithm: Literal["aes-256-gcm", "sm4-gcm"] = "aes-256-gcm"


class FieldKeyResponse(_Reply):
    platform_public_key: str = Field(max_length=64)
    algorithm: Literal["aes-256-gcm", "sm4-gcm"]
    scheme: str = "x25519-hkdf-sha256-v1"


# --------------------------------------------------------------------------- packages and lists


class PackageInfo(_Reply):
    item_id: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=SHA256_PATTERN)


class WarningListInfo(_Reply):
    name: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=SHA256_PATTERN)


# --------------------------------------------------------------------------- cases


class AttachmentRef(BaseModel):
    attachment_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    media_type: str = Field(min_length=1, max_length=128)
    sha256: str = Field(pattern=SHA256_PATTERN, description="SHA-256 of the attachment in clear")


class CaseUpload(BaseModel):
    case_id: str = Field(min_length=1, max_length=64)
    item_id: str = Field(min_length=1, max_length=128)
    terminal_id: str = Field(min_length=1, max_length=64)
    payload_b64: str
    payload_sha256: str | None = None
    attachments: list[AttachmentRef] | None = None
    encryption: Literal["aes-256-gcm", "sm4-gcm"] | None = None


class CaseReceipt(_Reply):
    case_id: str = Field(min_length=1, max_length=64)
    platform_ref: str = Field(min_length=1, max_length=64)
    received_at: float
    status: str = Field(max_length=32)


class CaseStatus(_Reply):
    case_id: str = Field(min_length=1, max_length=64)
    item_id: str = Field(min_length=1, max_length=128)
    terminal_id: str = Field(min_length=1, max_length=64)
    platform_ref: str = Field(min_length=1, max_length=64)
    received_at: float
    status: str = Field(max_length=32)


# --------------------------------------------------------------------------- uploads


class UploadCreate(BaseModel):
    case_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    media_type: str = Field(min_length=1, max_length=128)
    size: int = Field(ge=1, le=64 * 1024 * 1024)
    sha256: str = Field(pattern=SHA256_PATTERN)
    plaintext_sha256: str = Field(pattern=SHA256_PATTERN)
    encryption: Literal["none", "aes-256-gcm", "sm4-gcm"] = "none"
    # The whole bytes, base64, for an attachment of at most one chunk (create completes it at once).
    content: str | None = Field(default=None, max_length=INLINE_B64_MAX)


class UploadSession(_Reply):
    upload_id: str = Field(min_length=1, max_length=64)
    case_id: str = Field(max_length=64)
    name: str = Field(max_length=128)
    size: int = Field(ge=0)
    offset: int = Field(ge=0)
    state: Literal["open", "complete"]


# --------------------------------------------------------------------------- publicity


class PublicityAck(_Reply):
    publicity_id: str = Field(min_length=1, max_length=64)
    status: Literal["published", "revoked"]
    at: float


class RatingAck(_Reply):
    """The platform's acknowledgement of a 好差评 rating (``POST /api/v1/ratings``)."""

    rating_id: str = Field(min_length=36, max_length=36)
    status: Literal["received"]
    at: float


AlertKind = Literal["staff_lockout", "staff_call", "device_fault", "paper_low", "dead_letter", "clock_skew"]


class AlertRequest(BaseModel):
    kind: AlertKind
    severity: Literal["info", "warning", "critical"]
    raised_at: float
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=32)


class AlertAck(_Reply):
    alert_id: str = Field(min_length=1, max_length=64)
    status: Literal["received"]
    received_at: float


class PublishedRecord(_Reply):
    publicity_id: str
    terminal_id: str
    published_at: float
    record: dict[str, Any]


# --------------------------------------------------------------------------- citizens


class QrVerifyRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=2048)


class QrValid(_Reply):
    valid: Literal[True]
    token_id: str = Field(max_length=128)
    source: Literal["e-id", "app"]
    id_number: str = Field(max_length=32)
    name: str = Field(max_length=128)
    expires_at: str = Field(max_length=64)


class QrInvalid(_Reply):
    valid: Literal[False]
    reason: Literal["expired", "revoked", "used", "unknown", "malformed"]


QrAnswer = Annotated[QrValid | QrInvalid, Field(discriminator="valid")]


class ELicenceBody(_Reply):
    licence_id: str = Field(min_length=1, max_length=64)
    holder: str = Field(pattern=SHA256_PATTERN)
    material_type: str = Field(min_length=1, max_length=64)
    title_zh: str
    title_en: str
    issued_at: str
    issuer: str = ""
    fields: dict[str, str] = Field(default_factory=dict)


class SignedELicence(_Reply):
    licence: ELicenceBody
    key_id: str
    signature: str


class ELicenceList(_Reply):
    holder: str
    licences: list[SignedELicence] = Field(max_length=1000)


#: Every schema of the contract mirrored here, by its name in ``components.schemas``.
class RecordingReceipt(BaseModel):
    """The platform kept a remote-help call's recording (encrypted, until the retention limit)."""

    recording_id: str
    call_id: str
    name: str
    media_type: str
    sha256: str
    size: int
    created: float
    retention_days: float


CONTRACT_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        Problem,
        EnrolRequest,
        EnrolResponse,
        HeartbeatRequest,
        FieldKeyRequest,
        FieldKeyResponse,
        PackageInfo,
        WarningListInfo,
        AttachmentRef,
        CaseUpload,
        CaseReceipt,
        CaseStatus,
        UploadCreate,
        UploadSession,
        PublicityAck,
        RatingAck,
        PublishedRecord,
        AlertRequest,
        AlertAck,
        QrVerifyRequest,
        QrValid,
        QrInvalid,
        ELicenceBody,
        SignedELicence,
        ELicenceList,
        RecordingReceipt,
    )
}
CONTRACT_MODELS.update(HALL_MODELS)
CONTRACT_MODELS.update(REPRINT_MODELS)
CONTRACT_MODELS.update(LOOKUP_MODELS)
