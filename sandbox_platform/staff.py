"""The hall's staff registry and staff card issuer CA, as the platform keeps them (sandbox).

``GET /api/v1/staff/registry`` gives the terminals of the hall one signed document (format in
kiosk/maintenance/staff_registry.py): staff id → role, revoked certificate serials, and the issuer
CA whose certificates the staff's PIV cards carry.  The document is signed with the platform's
answer key (the key the terminals pinned at enrolment), so a terminal can keep it and check it
again offline.  The CA's private key stays here (``<data_dir>/staff-issuer-ca.key``, 0600): the
hall's issuing desk uses it with ``python -m terminal.staff_provision issue``.

Sandbox hooks (tests, demo): ``POST /_sandbox/staff`` sets or removes a staff member,
``POST /_sandbox/staff/revoke`` revokes a certificate serial; each bumps the sequence.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

FORMAT = "hall-staff-registry/1"
CA_KEY_FILE = "staff-issuer-ca.key"
CA_CERT_FILE = "staff-issuer-ca.pem"


class StaffSeed(BaseModel):
    staff_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    role: Literal["operator", "technician", "auditor"] | None = None  # None: remove


class RevokeSeed(BaseModel):
    serial: str = Field(pattern=r"^[0-9a-fA-F]{1,40}$")


def _make_ca(data_dir: Path, hall: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, hall),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{hall} staff card issuer"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    fd = os.open(data_dir / CA_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (data_dir / CA_CERT_FILE).write_bytes(cert.public_bytes(Encoding.PEM))


class HallStaffDesk:
    def __init__(self, data_dir: Path, answer_key: Ed25519PrivateKey, hall: str = "HALL-SANDBOX") -> None:
        self.data_dir = data_dir
        self.hall = hall
        self._key = answer_key
        self._lock = threading.Lock()
        self._state_path = data_dir / "staff-registry.json"
        if not (data_dir / CA_KEY_FILE).exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            _make_ca(data_dir, hall)
        load_pem_private_key((data_dir / CA_KEY_FILE).read_bytes(), None)  # refuse a broken CA at start
        self.ca_pem = (data_dir / CA_CERT_FILE).read_text(encoding="ascii")

    def _state(self) -> dict[str, Any]:
        if self._state_path.exists():
            state: dict[str, Any] = json.loads(self._state_path.read_text(encoding="utf-8"))
            return state
        return {"sequence": 1, "staff": {}, "revoked": []}

    def _save(self, state: dict[str, Any]) -> None:
        state["sequence"] += 1
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self._state_path)

    def set_staff(self, seed: StaffSeed) -> dict[str, Any]:
        with self._lock:
            state = self._state()
            if seed.role is None:
                state["staff"].pop(seed.staff_id, None)
            else:
                state["staff"][seed.staff_id] = {"role": seed.role}
            self._save(state)
        return self.document()

    def revoke(self, seed: RevokeSeed) -> dict[str, Any]:
        with self._lock:
            state = self._state()
            serial = format(int(seed.serial, 16), "x")
            if serial not in state["revoked"]:
                state["revoked"].append(serial)
            self._save(state)
        return self.document()

    def document(self) -> dict[str, Any]:
        with self._lock:
            state = self._state()
        ca_der = x509.load_pem_x509_certificate(self.ca_pem.encode("ascii")).public_bytes(Encoding.DER)
        registry = {
            "format": FORMAT,
            "hall": self.hall,
            "sequence": state["sequence"],
            "issued_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "issuer_ca": self.ca_pem,
            "issuer_ca_sha256": hashlib.sha256(ca_der).hexdigest(),
            "staff": state["staff"],
            "revoked": state["revoked"],
        }
        signed = json.dumps(registry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )
        return {"registry": registry, "signature": base64.b64encode(self._key.sign(signed)).decode("ascii")}


def staff_router(desk: HallStaffDesk, terminal: Any) -> APIRouter:
    """The registry for authenticated terminals (``terminal``: the app's signed-terminal dependency)."""
    router = APIRouter()

    @router.get("/api/v1/staff/registry", tags=["staff"])
    def registry(_: str = Depends(terminal)) -> dict[str, Any]:
        return desk.document()

    @router.post("/_sandbox/staff", tags=["sandbox"])
    def set_staff(seed: StaffSeed) -> dict[str, Any]:
        return desk.set_staff(seed)

    @router.post("/_sandbox/staff/revoke", tags=["sandbox"])
    def revoke(seed: RevokeSeed) -> dict[str, Any]:
        return desk.revoke(seed)

    return router
