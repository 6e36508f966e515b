"""Certificate and receipt reprints (证照打印/补打) of the platform API.

* ``GET /api/v1/certificates?holder=…``: the certificates issued to a citizen (holder token, as for
  the citizen lookups; the ID number never travels), newest first, without their PDFs.
* ``GET /api/v1/certificates/{certificate_id}?holder=…``: one certificate's PDF (``X-Content-SHA256``
  of the bytes), only for its holder's token.
* ``POST /api/v1/reprints``: records one reprint (a certificate, or a case's acceptance receipt)
  made at the calling terminal.  ``Idempotency-Key`` (a UUID) is required: a retry with the same
  key and body answers the same record (200, ``Idempotent-Replayed``); the same key with another
  body, or by another terminal, is 422.  The record counts the reprints of that document.

Per-terminal authorisation: every route needs a signed (or token) terminal; a request's
``terminal_id`` must be the caller's.  The sandbox seeds one certificate for the demo's senior
citizen; ``/_sandbox/certificates`` adds more and ``/_sandbox/reprints`` lists the records.
"""

import base64
import binascii
import hashlib
import io
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from sandbox_platform import auth
from sandbox_platform.citizens import HOLDER_PATTERN, CitizenRegistry
from sandbox_platform.db import canonical_json, open_sqlite

