"""Client of the platform's certificate reprint API (contract: docs/platform-api/openapi.json,
``/certificates`` and ``/reprints``, tag ``hall``).

A citizen's issued certificates are listed and fetched by holder token (the ID number never leaves
the terminal in clear); every answer is validated through the models below (mirrors of the
contract's schemas of the same names, checked through :data:`REPRINT_MODELS`) and a PDF is checked
against both its ``X-Content-SHA256`` and the listed digest.  A reprint is recorded with an
``Idempotency-Key``: a retry after a lost answer records it once.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk.cases.platform_hall import HOLDER_PATTERN
from kiosk.cases.platform_transport import API

if TYPE_CHECKING:
    from kiosk.cases.platform_client import PlatformClient

CERT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
ReprintKind = Literal["certificate", "receipt"]


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


class CertificateInfo(_Reply):
    certificate_id: str = Field(pattern=CERT_ID_PATTERN)
    certificate_number: str = Field(min_length=1, max_length=64)
    case_ref: str = Field(min_length=1, max_length=64)
    item_name: str = Field(max_length=128)
    issued_at: float
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CertificateList(_Reply):
    certificates: list[CertificateInfo] = Field(max_length=100)


class ReprintRequest(BaseModel):
    terminal_id: str = Field(min_length=1, max_length=64)
    kind: ReprintKind
    ref: str = Field(pattern=CERT_ID_PATTERN)
    holder: str = Field(pattern=HOLDER_PATTERN)
    print_job: str = Field(max_length=64)


class ReprintRecord(_Reply):
    reprint_id: str = Field(min_length=1, max_length=64)
    kind: ReprintKind
    ref: str = Field(pattern=CERT_ID_PATTERN)
    count: int = Field(ge=1)
    recorded_at: float


REPRINT_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m for m in (CertificateInfo, CertificateList, ReprintRequest, ReprintRecord)
}


class ReprintPlatform:
    """The reprint operations over one :class:`PlatformClient`'s signed transport."""

    def __init__(self, client: PlatformClient) -> None:
        self.client = client

    def certificates_for(self, id_number: str) -> list[CertificateInfo]:
        holder = self.client.holder_token(id_number)
        reply = self.client.transport.request(
            "GET", f"{API}/certificates?{urllib.parse.urlencode({'holder': holder})}"
        )
        return list(self.client.transport.parse(reply, CertificateList, "certificates").certificates)

    def certificate_pdf(self, cert: CertificateInfo, id_number: str) -> bytes:
        """The certificate's PDF, checked against the listed SHA-256."""
        holder = self.client.holder_token(id_number)
        path = f"{API}/certificates/{urllib.parse.quote(cert.certificate_id, safe='')}"
        reply = self.client.transport.request("GET", f"{path}?{urllib.parse.urlencode({'holder': holder})}")
        return self.client.transport.verified_body(reply, cert.sha256)

    def request_body(self, kind: ReprintKind, ref: str, id_number: str, print_job: str) -> bytes:
        """The ``POST /api/v1/reprints`` body as sent (and as queued in the outbox when it cannot be
        sent): the holder travels as its token only."""
        body = ReprintRequest(
            terminal_id=self.client.terminal_id,
            kind=kind,
            ref=ref,
            holder=self.client.holder_token(id_number),
            print_job=print_job[:64],
        )
        return body.model_dump_json().encode("utf-8")

    def record(
        self, kind: ReprintKind, ref: str, id_number: str, print_job: str, idempotency_key: str
    ) -> ReprintRecord:
        body = self.request_body(kind, ref, id_number, print_job)
        reply = self.client.transport.request(
            "POST",
            f"{API}/reprints",
            data=body,
            headers={"Idempotency-Key": idempotency_key, "Content-Type": "application/json"},
        )
        record = self.client.transport.parse(reply, ReprintRecord, "reprint record")
        if (record.kind, record.ref) != (kind, ref):
            raise ValueError("the platform recorded another reprint")
        return record
