"""Values the session core hands out: problems, form fields, submit and print results, devices."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from devices.base import DeviceError, DeviceStatus, RequiredAction
from devices.interfaces import (
    BarcodeReader,
    Camera,
    DocumentPrinter,
    IdCardReader,
    PhotoDecoder,
    ReceiptPrinter,
    SocialSecurityCardReader,
)
from kiosk.session.machine import Step

log = logging.getLogger(__name__)


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

    @classmethod
    def from_device(cls, device: str, err: DeviceError, retry: Step | None) -> Problem:
        """The problem a device error on ``device`` means for the citizen."""
        detail = f"problem.{device}"
        if err.status is DeviceStatus.NO_MEDIA and device == "idcard":
            detail = "problem.card_removed"
        return cls(device, err.action, detail, retry, allow_manual=device in {"camera", "document_camera"})


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
    case_id: str  # the UUID (idempotency key), never shown
    acknowledged: bool
    queued: bool
    case_number: str = ""  # the short readable number the citizen sees


@dataclass(frozen=True)
class PrintResult:
    receipt_printed: bool
    certificate_printed: bool
    certificate_number: str | None
    problem: Problem | None
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
    ssc_card: SocialSecurityCardReader | None = None  # the social security card reader (PC/SC), optional

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
