"""Citizen lookups of the platform API: reference photos, QR identity tokens, e-licences.

The terminal never sends an ID number in clear for a lookup.  It sends the **holder
token** ``HMAC-SHA256(lookup_key, normalised ID number)`` in hex (the terminal computes it
with ``kiosk.review.warnings.hash_identifier``; :func:`holder_token` here is the same function),
where the lookup key is the platform's, handed to the terminal at enrolment
(``EnrolResponse.lookup_key``).  The platform keeps its registry indexed by holder token
under its current key.

* ``GET /api/v1/reference-photos/{holder}``: the citizen's reference photo (JPEG), 404 when
  the platform has none.
* ``POST /api/v1/identity/qr/verify``: the QR identity token check (contract at the top of
  ``kiosk/identity/qr.py``).  Tokens are one-time: a verified token answers ``used`` next time.
* ``GET /api/v1/elicences?holder=<token>``: the e-licences held for the citizen, each signed
  by the platform with Ed25519 over ``b"elicence/v1\\n" + canonical JSON of the licence``
  (keys sorted, no spaces, UTF-8).  The licence names its holder token, so a licence cannot be
  replayed for another citizen.  The verifying key is ``EnrolResponse.elicence_public_key``.

The registry lives in ``data_dir/citizens.sqlite3`` with the platform's keys; it is seeded
with the three demo citizens (reference photos from ``devices/camera/media/``, read as files)
and e-licences for two of them.  ``/_sandbox/reference-photos``, ``/_sandbox/qr-tokens`` and
``/_sandbox/elicences`` add more for tests.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from sandbox_platform.db import open_sqlite

log = logging.getLogger(__name__)

API = "/api/v1"
SHA256_HEADER = "X-Content-SHA256"
HOLDER_PATTERN = r"^[0-9a-f]{64}$"
SIGNATURE_CONTEXT = b"elicence/v1\n"
MEDIA_DIR = Path(__file__).resolve().parent.parent / "devices" / "camera" / "media"
_ID_NUMBER = r"^[0-9]{17}[0-9Xx]$"
_QR_TOKEN_SHAPE = re.compile(r"^(EID|APP)1\.[A-Za-z0-9_-]{16,128}$")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS platform_keys (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
    """CREATE TABLE IF NOT EXISTS reference_photos (
        holder TEXT PRIMARY KEY, jpeg BLOB NOT NULL, updated_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS qr_tokens (
        token_sha256 TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
        id_number TEXT NOT NULL, name TEXT NOT NULL, expires_at REAL NOT NULL,
        revoked_at REAL, used_at REAL, used_by TEXT)""",
    """CREATE TABLE IF NOT EXISTS elicences (
        licence_id TEXT PRIMARY KEY, holder TEXT NOT NULL, body TEXT NOT NULL, signature TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS elicences_holder ON elicences (holder)",
)


# --------------------------------------------------------------------------- functions


def normalise_identifier(value: str) -> str:
    """NFKC, no whitespace, upper case: the same as ``kiosk.review.warnings.normalise_identifier``."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()


def holder_token(key: bytes, id_number: str) -> str:
    """``HMAC-SHA256(key, normalised ID number)`` in hex: ``kiosk.review.warnings.hash_identifier``."""
    return hmac.new(key, normalise_identifier(id_number).encode("utf-8"), hashlib.sha256).hexdigest()


def canonical_licence(licence: dict[str, Any]) -> bytes:
    """The bytes an e-licence signature covers."""
    body = json.dumps(licence, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return SIGNATURE_CONTEXT + body.encode("utf-8")


def _key_id(prefix: str, material: bytes) -> str:
    return f"{prefix}-{hashlib.sha256(material).hexdigest()[:12]}"


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- models


class ReferencePhotoSeed(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER, description="The citizen's ID number (registry side)")
    jpeg_b64: str = Field(description="The reference photo, JPEG, base64")


class HolderAnswer(BaseModel):
    holder: str = Field(description="The citizen's holder token under the platform's lookup key")


class QrVerifyRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=2048, description="The scanned QR text, as it is")


class QrValid(BaseModel):
    valid: Literal[True]
    token_id: str = Field(max_length=128)
    source: Literal["e-id", "app"]
    id_number: str = Field(max_length=32)
    name: str = Field(max_length=128)
    expires_at: str = Field(max_length=64, description="ISO 8601, UTC")


class QrInvalid(BaseModel):
    valid: Literal[False]
    reason: Literal["expired", "revoked", "used", "unknown", "malformed"]


class QrTokenIssue(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER)
    name: str = Field(min_length=1, max_length=64)
    source: Literal["e-id", "app"] = "e-id"
    ttl_s: float = Field(default=120.0, description="Seconds until it expires; <= 0 issues an expired token")
    revoked: bool = False


class QrTokenIssued(BaseModel):
    token: str
    token_id: str
    expires_at: str


class ELicenceBody(BaseModel):
    """What the platform signs."""

    licence_id: str = Field(min_length=1, max_length=64)
    holder: str = Field(pattern=HOLDER_PATTERN)
    material_type: str = Field(min_length=1, max_length=64, description="Item packages' material type")
    title_zh: str
    title_en: str
    issued_at: str = Field(description="ISO 8601 date")
    issuer: str = ""
    fields: dict[str, str] = Field(default_factory=dict, description="Extractor field names -> values")


class SignedELicence(BaseModel):
    licence: ELicenceBody
    key_id: str = Field(description="Which platform key signed it")
    signature: str = Field(description='base64 Ed25519 signature over b"elicence/v1\\n" + canonical JSON')


class ELicenceList(BaseModel):
    holder: str
    licences: list[SignedELicence] = Field(max_length=1000)


class ELicenceSeed(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER)
    licence_id: str = Field(min_length=1, max_length=64)
    material_type: str = Field(min_length=1, max_length=64)
    title_zh: str
    title_en: str
    issued_at: str
    issuer: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    tamper: bool = Field(default=False, description="Store it with a field altered after signing (tests)")


class Problem(BaseModel):
    detail: str


# --------------------------------------------------------------------------- seed data


@dataclass(frozen=True)
class _SeedCitizen:
    id_number: str
    name: str
    photo: str  # file under devices/camera/media


#: The demo citizens (their card keys as in devices/idcard/sim_cards.py); the registry's photo is the card photo's source.
DEMO_REGISTRY = (
    _SeedCitizen("371402195203140022", "张桂兰", "obama_card.jpg"),
    _SeedCitizen("37140219880721003X", "李建国", "biden_card.jpg"),
    _SeedCitizen("371428197911020016", "王晓明", "kit_card.jpg"),
)

DEMO_ELICENCES: tuple[ELicenceSeed, ...] = (
    ELicenceSeed(
        id_number="37140219880721003X",
        licence_id="BL-92371402MA3C8K2L0B",
        material_type="business_licence",
        title_zh="营业执照",
        title_en="Business licence",
        issued_at="2021-03-18",
        issuer="德州市德城区市场监督管理局",
        fields={
            "uscc": "92371402MA3C8K2L0B",
            "name": "德城区建国日杂店",
            "type": "个体工商户",
            "representative": "李建国",
            "address": "山东省德州市德城区东风中路88号",
            "established": "2021-03-18",
        },
    ),
    ELicenceSeed(
        id_number="37140219880721003X",
        licence_id="LF-371402-2025-000318",
        material_type="lease",
        title_zh="房屋租赁登记备案证明",
        title_en="House lease registration",
        issued_at="2025-01-06",
        issuer="德州市德城区住房和城乡建设局",
        fields={
            "lessor": "德州市德城区新华物业管理有限公司",
            "lessee": "李建国",
            "lessee_id": "37140219880721003X",
            "premises_address": "山东省德州市德城区新华路26号",
            "term_start": "2025-01-01",
            "term_end": "2027-12-31",
        },
    ),
    ELicenceSeed(
        id_number="371402195203140022",
        licence_id="YD-371402-2017-004512",
        material_type="senior_card",
        title_zh="老年人优待证",
        title_en="Senior citizen card",
        issued_at="2017-05-02",
        issuer="德州市德城区民政局",
        fields={"name": "张桂兰", "number": "YD3714022017004512", "valid_until": "2027-05-01"},
    ),
)


# --------------------------------------------------------------------------- store


class CitizenRegistry:
    """The platform's citizen registry and keys (its own SQLite file)."""

    def __init__(self, path: Path, *, seed: bool = True) -> None:
        self._conn = open_sqlite(path, _SCHEMA)
        self.lock = threading.RLock()
        with self.lock:
            self.lookup_key = self._key("lookup_key", lambda: secrets.token_bytes(32))
            raw = self._key(
                "elicence_signing_key",
                lambda: Ed25519PrivateKey.generate().private_bytes_raw(),
            )
        self._signing_key = Ed25519PrivateKey.from_private_bytes(raw)
        public = self._signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.elicence_public_key = base64.b64encode(public).decode("ascii")
        self.elicence_key_id = _key_id("el", public)
        self.lookup_key_id = _key_id("lk", hashlib.sha256(self.lookup_key).digest())
        if seed:
            self.seed_demo()

    def _key(self, name: str, make: Any) -> bytes:
        row = self._conn.execute("SELECT value FROM platform_keys WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return bytes(row[0])
        value: bytes = make()
        self._conn.execute("INSERT INTO platform_keys (name, value) VALUES (?, ?)", (name, value))
        return value

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def holder(self, id_number: str) -> str:
        return holder_token(self.lookup_key, id_number)

    def provisioning(self) -> dict[str, str]:
        """What a terminal gets at enrolment for citizen lookups."""
        return {
            "lookup_key": base64.b64encode(self.lookup_key).decode("ascii"),
            "lookup_key_id": self.lookup_key_id,
            "elicence_public_key": self.elicence_public_key,
            "elicence_key_id": self.elicence_key_id,
        }

    # seeds

    def seed_demo(self) -> None:
        for citizen in DEMO_REGISTRY:
            path = MEDIA_DIR / citizen.photo
            try:
                jpeg = path.read_bytes()
            except OSError as err:
                log.warning("sandbox: no reference photo %s for a demo citizen (%s)", path.name, err)
                continue
            self.put_photo(citizen.id_number, jpeg, replace=False)
        for seed in DEMO_ELICENCES:
            self.put_elicence(seed, replace=False)

    def put_photo(self, id_number: str, jpeg: bytes, *, replace: bool = True) -> str:
        holder = self.holder(id_number)
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.lock:
            self._conn.execute(
                f"{verb} INTO reference_photos (holder, jpeg, updated_at) VALUES (?, ?, ?)",
                (holder, jpeg, time.time()),
            )
        return holder

    def photo(self, holder: str) -> bytes | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT jpeg FROM reference_photos WHERE holder = ?", (holder,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def put_elicence(self, seed: ELicenceSeed, *, replace: bool = True) -> str:
        body = ELicenceBody(
            licence_id=seed.licence_id,
            holder=self.holder(seed.id_number),
            material_type=seed.material_type,
            title_zh=seed.title_zh,
            title_en=seed.title_en,
            issued_at=seed.issued_at,
            issuer=seed.issuer,
            fields=dict(seed.fields),
        )
        signed = body.model_dump(mode="json")
        signature = base64.b64encode(self._signing_key.sign(canonical_licence(signed))).decode("ascii")
        stored = dict(signed)
        if seed.tamper:  # altered after signing, as a forged or corrupted licence would be
            stored["fields"] = {**stored["fields"], "tampered": "1"}
            stored["title_zh"] = stored["title_zh"] + "（改）"
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.lock:
            self._conn.execute(
                f"{verb} INTO elicences (licence_id, holder, body, signature) VALUES (?, ?, ?, ?)",
                (body.licence_id, body.holder, json.dumps(stored, ensure_ascii=False), signature),
            )
        return body.holder

    def elicences(self, holder: str) -> list[SignedELicence]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT body, signature FROM elicences WHERE holder = ? ORDER BY licence_id", (holder,)
            ).fetchall()
        return [
            SignedELicence(licence=ELicenceBody(**json.loads(b)), key_id=self.elicence_key_id, signature=s)
            for b, s in rows
        ]

    # QR tokens

    def issue_qr(self, req: QrTokenIssue) -> QrTokenIssued:
        prefix = "EID1." if req.source == "e-id" else "APP1."
        token = prefix + secrets.token_urlsafe(32)
        token_id = "qr-" + secrets.token_hex(8)
        expires_at = time.time() + req.ttl_s
        with self.lock:
            self._conn.execute(
                "INSERT INTO qr_tokens (token_sha256, token_id, source, id_number, name, expires_at, revoked_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    hashlib.sha256(token.encode()).hexdigest(),
                    token_id,
                    req.source,
                    req.id_number.upper(),
                    req.name,
                    expires_at,
                    time.time() if req.revoked else None,
                ),
            )
        return QrTokenIssued(token=token, token_id=token_id, expires_at=_iso(expires_at))

    def revoke_qr(self, token_id: str) -> bool:
        with self.lock:
            cur = self._conn.execute(
                "UPDATE qr_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (time.time(), token_id),
            )
        return cur.rowcount == 1

    def verify_qr(self, token: str, terminal_id: str) -> QrValid | QrInvalid:
        """Check a token and spend it (one-time use).  Order: revoked, expired, used."""
        if not _QR_TOKEN_SHAPE.match(token):
            return QrInvalid(valid=False, reason="malformed")
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.lock:
            row = self._conn.execute(
                "SELECT token_id, source, id_number, name, expires_at, revoked_at, used_at FROM qr_tokens "
                "WHERE token_sha256 = ?",
                (digest,),
            ).fetchone()
            if row is None:
                return QrInvalid(valid=False, reason="unknown")
            token_id, source, id_number, name, expires_at, revoked_at, used_at = row
            if revoked_at is not None:
                return QrInvalid(valid=False, reason="revoked")
            if expires_at <= time.time():
                return QrInvalid(valid=False, reason="expired")
            if used_at is not None:
                return QrInvalid(valid=False, reason="used")
            self._conn.execute(
                "UPDATE qr_tokens SET used_at = ?, used_by = ? WHERE token_sha256 = ?",
                (time.time(), terminal_id, digest),
            )
        return QrValid(
            valid=True,
            token_id=token_id,
            source=source,
            id_number=id_number,
            name=name,
            expires_at=_iso(expires_at),
        )


