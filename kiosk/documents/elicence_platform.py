"""E-licences from the platform (``GET /api/v1/elicences?holder=<token>``), signature-checked.

The platform signs each licence with Ed25519 over ``b"elicence/v1\\n"`` followed by the
licence object as canonical JSON (keys sorted, ``","``/``":"`` separators, UTF-8, no ASCII
escaping).  The licence names the holder token it was issued to; a licence for another
holder is refused like a bad signature.  The verifying key reaches the terminal at
enrolment and is pinned on first use (:func:`pin_elicence_key`; docs/security.md):
a later enrolment announcing another key does not replace it.

A licence that fails any check is dropped with a warning that names only a short hash of
its id; the citizen then scans the paper.  No verifying key, or the platform unreachable:
``[]``, never an error that blocks the citizen.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kiosk.cases.platform_client import PlatformError
from kiosk.documents.elicence import ELicence

log = logging.getLogger(__name__)

SIGNATURE_CONTEXT = b"elicence/v1\n"
_TEXT_FIELDS = ("licence_id", "holder", "material_type", "title_zh", "title_en", "issued_at", "issuer")


class ELicenceClient(Protocol):
    def holder_token(self, id_number: str) -> str: ...

    def elicences(self, id_number: str) -> list[Mapping[str, Any]]: ...


def canonical_licence(licence: Mapping[str, Any]) -> bytes:
    """The bytes the platform's signature covers."""
    body = json.dumps(licence, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return SIGNATURE_CONTEXT + body.encode("utf-8")


def _short(value: object) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()[:10]


class PlatformELicenceSource:
    """:class:`kiosk.documents.elicence.ELicenceSource` over the platform client."""

    def __init__(self, client: ELicenceClient, verify_key: Ed25519PublicKey | None = None) -> None:
        self._client = client
        #: The pinned e-licence key; set after enrolment when it was not known at start.
        self.verify_key = verify_key

    def for_holder(self, id_number: str) -> list[ELicence]:
        key = self.verify_key
        if key is None:
            log.warning("e-licences: no verifying key pinned yet; none offered")
            return []
        try:
            holder = self._client.holder_token(id_number)
            entries = self._client.elicences(id_number)
        except PlatformError as err:
            log.warning("e-licences: platform lookup failed (%s); none offered", type(err).__name__)
            return []
        out: list[ELicence] = []
        for position, entry in enumerate(entries):
            licence, problem = self._verify(key, holder, entry)
            if licence is None:
                log.warning("e-licences: dropped licence #%d (id %s): %s", position, _short(entry), problem)
                continue
            out.append(licence)
        log.info("e-licences: %d offered, %d dropped", len(out), len(entries) - len(out))
        return out

    @staticmethod
    def _verify(key: Ed25519PublicKey, holder: str, entry: Mapping[str, Any]) -> tuple[ELicence | None, str]:
        body = entry.get("licence")
        signature = entry.get("signature")
        if not isinstance(body, dict) or not isinstance(signature, str):
            return None, "not a signed licence"
        try:
            key.verify(base64.b64decode(signature, validate=True), canonical_licence(body))
        except (binascii.Error, ValueError, InvalidSignature):
            return None, "bad signature"
        if body.get("holder") != holder:
            return None, "issued to another holder"
        if not all(isinstance(body.get(k), str) for k in _TEXT_FIELDS) or not body.get("material_type"):
            return None, "incomplete licence"
        fields = body.get("fields", {})
        if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
        ):
            return None, "fields are not text"
        licence = ELicence(
            licence_id=body["licence_id"],
            material_type=body["material_type"],
            title_zh=body["title_zh"],
            title_en=body["title_en"],
            issued_at=body["issued_at"],
            fields=dict(fields),
            issuer=body["issuer"],
        )
        return licence, ""


def pin_elicence_key(path: Path, announced: bytes | None) -> Ed25519PublicKey | None:
    """The pinned e-licence verifying key: ``path`` if it exists, else ``announced`` (written).

    A pinned key is never replaced by what an enrolment announces; rotating it is a
    provisioning step (the installer writes the new key file).  None when neither exists."""
    if path.exists():
        try:
            raw = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
            pinned = Ed25519PublicKey.from_public_bytes(raw)
        except (OSError, ValueError) as err:
            log.error("e-licence key file %s is unusable: %s", path, err)
            return None
        if announced is not None and announced != raw:
            log.error("the platform announced another e-licence key; keeping the pinned one (%s)", path)
        return pinned
    if announced is None:
        return None
    try:
        key = Ed25519PublicKey.from_public_bytes(announced)
    except ValueError as err:
        log.error("the platform announced an unusable e-licence key: %s", err)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(base64.b64encode(announced).decode("ascii") + "\n", encoding="ascii")
    os.replace(tmp, path)
    log.info("pinned the platform's e-licence key at %s", path)
    return key
