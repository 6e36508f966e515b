"""HTTP client for the central platform's terminal API (``/api/v1``; see sandbox_platform/openapi.json).

Every failure is one of three typed errors, so callers decide by type:

* :class:`PlatformUnavailable`: try again later (no connection, timeout, broken
  answer, 5xx, 408, 429).  Carries ``retry_after`` (seconds) when the platform
  said so.
* :class:`PlatformRejected`: the platform refused this request (4xx other than
  409/429); retrying the same request will not help.  :class:`PlatformUnauthorized`
  (401/403) is a subclass: the terminal's token is the problem, not the request.
* :class:`PlatformConflict`: 409.

Payloads and response bodies of uploads are never logged.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import logging
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.review.warnings import hash_identifier

log = logging.getLogger(__name__)

API = "/api/v1"
SHA256_HEADER = "X-Content-SHA256"
_MAX_BODY_IN_ERROR = 2000
_JPEG_MAGIC = b"\xff\xd8\xff"


# --------------------------------------------------------------------------- errors


class PlatformError(Exception):
    """Base of every platform client failure."""


class PlatformUnavailable(PlatformError):
    """The platform could not be reached or could not answer now: retry later."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PlatformRejected(PlatformError):
    """The platform refused the request (4xx); the same request will be refused again."""

    def __init__(self, message: str, *, status: int, body: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class PlatformUnauthorized(PlatformRejected):
    """401/403: the terminal is not (or no longer) enrolled; the request itself may be fine."""


class PlatformConflict(PlatformError):
    """409: the request conflicts with what the platform already has."""

    def __init__(self, message: str, *, body: str) -> None:
        super().__init__(message)
        self.status = 409
        self.body = body


class PlatformIntegrityError(PlatformError):
    """A downloaded document does not match its announced SHA-256."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class PackageInfo:
    item_id: str
    version: str
    sha256: str


@dataclass(frozen=True)
class WarningListInfo:
    name: str
    version: str
    sha256: str


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

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> EnrolmentInfo:
        def b64(name: str, size: int | None) -> bytes | None:
            value = answer.get(name)
            if not isinstance(value, str):
                return None
            try:
                raw = base64.b64decode(value, validate=True)
            except ValueError:
                log.warning("enrolment answer: %s is not base64; ignored", name)
                return None
            if size is not None and len(raw) != size:
                log.warning("enrolment answer: %s is %d bytes, expected %d; ignored", name, len(raw), size)
                return None
            return raw

        def text(name: str) -> str | None:
            value = answer.get(name)
            return value if isinstance(value, str) and value else None

        return cls(
            lookup_key=b64("lookup_key", None),
            lookup_key_id=text("lookup_key_id"),
            elicence_public_key=b64("elicence_public_key", 32),
            elicence_key_id=text("elicence_key_id"),
        )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def signed_message(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """What X-Signature covers (the platform computes the same): method, path with query, timestamp,
    SHA-256 of the body."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}".encode()


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _body_text(resp: requests.Response) -> str:
    return resp.text[:_MAX_BODY_IN_ERROR]


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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        #: With a key, every authenticated request is signed (X-Terminal-Id, X-Timestamp,
        #: X-Signature over method, path, timestamp and the body's SHA-256) instead of
        #: carrying the bearer token, and enrolment registers the public key.
        self.signing_key = signing_key
        self.terminal_id = terminal_id
        self.timeout = timeout
        self.token = token
        #: Citizen lookups (reference photo, e-licences) send the holder token
        #: hash_identifier(lookup_key, ID number), never the ID number; the platform gives the
        #: key at enrolment (kept by the terminal like its other secrets, docs/security.md).
        self.lookup_key = lookup_key
        #: What the last enrolment announced (None before, or from a platform without them).
        self.enrolment: EnrolmentInfo | None = None
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "hall-kiosk/0.1"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ plumbing

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        data: bytes | None = None,
    ) -> requests.Response:
        url = self.base_url + path
        all_headers = dict(headers or {})
        if auth and self.signing_key is None and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        try:
            prepared = self._session.prepare_request(
                requests.Request(method, url, json=json_body, data=data, headers=all_headers)
            )
            if auth and self.signing_key is not None:
                self._sign(prepared)
            resp = self._session.send(prepared, timeout=self.timeout)
        except requests.Timeout as err:
            raise PlatformUnavailable(f"{method} {path}: timed out after {self.timeout} s") from err
        except requests.ConnectionError as err:
            raise PlatformUnavailable(f"{method} {path}: cannot connect ({type(err).__name__})") from err
        except requests.RequestException as err:
            # e.g. ChunkedEncodingError: the connection broke in the middle of the answer.
            raise PlatformUnavailable(f"{method} {path}: broken answer ({type(err).__name__})") from err
        code = resp.status_code
        if code < 400:
            return resp
        if code >= 500 or code in (408, 429):
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            log.warning("platform %s %s answered %d (retry after %s)", method, path, code, retry_after)
            raise PlatformUnavailable(f"{method} {path}: HTTP {code}", status=code, retry_after=retry_after)
        if code == 409:
            raise PlatformConflict(f"{method} {path}: HTTP 409 conflict", body=_body_text(resp))
        if code in (401, 403):
            raise PlatformUnauthorized(f"{method} {path}: HTTP {code}", status=code, body=_body_text(resp))
        raise PlatformRejected(f"{method} {path}: HTTP {code}", status=code, body=_body_text(resp))

    def _sign(self, prepared: requests.PreparedRequest) -> None:
        assert self.signing_key is not None
        timestamp = f"{time.time():.3f}"
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        message = signed_message(str(prepared.method), prepared.path_url, timestamp, body)
        prepared.headers["X-Terminal-Id"] = self.terminal_id
        prepared.headers["X-Timestamp"] = timestamp
        prepared.headers["X-Signature"] = base64.b64encode(self.signing_key.sign(message)).decode("ascii")

    def _json(self, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError as err:
            raise PlatformUnavailable(f"answer to {resp.request.path_url} is not JSON") from err

    def _verified_body(self, resp: requests.Response, expected_sha256: str | None) -> bytes:
        body = resp.content
        digest = hashlib.sha256(body).hexdigest()
        announced = resp.headers.get(SHA256_HEADER)
        if announced is None:
            raise PlatformIntegrityError(f"{resp.request.path_url}: no {SHA256_HEADER} header")
        if digest != announced.lower():
            raise PlatformIntegrityError(f"{resp.request.path_url}: body does not match {SHA256_HEADER}")
        if expected_sha256 is not None and digest != expected_sha256.lower():
            raise PlatformIntegrityError(f"{resp.request.path_url}: body does not match the listed sha256")
        return body

    # ------------------------------------------------------------------ terminals

    def enrol(self, public_info: Mapping[str, Any] | None = None) -> str:
        """Enrol this terminal; returns the bearer token (also kept on the client)."""
        resp = self._request(
            "POST",
            f"{API}/terminals/enrol",
            json_body=self._enrolment(public_info),
            auth=False,
        )
        answer = self._json(resp)
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise PlatformUnavailable("enrolment answer has no token")
        self.token = token
        self.enrolment = EnrolmentInfo.from_answer(answer)
        if self.enrolment.lookup_key is not None:
            self.lookup_key = self.enrolment.lookup_key
        log.info("terminal %s enrolled with the platform", self.terminal_id)
        return token

    def _enrolment(self, public_info: Mapping[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"terminal_id": self.terminal_id, "public_info": dict(public_info or {})}
        if self.signing_key is not None:
            raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            body["public_key"] = base64.b64encode(raw).decode("ascii")
        return body

    def heartbeat(self, status: Mapping[str, Any]) -> None:
        self._request(
            "POST",
            f"{API}/terminals/{_seg(self.terminal_id)}/heartbeat",
            json_body={"device_status": dict(status)},
        )

    # ------------------------------------------------------------------ packages and lists

    def list_packages(self) -> list[PackageInfo]:
        data = self._json(self._request("GET", f"{API}/packages"))
        return [PackageInfo(str(d["item_id"]), str(d["version"]), str(d["sha256"])) for d in data]

    def fetch_package(self, item_id: str, expected_sha256: str | None = None) -> bytes:
        """The package file, byte for byte, after checking its SHA-256."""
        return self._verified_body(self._request("GET", f"{API}/packages/{_seg(item_id)}"), expected_sha256)

    def list_warning_lists(self) -> list[WarningListInfo]:
        data = self._json(self._request("GET", f"{API}/warning-lists"))
        return [WarningListInfo(str(d["name"]), str(d["version"]), str(d["sha256"])) for d in data]

    def fetch_warning_list(self, name: str, expected_sha256: str | None = None) -> bytes:
        return self._verified_body(self._request("GET", f"{API}/warning-lists/{_seg(name)}"), expected_sha256)

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
        resp = self._request("POST", f"{API}/cases", json_body=body, headers={"Idempotency-Key": case_id})
        raw = resp.content
        try:
            data = json.loads(raw)
            ack = UploadAck(
                case_id=str(data["case_id"]),
                platform_ref=str(data["platform_ref"]),
                received_at=float(data["received_at"]),
                replayed=resp.status_code == 200,
                raw=raw,
            )
        except (ValueError, KeyError, TypeError) as err:
            raise PlatformUnavailable(f"case {case_id}: unreadable acknowledgement") from err
        if ack.case_id != case_id:
            raise PlatformUnavailable(f"case {case_id}: acknowledgement names another case")
        log.info("case %s uploaded as %s%s", case_id, ack.platform_ref, " (replayed)" if ack.replayed else "")
        return ack

    def case_status(self, case_id: str) -> dict[str, Any]:
        data = self._json(self._request("GET", f"{API}/cases/{_seg(case_id)}"))
        if not isinstance(data, dict):
            raise PlatformUnavailable("case status is not an object")
        return data

    # ------------------------------------------------------------------ citizens

    def holder_token(self, id_number: str) -> str:
        """The keyed hash the platform knows the citizen by (the ID number never leaves in clear)."""
        if not self.lookup_key:
            raise PlatformUnavailable("no lookup key: the terminal has not enrolled with the platform yet")
        return hash_identifier(self.lookup_key, id_number)

    def reference_photo(self, id_number: str) -> bytes | None:
        """The citizen's reference photo (JPEG bytes) from the platform; None when it has none."""
        path = f"{API}/reference-photos/{self.holder_token(id_number)}"
        try:
            resp = self._request("GET", path)
        except PlatformRejected as err:
            if err.status == 404:
                return None
            raise
        body = self._verified_body(resp, None)
        if not body.startswith(_JPEG_MAGIC):
            raise PlatformIntegrityError(f"{API}/reference-photos: answer is not a JPEG")
        return body

    def verify_qr_token(self, token: str) -> Mapping[str, Any]:
        """The platform's answer on a scanned QR identity token (contract in kiosk/identity/qr.py)."""
        data = self._json(
            self._request(
                "POST",
                f"{API}/identity/qr/verify",
                json_body={"terminal_id": self.terminal_id, "token": token},
            )
        )
        if not isinstance(data, dict):
            raise PlatformUnavailable("QR token answer is not an object")
        return data

    def elicences(self, id_number: str) -> list[Mapping[str, Any]]:
        """The signed e-licences the platform holds for the citizen, as sent (not yet verified:
        see kiosk/elicence_platform.PlatformELicenceSource)."""
        holder = self.holder_token(id_number)
        query = urllib.parse.urlencode({"holder": holder})
        data = self._json(self._request("GET", f"{API}/elicences?{query}"))
        if (
            not isinstance(data, dict)
            or data.get("holder") != holder
            or not isinstance(data.get("licences"), list)
        ):
            raise PlatformUnavailable("e-licence answer is not a licence list for this holder")
        return [entry for entry in data["licences"] if isinstance(entry, dict)]

    # ------------------------------------------------------------------ field key, uploads, publicity

    def agree_field_key(self, public_key: bytes, algorithm: str) -> bytes:
        """Send the terminal's X25519 public key; returns the platform's (raw 32 bytes)."""
        data = self._json(
            self._request(
                "POST",
                f"{API}/terminals/{_seg(self.terminal_id)}/field-key",
                json_body={
                    "public_key": base64.b64encode(public_key).decode("ascii"),
                    "algorithm": algorithm,
                },
            )
        )
        try:
            raw = base64.b64decode(str(data["platform_public_key"]), validate=True)
        except (KeyError, TypeError, ValueError) as err:
            raise PlatformUnavailable("field-key answer has no platform public key") from err
        if len(raw) != 32 or data.get("algorithm") != algorithm:
            raise PlatformUnavailable("field-key answer does not match the request")
        return raw

    def _session_of(self, resp: requests.Response) -> UploadSessionInfo:
        data = self._json(resp)
        try:
            return UploadSessionInfo(
                upload_id=str(data["upload_id"]),
                size=int(data["size"]),
                offset=int(data["offset"]),
                complete=data["state"] == "complete",
            )
        except (KeyError, TypeError, ValueError) as err:
            raise PlatformUnavailable("unreadable upload session") from err

    def create_upload(self, attachment_id: str, spec: Mapping[str, Any]) -> UploadSessionInfo:
        """Create (or find again: the attachment id is the idempotency key) an upload session."""
        return self._session_of(
            self._request(
                "POST", f"{API}/uploads", json_body=dict(spec), headers={"Idempotency-Key": attachment_id}
            )
        )

    def upload_offset(self, upload_id: str) -> UploadSessionInfo:
        return self._session_of(self._request("GET", f"{API}/uploads/{_seg(upload_id)}"))

    def put_chunk(self, upload_id: str, start: int, chunk: bytes, total: int) -> UploadSessionInfo:
        """Send ``chunk`` as bytes ``start..start+len-1`` of ``total``; returns the committed offset."""
        end = start + len(chunk) - 1
        return self._session_of(
            self._request(
                "PUT",
                f"{API}/uploads/{_seg(upload_id)}",
                data=chunk,
                headers={
                    "Content-Range": f"bytes {start}-{end}/{total}",
                    "Content-Type": "application/octet-stream",
                },
            )
        )

    def complete_upload(self, upload_id: str) -> UploadSessionInfo:
        return self._session_of(self._request("POST", f"{API}/uploads/{_seg(upload_id)}/complete"))

    def certificate(self, case_id: str) -> bytes:
        """The certificate PDF the platform holds for a case (PlatformRejected 404 before it has one)."""
        return self._verified_body(self._request("GET", f"{API}/cases/{_seg(case_id)}/certificate"), None)

    def post_publicity(self, key: str, body: bytes) -> bytes:
        """Queue-side call: publish a double-publicity record (``key`` is the idempotency key)."""
        resp = self._request(
            "POST",
            f"{API}/publicity",
            data=body,
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        return resp.content

    def revoke_publicity(self, key: str, publicity_id: str, body: bytes) -> bytes:
        resp = self._request(
            "POST",
            f"{API}/publicity/{_seg(publicity_id)}/revoke",
            data=body,
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        return resp.content

    def published_records(self) -> list[dict[str, Any]]:
        """The publicity records the platform publishes now (revoked ones are gone)."""
        data = self._json(self._request("GET", f"{API}/publicity"))
        if not isinstance(data, list):
            raise PlatformUnavailable("publicity listing is not a list")
        return data

    def sandbox_publicity(self) -> list[dict[str, Any]]:
        """Sandbox only: every publicity record received, revoked ones included (tests)."""
        data = self._json(self._request("GET", "/_sandbox/publicity", auth=False))
        if not isinstance(data, list):
            raise PlatformUnavailable("/_sandbox/publicity is not a list")
        return data

    def opened_case(self, case_id: str) -> bytes:
        """Sandbox only: the case payload as the platform read it after opening the sealed fields."""
        data = self._json(self._request("GET", f"/_sandbox/cases/{_seg(case_id)}/opened", auth=False))
        return base64.b64decode(str(data["payload_b64"]))

    # ------------------------------------------------------------------ sandbox only

    def sandbox_attachment(self, case_id: str, name: str) -> bytes:
        """Sandbox only: a case's attachment (e.g. ``face``) as the platform stored it, opened."""
        response = self._request(
            "GET", f"/_sandbox/cases/{_seg(case_id)}/attachments/{_seg(name)}", auth=False
        )
        return response.content

    def received_cases(self) -> list[dict[str, Any]]:
        """Everything the sandbox platform received (``/_sandbox/cases``; tests and the demo)."""
        data = self._json(self._request("GET", "/_sandbox/cases", auth=False))
        if not isinstance(data, list):
            raise PlatformUnavailable("/_sandbox/cases is not a list")
        return data

    def set_sandbox_faults(self, **faults: Any) -> dict[str, Any]:
        """Set the sandbox's fault mode (tests and the demo)."""
        data = self._json(self._request("POST", "/_sandbox/faults", json_body=faults, auth=False))
        if not isinstance(data, dict):
            raise PlatformUnavailable("/_sandbox/faults answer is not an object")
        return data