# --------------------------------------------------------------------------- routes

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "The platform holds no reference photo for this holder"}
}


def citizens_router(registry: CitizenRegistry, terminal: Any) -> APIRouter:
    """The lookups, authenticated by ``terminal`` (the app's signed-terminal dependency)."""
    router = APIRouter()
    Caller = Annotated[str, Depends(terminal)]
    Holder = Annotated[str, PathParam(pattern=HOLDER_PATTERN, description="Holder token (64 hex)")]

    @router.get(
        f"{API}/reference-photos/{{holder}}",
        response_class=Response,
        responses={
            200: {"content": {"image/jpeg": {}}, "description": "The reference photo, JPEG"},
            **_NOT_FOUND,
        },
        tags=["citizens"],
    )
    def reference_photo(holder: Holder, caller: Caller) -> Response:
        jpeg = registry.photo(holder)
        log.info("sandbox: reference photo for %s… asked by %s: %s", holder[:8], caller, jpeg is not None)
        if jpeg is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no reference photo for this holder")
        return Response(
            jpeg, media_type="image/jpeg", headers={SHA256_HEADER: hashlib.sha256(jpeg).hexdigest()}
        )

    @router.post(
        f"{API}/identity/qr/verify",
        response_model=QrValid | QrInvalid,
        tags=["citizens"],
    )
    def verify_qr(req: QrVerifyRequest, caller: Caller) -> QrValid | QrInvalid:
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal_id is not the caller's")
        answer = registry.verify_qr(req.token, caller)
        fingerprint = hashlib.sha256(req.token.encode()).hexdigest()[:12]
        log.info("sandbox: QR token %s from %s: %s", fingerprint, caller, getattr(answer, "reason", "valid"))
        return answer

    @router.get(f"{API}/elicences", response_model=ELicenceList, tags=["citizens"])
    def elicences(
        holder: Annotated[str, Query(pattern=HOLDER_PATTERN, description="Holder token (64 hex)")],
        caller: Caller,
    ) -> ELicenceList:
        found = registry.elicences(holder)
        log.info("sandbox: %d e-licence(s) for %s… asked by %s", len(found), holder[:8], caller)
        return ELicenceList(holder=holder, licences=found)

    # ---------------------------------------------------------------- test hooks

    @router.post("/_sandbox/reference-photos", response_model=HolderAnswer, tags=["sandbox"])
    def add_reference_photo(seed: ReferencePhotoSeed) -> HolderAnswer:
        try:
            jpeg = base64.b64decode(seed.jpeg_b64, validate=True)
        except ValueError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "jpeg_b64 is not base64") from err
        if not jpeg.startswith(b"\xff\xd8\xff"):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "not a JPEG")
        return HolderAnswer(holder=registry.put_photo(seed.id_number, jpeg))

    @router.post("/_sandbox/qr-tokens", response_model=QrTokenIssued, tags=["sandbox"])
    def issue_qr_token(req: QrTokenIssue) -> QrTokenIssued:
        return registry.issue_qr(req)

    @router.post(
        "/_sandbox/qr-tokens/{token_id}/revoke",
        status_code=status.HTTP_204_NO_CONTENT,
        response_class=Response,
        tags=["sandbox"],
    )
    def revoke_qr_token(token_id: str) -> Response:
        if not registry.revoke_qr(token_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such live token")
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/_sandbox/elicences", response_model=HolderAnswer, tags=["sandbox"])
    def add_elicence(seed: ELicenceSeed) -> HolderAnswer:
        return HolderAnswer(holder=registry.put_elicence(seed))

    return router
