"""The central platform's terminal API, as a local FastAPI app for development, tests and the demo.

Endpoints live under ``/api/v1``.  Every one of them needs a bearer token from
``POST /api/v1/terminals/enrol``, except enrolment itself, ``/healthz`` and the
``/_sandbox`` test hooks.  Packages and warning lists are served from JSON files
in ``items_dir`` (re-read on every request).  Case uploads are idempotent on the
``Idempotency-Key`` header.

Fault mode (``POST /_sandbox/faults``) applies to ``/api/v1`` and ``/healthz``:
``down`` answers 503 to everything, ``latency_ms`` delays, ``error_rate`` answers
``error_status`` (with ``Retry-After`` when ``retry_after_s`` is set) before the
request is processed, and ``drop_after_processing`` processes the request and
then breaks the connection in the middle of the response, as if the network
dropped the answer.  A refused connection is simulated by stopping the server.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, Field, field_validator

from sandbox_platform.alerts import AlertDesk, alerts_router
from sandbox_platform.assist import install_assist
from sandbox_platform.auth import (
    AnswerSigner,
    Authenticator,
    ReplayCache,
    answer_replayed,
    calling_terminal,
    load_answer_key,
    public_b64,
)
from sandbox_platform.auth import (
    idempotency_key as idempotency_key_of,
)
from sandbox_platform.bundles import bundles_router
from sandbox_platform.citizens import CitizenRegistry, citizens_router
from sandbox_platform.db import PlatformDB, canonical_json
from sandbox_platform.fleet import fleet_router
from sandbox_platform.hall import HallDesk, hall_router
from sandbox_platform.lookups import LookupRegister, lookups_router
from sandbox_platform.outbox_api import OutboxPlatform, outbox_router
from sandbox_platform.ratings import RatingStore, ratings_router
from sandbox_platform.reprint import ReprintDesk, reprint_router
from sandbox_platform.staff import HallStaffDesk, staff_router
from sandbox_platform.tuf_repo import TufRepository, tuf_router

log = logging.getLogger(__name__)

API = "/api/v1"
SHA256_HEADER = "X-Content-SHA256"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --------------------------------------------------------------------------- models


class EnrolRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    public_info: dict[str, Any] = Field(default_factory=dict)
    public_key: str | None = Field(
        default=None,
        max_length=64,
        description="The terminal's Ed25519 public key (base64 of the 32 raw bytes); once enrolled "
        "with one, the terminal's requests must be signed (X-Terminal-Id, X-Timestamp, X-Signature)",
    )
    enrolment_code: str | None = Field(default=None, max_length=128)

    @field_validator("public_key")
    @classmethod
    def _ed25519(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Ed25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
            except (binascii.Error, ValueError) as err:
                raise ValueError("public_key is not a base64 Ed25519 public key") from err
        return value


class EnrolmentCodeRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    ttl_s: float = Field(default=86400.0, gt=0, le=30 * 86400)


class EnrolmentCode(BaseModel):
    terminal_id: str
    code: str


class EnrolResponse(BaseModel):
    token: str = Field(min_length=1, max_length=256)
    # Citizen lookups (sandbox_platform/citizens.py): the key for holder tokens and the e-licence key.
    lookup_key: str | None = Field(
        default=None,
        max_length=128,
        description="base64 HMAC key for holder tokens (HMAC-SHA256 of the ID number)",
    )
    lookup_key_id: str | None = Field(default=None, max_length=128)
    elicence_public_key: str | None = Field(
        default=None, max_length=128, description="base64 Ed25519 public key that signs e-licences"
    )
    elicence_key_id: str | None = Field(default=None, max_length=128)
    platform_answer_key: str | None = Field(
        default=None,
        max_length=128,
        description="base64 Ed25519 public key that signs the platform's answers (X-Platform-Signature)",
    )
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


SHA256_PATTERN = r"^[0-9a-f]{64}$"


class PackageInfo(BaseModel):
    item_id: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=SHA256_PATTERN)


class WarningListInfo(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    version: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=SHA256_PATTERN)


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


class CaseReceipt(BaseModel):
    case_id: str = Field(min_length=1, max_length=64)
    platform_ref: str = Field(min_length=1, max_length=64)
    received_at: float
    status: str = Field(max_length=32)


class CaseStatus(BaseModel):
    case_id: str = Field(min_length=1, max_length=64)
    item_id: str = Field(min_length=1, max_length=128)
    terminal_id: str = Field(min_length=1, max_length=64)
    platform_ref: str = Field(min_length=1, max_length=64)
    received_at: float
    status: str = Field(max_length=32)


class Faults(BaseModel):
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_status: int = Field(default=500, ge=400, le=599)
    retry_after_s: float | None = Field(default=None, ge=0.0)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    drop_after_processing: bool = False
    down: bool = False


class Health(BaseModel):
    status: str


class Problem(BaseModel):
    detail: str


#: Answers any operation may give (declared so the OpenAPI document is complete; schemathesis checks it).
_COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, unknown or revoked terminal credentials"},
    403: {"model": Problem, "description": "The credentials belong to another terminal"},
    404: {"model": Problem, "description": "No such resource"},
    503: {"model": Problem, "description": "The platform is down (sandbox fault mode)"},
}


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class _Document:
    key: str
    version: str
    sha256: str
    body: bytes


def _scan(directory: Path, key_field: str) -> dict[str, _Document]:
    docs: dict[str, _Document] = {}
    if not directory.is_dir():
        return docs
    for path in sorted(directory.glob("*.json")):
        body = path.read_bytes()
        try:
            data = json.loads(body)
            key, version = str(data[key_field]), str(data["version"])
        except (ValueError, KeyError, TypeError) as err:
            log.warning("sandbox: skipping %s: no valid %r/version (%s)", path.name, key_field, err)
            continue
        docs[key] = _Document(key, version, hashlib.sha256(body).hexdigest(), body)
    return docs


# --------------------------------------------------------------------------- faults


class _FaultMiddleware:
    """Pure ASGI middleware so it can break a connection half-way through a response."""

    def __init__(self, app: ASGIApp, faults: Callable[[], Faults]) -> None:
        self.app = app
        self.faults = faults
        self.rng = random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (path.startswith(API + "/") or path == "/healthz"):
            await self.app(scope, receive, send)
            return
        faults = self.faults()
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.down:
            await _plain(send, 503, b'{"detail":"sandbox is down"}')
            return
        if faults.error_rate and self.rng.random() < faults.error_rate:
            headers = []
            if faults.retry_after_s is not None:
                headers.append((b"retry-after", str(int(faults.retry_after_s)).encode()))
            await _plain(send, faults.error_status, b'{"detail":"injected fault"}', headers)
            return
        if not faults.drop_after_processing:
            await self.app(scope, receive, send)
            return

        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        start = next((m for m in captured if m["type"] == "http.response.start"), None)
        if start is None:
            return
        # Send the status line and headers, half of the body, then return: uvicorn closes
        # the connection because the response is incomplete.  The client sees a broken answer.
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        await send(start)
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        log.info("sandbox: dropped the response to %s %s after processing", scope.get("method"), path)


async def _plain(send: Send, code: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": code, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- auth

#: The terminal the middleware authenticated (sandbox_platform/auth.py).
Terminal = Annotated[str, Depends(calling_terminal)]


# --------------------------------------------------------------------------- app


def create_app(data_dir: Path, items_dir: Path) -> FastAPI:
    """Build the sandbox platform app.  State lives in ``data_dir/platform.sqlite3``."""
    data_dir = Path(data_dir)
    items_dir = Path(items_dir)
    db = PlatformDB(data_dir / "platform.sqlite3")
    fault_lock = threading.Lock()
    current_faults = [Faults()]

    def get_faults() -> Faults:
        with fault_lock:
            return current_faults[0]

    app = FastAPI(
        title="Hall terminal platform API (sandbox)",
        version="1.0.0",
        description="The central platform's terminal-facing API, run locally for development and tests.",
        responses=_COMMON_RESPONSES,
    )
    app.state.db = db
    app.state.citizens = CitizenRegistry(data_dir / "citizens.sqlite3")
    # Authentication runs before any route reads a body; faults are outermost (middleware added
    # last runs first), so a "down" platform answers 503 whoever asks.
    answer_key = load_answer_key(data_dir / "platform_answer.key")
    answer_key_id = "answer-" + hashlib.sha256(public_b64(answer_key).encode()).hexdigest()[:12]
    app.add_middleware(AnswerSigner, key=answer_key, key_id=answer_key_id)
    app.state.replays = ReplayCache(data_dir / "platform.sqlite3")  # survives a restart
    app.add_middleware(Authenticator, db=db, replays=app.state.replays)
    app.add_middleware(_FaultMiddleware, faults=get_faults)

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz() -> Health:
        return Health(status="ok")

    @app.post(
        f"{API}/terminals/enrol",
        response_model=EnrolResponse,
        responses={
            401: {
                "model": Problem,
                "description": "No valid one-time code and not signed with the enrolled key",
            },
            403: {"model": Problem, "description": "The terminal is revoked"},
        },
        tags=["terminals"],
    )
    def enrol(req: EnrolRequest, request: Request) -> EnrolResponse:
        proven = getattr(request.state, "terminal", None) == req.terminal_id
        with db.lock:
            known = db.terminal_key(req.terminal_id)
            if known is not None and known[1]:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal is revoked")
            if not proven and not (req.enrolment_code and db.use_code(req.terminal_id, req.enrolment_code)):
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "enrolment needs a valid one-time code issued for this terminal id, or (to re-enrol) "
                    "a request signed with the enrolled key",
                )
            token = db.enrol(req.terminal_id, req.public_info, req.public_key)
        if token is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal is revoked")
        log.info("sandbox: enrolled terminal %s (%s)", req.terminal_id, "key" if proven else "one-time code")
        return EnrolResponse(
            token=token,
            platform_answer_key=public_b64(answer_key),
            platform_answer_key_id=answer_key_id,
            **app.state.citizens.provisioning(),
        )

    @app.post(
        f"{API}/terminals/{{terminal_id}}/heartbeat",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["terminals"],
    )
    def heartbeat(terminal_id: str, req: HeartbeatRequest, caller: Terminal) -> Response:
        if caller != terminal_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "token belongs to another terminal")
        db.heartbeat(
            terminal_id, req.device_status, req.model_dump(exclude={"device_status"}, exclude_none=True)
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @app.get(f"{API}/packages", response_model=list[PackageInfo], tags=["packages"])
    def list_packages(caller: Terminal) -> list[PackageInfo]:
        docs = _scan(items_dir, "id")
        return [PackageInfo(item_id=d.key, version=d.version, sha256=d.sha256) for d in docs.values()]

    @app.get(
        f"{API}/packages/{{item_id}}",
        response_class=Response,
        responses={
            200: {"content": {"application/json": {}}, "description": "The package file, byte for byte"}
        },
        tags=["packages"],
    )
    def get_package(item_id: str, caller: Terminal) -> Response:
        doc = _scan(items_dir, "id").get(item_id)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no package {item_id!r}")
        return Response(doc.body, media_type="application/json", headers={SHA256_HEADER: doc.sha256})

    @app.get(f"{API}/warning-lists", response_model=list[WarningListInfo], tags=["warning lists"])
    def list_warning_lists(caller: Terminal) -> list[WarningListInfo]:
        docs = _scan(items_dir / "warning_lists", "name")
        return [WarningListInfo(name=d.key, version=d.version, sha256=d.sha256) for d in docs.values()]

    @app.get(
        f"{API}/warning-lists/{{name}}",
        response_class=Response,
        responses={200: {"content": {"application/json": {}}, "description": "The list file, byte for byte"}},
        tags=["warning lists"],
    )
    def get_warning_list(name: str, caller: Terminal) -> Response:
        doc = _scan(items_dir / "warning_lists", "name").get(name)
        if doc is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no warning list {name!r}")
        return Response(doc.body, media_type="application/json", headers={SHA256_HEADER: doc.sha256})

    @app.post(
        f"{API}/cases",
        response_model=CaseReceipt,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": CaseReceipt, "description": "Replay: this key was seen before with the same body"},
            400: {"description": "Missing/invalid Idempotency-Key, or unknown item"},
            409: {"description": "The case id was already received under another key"},
            422: {"description": "Key reused with a different body, or an invalid body"},
        },
        tags=["cases"],
    )
    def upload_case(
        req: CaseUpload,
        caller: Terminal,
        response: Response,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> CaseReceipt:
        key = idempotency_key_of(idempotency_key)
        request = req.model_dump(mode="json", exclude_none=True)
        request_sha = hashlib.sha256(canonical_json(request).encode("utf-8")).hexdigest()
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal_id does not match the token")
        with db.lock:
            earlier = db.case_by_key(key)
            if earlier is not None:
                if earlier.request_sha256 != request_sha:
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different request body",
                    )
                answer_replayed(response)
                return CaseReceipt(**earlier.response)
            try:
                payload = base64.b64decode(req.payload_b64, validate=True)
            except (binascii.Error, ValueError) as err:
                raise HTTPException(
                    status.HTTP_422_UNPROCESSABLE_CONTENT, "payload_b64 is not base64"
                ) from err
            if req.payload_sha256 is not None and hashlib.sha256(payload).hexdigest() != req.payload_sha256:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "payload_sha256 does not match")
            app.state.outbox.check_case(caller, req, payload)  # attachments, sealed fields
            if req.item_id not in _scan(items_dir, "id"):
                raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown item {req.item_id!r}")
            if db.case_exists(req.case_id):
                raise HTTPException(status.HTTP_409_CONFLICT, "case id already received under another key")
            receipt = CaseReceipt(
                case_id=req.case_id,
                platform_ref=f"SBX{db.next_seq():08d}",
                received_at=time.time(),
                status="received",
            )
            db.insert_case(
                key=key, request_sha256=request_sha, request=request, response=receipt.model_dump(mode="json")
            )
        log.info("sandbox: received case %s as %s", req.case_id, receipt.platform_ref)
        return receipt

    @app.get(f"{API}/cases/{{case_id}}", response_model=CaseStatus, tags=["cases"])
    def case_status(case_id: str, caller: Terminal) -> CaseStatus:
        found = db.case(case_id)
        if found is None or found["terminal_id"] != caller:  # another terminal's case does not exist for it
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
        return CaseStatus(**found)

    @app.get("/_sandbox/cases", tags=["sandbox"])
    def sandbox_cases() -> list[dict[str, Any]]:
        return db.all_cases()

    @app.get("/_sandbox/terminals", tags=["sandbox"])
    def sandbox_terminals() -> list[dict[str, Any]]:
        return db.terminals()

    @app.post(
        "/_sandbox/terminals/{terminal_id}/revoke",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["sandbox"],
    )
    def sandbox_revoke(terminal_id: str) -> Response:
        if not db.revoke(terminal_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such terminal")
        log.info("sandbox: revoked terminal %s", terminal_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @app.post("/_sandbox/enrolment-codes", response_model=EnrolmentCode, tags=["sandbox"])
    def sandbox_enrolment_code(req: EnrolmentCodeRequest) -> EnrolmentCode:
        """The platform's installer console: a one-time enrolment code for one terminal id."""
        return EnrolmentCode(terminal_id=req.terminal_id, code=db.issue_code(req.terminal_id, req.ttl_s))

    @app.get("/_sandbox/faults", response_model=Faults, tags=["sandbox"])
    def get_fault_mode() -> Faults:
        return get_faults()

    @app.post("/_sandbox/faults", response_model=Faults, tags=["sandbox"])
    def set_fault_mode(faults: Faults) -> Faults:
        with fault_lock:
            current_faults[0] = faults
        log.info("sandbox: fault mode %s", faults.model_dump())
        return faults

    app.include_router(citizens_router(app.state.citizens, calling_terminal))
    # Signed rule packages and warning lists (TUF): a protocol of their own, outside the API contract.
    app.state.tuf = TufRepository(data_dir, items_dir)
    app.include_router(tuf_router(app.state.tuf), include_in_schema=False)
    app.include_router(fleet_router(db), include_in_schema=False)  # the hall's fleet page
    # Field-key agreement, resumable attachment uploads, certificates, publicity records.
    app.state.outbox = OutboxPlatform(data_dir)
    app.include_router(outbox_router(app.state.outbox, calling_terminal))
    app.include_router(bundles_router(db.all_cases, app.state.outbox.opened_case))  # 一件事 applications
    # 好差评 ratings (GB/T 39734 一次一评).
    app.state.ratings = RatingStore(data_dir)
    app.include_router(
        ratings_router(app.state.ratings, calling_terminal, lambda c: (db.case(c) or {}).get("terminal_id"))
    )
    install_assist(app, data_dir, db, calling_terminal)
    app.state.alerts = AlertDesk(data_dir)  # terminal alerts (lockout, staff call, faults, clock skew)
    app.include_router(alerts_router(app.state.alerts, calling_terminal))
    app.state.hall = HallDesk(data_dir / "hall.sqlite3", app.state.citizens, db.case)
    app.include_router(hall_router(app.state.hall, calling_terminal))
    app.state.reprints = ReprintDesk(data_dir / "reprints.sqlite3", app.state.citizens)
    app.include_router(reprint_router(app.state.reprints, calling_terminal))
    app.state.lookups = LookupRegister(data_dir / "lookups.sqlite3", app.state.citizens)
    app.include_router(
        lookups_router(app.state.lookups, calling_terminal, lambda i: _package_doc(items_dir, i))
    )
    app.state.staff = HallStaffDesk(data_dir, answer_key)  # the hall's signed staff registry, issuer CA
    app.include_router(staff_router(app.state.staff, calling_terminal), include_in_schema=False)
    return app


def _package_doc(items_dir: Path, item_id: str) -> dict[str, Any] | None:
    doc = _scan(items_dir, "id").get(item_id)
    return None if doc is None else dict(json.loads(doc.body))
