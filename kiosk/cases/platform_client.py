"""Client of the central platform's terminal API (``/api/v1``; contract: docs/platform-api/openapi.json).

One method per operation of the contract.  Requests go through
:class:`kiosk.cases.platform_transport.Transport` (no redirects, one deadline per request, size
and depth limits, signed requests); every JSON reply is validated through its contract model
(:mod:`kiosk.cases.platform_models`) before a field is read, so a reply of the wrong shape is a
:class:`PlatformUnavailable`, never a crash.  The sandbox platform's test hooks are on
:attr:`PlatformClient.sandbox` (:mod:`kiosk.cases.sandbox_hooks`).

Payloads and response bodies of uploads are never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, TypeAdapter, ValidationError

from kiosk.cases import platform_models as m
from kiosk.cases.platform_reprint import ReprintRecord
from kiosk.cases.platform_transport import (
    API,
    SHA256_HEADER,
    Limits,
    PlatformConflict,
    PlatformError,
    PlatformIntegrityError,
    PlatformRejected,
    PlatformUnauthorized,
    PlatformUnavailable,
    Reply,
    Transport,
    parse_retry_after,
    signed_message,
)
from kiosk.cases.sandbox_hooks import SandboxHooks
from kiosk.review.warnings import hash_identifier

__all__ = [
    "API",
    "SHA256_HEADER",
    "EnrolmentInfo",
    "Limits",
    "PackageInfo",
    "PlatformClient",
    "PlatformConflict",
    "PlatformError",
    "PlatformIntegrityError",
    "PlatformRejected",
    "PlatformUnauthorized",
    "PlatformUnavailable",
    "UploadAck",
    "UploadSessionInfo",
    "WarningListInfo",
    "parse_retry_after",
    "signed_message",
]

log = logging.getLogger(__name__)

_JPEG_MAGIC = b"\xff\xd8\xff"
_PACKAGES = TypeAdapter(list[m.PackageInfo])
_WARNING_LISTS = TypeAdapter(list[m.WarningListInfo])
_PUBLISHED = TypeAdapter(list[m.PublishedRecord])
_OBJECT = TypeAdapter(dict[str, Any])
_QR_ANSWER: TypeAdapter[m.QrValid | m.QrInvalid] = TypeAdapter(m.QrAnswer)


# --------------------------------------------------------------------------- values

PackageInfo = m.PackageInfo
WarningListInfo = m.WarningListInfo


@dataclass(frozen=True)
class UploadSessionInfo:
    upload_id: str
    size: int
    offset: int  # bytes the platform has committed
    complete: bool


@dataclass(frozen=True)
class UploadAck:
    case_id: str
    platform_ref: str
    received_at: float
    replayed: bool  # True when the platform had already received this case (same idempotency key)
    raw: bytes  # the platform's answer, byte for byte, kept as the receipt


@dataclass(frozen=True)
class EnrolmentInfo:
    """What the platform hands a terminal at enrolment besides its token."""

    lookup_key: bytes | None = field(default=None, repr=False)  # secret: HMAC key for holder tokens
    lookup_key_id: str | None = None
    elicence_public_key: bytes | None = None  # raw Ed25519 public key that signs e-licences
    elicence_key_id: str | None = None
    platform_answer_key: bytes | None = None  # raw Ed25519 public key that signs the platform's answers
    platform_answer_key_id: str | None = None

    @classmethod
    def from_answer(cls, answer: m.EnrolResponse) -> EnrolmentInfo:
        def b64(name: str, value: str | None, size: int | None) -> bytes | None:
            if value is None:
                return None
            try:
                raw = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                log.warning("enrolment answer: %s is not base64; ignored", name)
                return None
            if size is not None and len(raw) != size:
                log.warning("enrolment answer: %s is %d bytes, expected %d; ignored", name, len(raw), size)
                return None
            return raw

        return cls(
            lookup_key=b64("lookup_key", answer.lookup_key, None),
            lookup_key_id=answer.lookup_key_id or None,
            elicence_public_key=b64("elicence_public_key", answer.elicence_public_key, 32),
            elicence_key_id=answer.elicence_key_id or None,
            platform_answer_key=b64("platform_answer_key", answer.platform_answer_key, 32),
            platform_answer_key_id=answer.platform_answer_key_id or None,
        )


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _session_info(session: m.UploadSession) -> UploadSessionInfo:
    return UploadSessionInfo(
        upload_id=session.upload_id,
        size=session.size,
        offset=session.offset,
        complete=session.state == "complete",
    )


# --------------------------------------------------------------------------- client


class PlatformClient:
    """Talks to the platform for one terminal.  Thread-safe enough for one drainer + one sync caller."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        timeout: float = 5.0,
        *,
        token: str | None = None,
        signing_key: Ed25519PrivateKey | None = None,
        lookup_key: bytes | None = None,
        enrolment_code: str | None = None,
        ca_bundle: str | None = None,
        require_https: bool = False,
        limits: Limits | None = None,
        platform_answer_key: bytes | None = None,
    ) -> None:
        #: With a signing key, every authenticated request is signed (X-Terminal-Id, X-Timestamp,
        #: X-Signature over method, path, timestamp and the body's SHA-256) instead of carrying the
        #: bearer token, and enrolment registers the public key.  ``timeout`` bounds each request
        #: as a whole (connect, send, headers and body), not each read.
        self.transport = Transport(
            base_url,
            terminal_id,
            timeout,
            signing_key=signing_key,
            ca_bundle=ca_bundle,
            require_https=require_https,
            limits=limits,
        )
        self.transport.token = token
        if platform_answer_key is not None:
            # Pinned at an earlier enrolment (or by the installer): every answer must be signed by it.
            self.transport.answer_key = Ed25519PublicKey.from_public_bytes(platform_answer_key)
        self.base_url = self.transport.base_url
        self.terminal_id = terminal_id
        self.timeout = timeout
        self.signing_key = signing_key
        #: The one-time code the platform issued for this terminal (first enrolment, or
        #: re-enrolment without the enrolled key); consumed by a successful enrolment.
        self.enrolment_code = enrolment_code
        #: Citizen lookups (reference photo, e-licences) send the holder token
        #: hash_identifier(lookup_key, ID number), never the ID number; the platform gives the
        #: key at enrolment (kept by the terminal like its other secrets, docs/security.md).
        self.lookup_key = lookup_key
        #: What the last enrolment announced (None before, or from a platform without them).
        self.enrolment: EnrolmentInfo | None = None
        #: The sandbox platform's test hooks (``/_sandbox``; tests and the demo only).
        self.sandbox = SandboxHooks(self.transport)

    @property
    def token(self) -> str | None:
        """The bearer token of the last enrolment (used only when the client has no signing key)."""
        return self.transport.token

    @property
    def clock_skew_s(self) -> float | None:
        """Platform clock minus terminal clock (s) from the last answer's Date header; None before one."""
        return self.transport.clock_skew_s

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, path: str) -> Reply:
        return self.transport.request("GET", path)

    # ------------------------------------------------------------------ terminals

    def enrol(self, public_info: Mapping[str, Any] | None = None, *, code: str | None = None) -> str:
        """Enrol this terminal; returns the bearer token (also kept on the client).

        The request is signed with the terminal's key when it has one (a re-enrolment proves the
        enrolled key) and carries the one-time ``code`` (or the client's ``enrolment_code``)."""
        body = m.EnrolRequest.model_construct(
            terminal_id=self.terminal_id,
            public_info=dict(public_info or {}),
            enrolment_code=code or self.enrolment_code,
            public_key=None,
        )
        if self.signing_key is not None:
            raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            body = body.model_copy(update={"public_key": base64.b64encode(raw).decode("ascii")})
        reply = self.transport.request(
            "POST", f"{API}/terminals/enrol", json_body=body.model_dump(mode="json", exclude_none=True)
        )
        answer = self.transport.parse(reply, m.EnrolResponse, "enrolment")
        self.transport.token = answer.token
        self.enrolment_code = None  # one-time: spent
        self.enrolment = EnrolmentInfo.from_answer(answer)
        announced = self.enrolment.platform_answer_key
        if self.transport.answer_key is None and announced is not None:
            # First enrolment: trust the announced key from now on (it is pinned on disk by the caller).
            self.transport.answer_key = Ed25519PublicKey.from_public_bytes(announced)
        if self.enrolment.lookup_key is not None:
            self.lookup_key = self.enrolment.lookup_key
        log.info("terminal %s enrolled with the platform", self.terminal_id)
        return answer.token

    def heartbeat(self, status: Mapping[str, Any], telemetry: Mapping[str, Any] | None = None) -> None:
        """Device statuses, plus the optional fields of kiosk/fleet/heartbeat.py's telemetry."""
        body = m.HeartbeatRequest(device_status=dict(status), **dict(telemetry or {}))
        self.transport.request(
            "POST",
            f"{API}/terminals/{_seg(self.terminal_id)}/heartbeat",
            json_body=body.model_dump(mode="json"),
        )

    def post_queued(self, kind: str, key: str, body: bytes) -> bytes:
        """Queue-side call for an outbox job of ``kind`` "rating" (a 好差评 rating, ``POST
        /api/v1/ratings``), "alert" (``POST .../terminals/{id}/alerts``) or "reprint" (a reprint
        record that could not be sent after printing, ``POST /api/v1/reprints``): ``key`` is the
        idempotency key, ``body`` the request as queued.  Returns the acknowledgement's bytes."""
        routes: dict[str, tuple[str, type[BaseModel], str]] = {
            "rating": (f"{API}/ratings", m.RatingAck, "rating acknowledgement"),
            "alert": (
                f"{API}/terminals/{_seg(self.terminal_id)}/alerts",
                m.AlertAck,
                "alert acknowledgement",
            ),
            "reprint": (f"{API}/reprints", ReprintRecord, "reprint record"),
        }
        path, model, what = routes[kind]
        reply = self.transport.request(
            "POST", path, data=body, headers={"Idempotency-Key": key, "Content-Type": "application/json"}
        )
        self.transport.parse(reply, model, what)
        return reply.body

    def agree_field_key(self, public_key: bytes, algorithm: str) -> bytes:
        """Send the terminal's X25519 public key; returns the platform's (raw 32 bytes)."""
        request = {"public_key": base64.b64encode(public_key).decode("ascii"), "algorithm": algorithm}
        reply = self.transport.request(
            "POST", f"{API}/terminals/{_seg(self.terminal_id)}/field-key", json_body=request
        )
        answer = self.transport.parse(reply, m.FieldKeyResponse, "field-key answer")
        try:
            raw = base64.b64decode(answer.platform_public_key, validate=True)
        except (binascii.Error, ValueError) as err:
            raise PlatformUnavailable("field-key answer has no platform public key") from err
        if len(raw) != 32 or answer.algorithm != algorithm:
            raise PlatformUnavailable("field-key answer does not match the request")
        return raw

    # ------------------------------------------------------------------ packages and lists

    def list_packages(self) -> list[m.PackageInfo]:
        return self.transport.parse(self._get(f"{API}/packages"), _PACKAGES, "package listing")

    def fetch_package(self, item_id: str, expected_sha256: str | None = None) -> bytes:
        """The package file, byte for byte, after checking its SHA-256."""
        return self.transport.verified_body(self._get(f"{API}/packages/{_seg(item_id)}"), expected_sha256)

    def list_warning_lists(self) -> list[m.WarningListInfo]:
        return self.transport.parse(self._get(f"{API}/warning-lists"), _WARNING_LISTS, "warning-list listing")

    def fetch_warning_list(self, name: str, expected_sha256: str | None = None) -> bytes:
        return self.transport.verified_body(self._get(f"{API}/warning-lists/{_seg(name)}"), expected_sha256)

    # ------------------------------------------------------------------ cases

    def upload_case(
        self,
        case_id: str,
        item_id: str,
        payload: bytes,
        *,
        attachments: Sequence[Mapping[str, Any]] = (),
        encryption: str | None = None,
    ) -> UploadAck:
        """Upload a case once: the case id is the idempotency key, so a retry is always safe.

        ``attachments`` reference files uploaded before (``upload_attachment``) by id and SHA-256;
        ``encryption`` names the field-cipher algorithm when ``payload`` is sealed (docs/security.md).
        """
        body: dict[str, Any] = {
            "case_id": case_id,
            "item_id": item_id,
            "terminal_id": self.terminal_id,
            "payload_b64": base64.b64encode(payload).decode("ascii"),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
        }
        if attachments:
            body["attachments"] = [dict(a) for a in attachments]
        if encryption is not None:
            body["encryption"] = encryption
        reply = self.transport.request(
            "POST", f"{API}/cases", json_body=body, headers={"Idempotency-Key": case_id}
        )
        if reply.status not in (200, 201):
            raise PlatformUnavailable(f"case {case_id}: HTTP {reply.status} is not an acknowledgement")
        receipt = self.transport.parse(reply, m.CaseReceipt, f"case {case_id}: acknowledgement")
        if receipt.case_id != case_id:
            raise PlatformUnavailable(f"case {case_id}: acknowledgement names another case")
        ack = UploadAck(
            case_id=receipt.case_id,
            platform_ref=receipt.platform_ref,
            received_at=receipt.received_at,
            replayed=reply.status == 200,
            raw=reply.body,
        )
        log.info("case %s uploaded as %s%s", case_id, ack.platform_ref, " (replayed)" if ack.replayed else "")
        return ack

    def case_status(self, case_id: str) -> dict[str, Any]:
        reply = self._get(f"{API}/cases/{_seg(case_id)}")
        return self.transport.parse(reply, m.CaseStatus, "case status").model_dump(mode="json")

    def certificate(self, case_id: str) -> bytes:
        """The certificate PDF the platform holds for a case (PlatformRejected 404 before it has one)."""
        return self.transport.verified_body(self._get(f"{API}/cases/{_seg(case_id)}/certificate"), None)

    # ------------------------------------------------------------------ citizens

    def holder_token(self, id_number: str) -> str:
        """The keyed hash the platform knows the citizen by (the ID number never leaves in clear)."""
        if not self.lookup_key:
            raise PlatformUnavailable("no lookup key: the terminal has not enrolled with the platform yet")
        return hash_identifier(self.lookup_key, id_number)

    def reference_photo(self, id_number: str) -> bytes | None:
        """The citizen's reference photo (JPEG bytes) from the platform; None when it has none."""
        try:
            reply = self._get(f"{API}/reference-photos/{self.holder_token(id_number)}")
        except PlatformRejected as err:
            if err.status == 404:
                return None
            raise
        body = self.transport.verified_body(reply, None)
        if not body.startswith(_JPEG_MAGIC):
            raise PlatformIntegrityError(f"{API}/reference-photos: answer is not a JPEG")
        return body

    def verify_qr_token(self, token: str) -> Mapping[str, Any]:
        """The platform's answer on a scanned QR identity token (contract in kiosk/identity/qr.py).

        An answer that is not a JSON object is :class:`PlatformUnavailable`; an object that does not
        match the contract's QrValid/QrInvalid comes back as ``{"valid": None}``, which the caller
        refuses as an invalid answer (no identity is ever read from it)."""
        request = m.QrVerifyRequest.model_construct(terminal_id=self.terminal_id, token=token)
        reply = self.transport.request("POST", f"{API}/identity/qr/verify", json_body=request.model_dump())
        answer = self.transport.parse(reply, _OBJECT, "QR token answer")
        try:
            return _QR_ANSWER.validate_python(answer).model_dump(mode="json")
        except ValidationError:
            log.warning("QR token answer does not match the platform contract; no identity taken from it")
            return {"valid": None}

    def elicences(self, id_number: str) -> list[Mapping[str, Any]]:
        """The signed e-licences the platform holds for the citizen, as sent (not yet verified:
        see kiosk/documents/elicence_platform.PlatformELicenceSource)."""
        holder = self.holder_token(id_number)
        reply = self._get(f"{API}/elicences?{urllib.parse.urlencode({'holder': holder})}")
        answer = self.transport.parse(reply, m.ELicenceList, "e-licence answer")
        if answer.holder != holder:
            raise PlatformUnavailable("e-licence answer is not a licence list for this holder")
        # The entries exactly as sent (the signature covers the platform's canonical form of them).
        raw = _OBJECT.validate_json(reply.body)
        return [entry for entry in raw["licences"] if isinstance(entry, dict)]

    # ------------------------------------------------------------------ attachment uploads

    def _session_of(self, reply: Reply) -> UploadSessionInfo:
        return _session_info(self.transport.parse(reply, m.UploadSession, "upload session"))

    def create_upload(self, attachment_id: str, spec: Mapping[str, Any]) -> UploadSessionInfo:
        """Create (or find again: the attachment id is the idempotency key) an upload session."""
        return self._session_of(
            self.transport.request(
                "POST", f"{API}/uploads", json_body=dict(spec), headers={"Idempotency-Key": attachment_id}
            )
        )

    def upload_offset(self, upload_id: str) -> UploadSessionInfo:
        return self._session_of(self._get(f"{API}/uploads/{_seg(upload_id)}"))

    def put_chunk(self, upload_id: str, start: int, chunk: bytes, total: int) -> UploadSessionInfo:
        """Send ``chunk`` as bytes ``start..start+len-1`` of ``total``; returns the committed offset."""
        end = start + len(chunk) - 1
        headers = {
            "Content-Range": f"bytes {start}-{end}/{total}",
            "Content-Type": "application/octet-stream",
        }
        return self._session_of(
            self.transport.request("PUT", f"{API}/uploads/{_seg(upload_id)}", data=chunk, headers=headers)
        )

    def complete_upload(self, upload_id: str) -> UploadSessionInfo:
        return self._session_of(self.transport.request("POST", f"{API}/uploads/{_seg(upload_id)}/complete"))

    # ------------------------------------------------------------------ publicity

    def post_publicity(self, key: str, body: bytes) -> bytes:
        """Queue-side call: publish a double-publicity record (``key`` is the idempotency key)."""
        reply = self.transport.request(
            "POST",
            f"{API}/publicity",
            data=body,
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        self.transport.parse(reply, m.PublicityAck, "publicity acknowledgement")
        return reply.body

    def revoke_publicity(self, key: str, publicity_id: str, body: bytes) -> bytes:
        reply = self.transport.request(
            "POST",
            f"{API}/publicity/{_seg(publicity_id)}/revoke",
            data=body,
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        self.transport.parse(reply, m.PublicityAck, "revocation acknowledgement")
        return reply.body

    def published_records(self) -> list[dict[str, Any]]:
        """The publicity records the platform publishes now (revoked ones are gone)."""
        records = self.transport.parse(self._get(f"{API}/publicity"), _PUBLISHED, "publicity listing")
        return [r.model_dump(mode="json") for r in records]