API = "/api/v1"
SHA256_HEADER = "X-Content-SHA256"
CERT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_ID_NUMBER = r"^[0-9]{17}[0-9Xx]$"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS certificates (
        certificate_id TEXT PRIMARY KEY, holder TEXT NOT NULL, body TEXT NOT NULL, pdf BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS reprints (
        idempotency_key TEXT PRIMARY KEY, terminal_id TEXT NOT NULL, request_sha256 TEXT NOT NULL,
        kind TEXT NOT NULL, ref TEXT NOT NULL, response TEXT NOT NULL)""",
)


class CertificateInfo(BaseModel):
    certificate_id: str = Field(pattern=CERT_ID_PATTERN)
    certificate_number: str = Field(min_length=1, max_length=64, description="The number printed on it")
    case_ref: str = Field(min_length=1, max_length=64, description="The case it was issued for")
    item_name: str = Field(max_length=128)
    issued_at: float
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the PDF")


class CertificateList(BaseModel):
    certificates: list[CertificateInfo] = Field(max_length=100)


class ReprintRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    kind: Literal["certificate", "receipt"]
    ref: str = Field(
        pattern=CERT_ID_PATTERN, description="The certificate id, or the case reference of a receipt"
    )
    holder: str = Field(pattern=HOLDER_PATTERN, description="Holder token of the citizen")
    print_job: str = Field(max_length=64, description="The printer's job id at the terminal")


class ReprintRecord(BaseModel):
    reprint_id: str = Field(min_length=1, max_length=64)
    kind: Literal["certificate", "receipt"]
    ref: str = Field(pattern=CERT_ID_PATTERN)
    count: int = Field(ge=1, description="How many times this document has been reprinted, this one included")
    recorded_at: float


class CertificateSeed(BaseModel):
    id_number: str = Field(pattern=_ID_NUMBER)
    certificate_id: str = Field(pattern=CERT_ID_PATTERN)
    certificate_number: str = Field(min_length=1, max_length=64)
    case_ref: str = Field(min_length=1, max_length=64)
    item_name: str = Field(max_length=128)
    pdf_b64: str | None = Field(default=None, description="The PDF; a plain one is made when absent")


DEMO_CERTIFICATES = (
    CertificateSeed(
        id_number="371402195203140022",
        certificate_id="CERT-SD-LNYD-0000101",
        certificate_number="SD-LNYD-2026-000101",
        case_ref="SBXD0000090",
        item_name="老年人优待证申领 Senior citizen card",
    ),
)


def plain_certificate_pdf(number: str, item_name: str) -> bytes:
    """A one-page A4 certificate for the sandbox's seeds (the real ones come from the terminals)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, invariant=True)
    c.setTitle(f"Certificate {number}")
    c.setFont("Helvetica-Bold", 22)
    c.drawCentredString(A4[0] / 2, A4[1] - 160, "Certificate (sandbox platform)")
    c.setFont("Helvetica", 14)
    c.drawCentredString(A4[0] / 2, A4[1] - 220, f"No. {number}")
    ascii_name = item_name.encode("ascii", "ignore").decode().strip()
    c.drawCentredString(A4[0] / 2, A4[1] - 250, ascii_name or "certificate")
    c.showPage()
    c.save()
    return out.getvalue()


class ReprintDesk:
    """Issued certificates and reprint records (the sandbox's own SQLite file)."""

    def __init__(self, path: Path, citizens: CitizenRegistry, *, seed: bool = True) -> None:
        self._conn = open_sqlite(path, _SCHEMA)
        self.citizens = citizens
        self.lock = threading.RLock()
        if seed:
            for cert in DEMO_CERTIFICATES:
                self.add_certificate(cert, replace=False)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def add_certificate(self, seed: CertificateSeed, *, replace: bool = True) -> CertificateInfo:
        if seed.pdf_b64 is None:
            pdf = plain_certificate_pdf(seed.certificate_number, seed.item_name)
        else:
            try:
                pdf = base64.b64decode(seed.pdf_b64, validate=True)
            except (binascii.Error, ValueError) as err:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "pdf_b64 is not base64") from err
        info = CertificateInfo(
            certificate_id=seed.certificate_id,
            certificate_number=seed.certificate_number,
            case_ref=seed.case_ref,
            item_name=seed.item_name,
            issued_at=time.time(),
            sha256=hashlib.sha256(pdf).hexdigest(),
        )
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.lock:
            self._conn.execute(
                f"{verb} INTO certificates (certificate_id, holder, body, pdf) VALUES (?, ?, ?, ?)",
                (info.certificate_id, self.citizens.holder(seed.id_number), info.model_dump_json(), pdf),
            )
        return info

    def certificates(self, holder: str) -> list[CertificateInfo]:
        with self.lock:
            rows = self._conn.execute("SELECT body FROM certificates WHERE holder = ?", (holder,)).fetchall()
        found = [CertificateInfo.model_validate_json(r[0]) for r in rows]
        return sorted(found, key=lambda c: (-c.issued_at, c.certificate_id))

    def certificate(self, certificate_id: str, holder: str) -> tuple[CertificateInfo, bytes] | None:
        with self.lock:
            row = self._conn.execute(
                "SELECT body, pdf FROM certificates WHERE certificate_id = ? AND holder = ?",
                (certificate_id, holder),
            ).fetchone()
        return None if row is None else (CertificateInfo.model_validate_json(row[0]), bytes(row[1]))

    def record(self, key: str, caller: str, req: ReprintRequest) -> tuple[ReprintRecord, bool]:
        """(record, created): a repeated key with the same body and terminal replays the first record."""
        request_sha = hashlib.sha256(canonical_json(req.model_dump(mode="json")).encode()).hexdigest()
        with self.lock:
            row = self._conn.execute(
                "SELECT terminal_id, request_sha256, response FROM reprints WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if row is not None:
                if row[0] != caller or row[1] != request_sha:
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different request",
                    )
                return ReprintRecord.model_validate_json(row[2]), False
            (before,) = self._conn.execute(
                "SELECT COUNT(*) FROM reprints WHERE kind = ? AND ref = ?", (req.kind, req.ref)
            ).fetchone()
            record = ReprintRecord(
                reprint_id=f"RP-{key[:18]}",
                kind=req.kind,
                ref=req.ref,
                count=before + 1,
                recorded_at=time.time(),
            )
            self._conn.execute(
                "INSERT INTO reprints (idempotency_key, terminal_id, request_sha256, kind, ref, response) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, caller, request_sha, req.kind, req.ref, record.model_dump_json()),
            )
        return record, True

    def all_reprints(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute("SELECT terminal_id, response FROM reprints ORDER BY rowid").fetchall()
        return [{"terminal_id": r[0], **ReprintRecord.model_validate_json(r[1]).model_dump()} for r in rows]


def reprint_router(desk: ReprintDesk, terminal: Any) -> APIRouter:
    """The reprint routes, authenticated by ``terminal`` (the app's signed-terminal dependency)."""
    router = APIRouter()
    Caller = Annotated[str, Depends(terminal)]
    Holder = Annotated[str, Query(pattern=HOLDER_PATTERN, description="Holder token")]

    @router.get(f"{API}/certificates", response_model=CertificateList, tags=["hall"])
    def list_certificates(caller: Caller, holder: Holder) -> CertificateList:
        return CertificateList(certificates=desk.certificates(holder)[:100])

    @router.get(
        f"{API}/certificates/{{certificate_id}}",
        response_class=Response,
        responses={
            200: {"content": {"application/pdf": {}}, "description": "The certificate PDF"},
            404: {"description": "No such certificate for this holder"},
        },
        tags=["hall"],
    )
    def get_certificate_pdf(
        certificate_id: Annotated[str, PathParam(pattern=CERT_ID_PATTERN)], caller: Caller, holder: Holder
    ) -> Response:
        found = desk.certificate(certificate_id, holder)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such certificate for this holder")
        info, pdf = found
        return Response(pdf, media_type="application/pdf", headers={SHA256_HEADER: info.sha256})

    @router.post(
        f"{API}/reprints",
        response_model=ReprintRecord,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"description": "Replay: this key was seen before with the same body"},
            400: {"description": "Missing or invalid Idempotency-Key"},
            404: {"description": "No such certificate for this holder"},
            422: {"description": "Key reused with a different body, or an invalid body"},
        },
        tags=["hall"],
    )
    def record_reprint(
        req: ReprintRequest,
        caller: Caller,
        response: Response,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> ReprintRecord:
        key = auth.idempotency_key(idempotency_key)
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "terminal_id is not the caller's")
        if req.kind == "certificate" and desk.certificate(req.ref, req.holder) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such certificate for this holder")
        record, created = desk.record(key, caller, req)
        if not created:
            auth.answer_replayed(response)
        return record

    @router.post("/_sandbox/certificates", response_model=CertificateInfo, tags=["sandbox"])
    def add_certificate(seed: CertificateSeed) -> CertificateInfo:
        return desk.add_certificate(seed)

    @router.get("/_sandbox/reprints", tags=["sandbox"])
    def sandbox_reprints() -> list[dict[str, Any]]:
        return desk.all_reprints()

    return router
