"""The hall's staff registry: one signed document per hall, distributed by the platform.

Who may open maintenance mode is decided by the hall, not by each terminal: the platform serves
``GET /api/v1/staff/registry`` (docs/platform-api/openapi.json), a JSON object::

    {"registry": {"format": "hall-staff-registry/1", "hall": "<hall id>", "sequence": 7,
                  "issued_at": "2026-12-03T04:00:00Z",
                  "issuer_ca": "<PEM of the hall's staff card issuer CA>",
                  "issuer_ca_sha256": "<hex SHA-256 of its DER>",
                  "staff": {"S0042": {"role": "operator"}, ...},
                  "revoked": ["<certificate serial, hex>", ...]},
     "signature": "<base64 Ed25519 signature of the registry's canonical JSON>"}

The canonical JSON is ``json.dumps(registry, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` in UTF-8; the signing key is the platform's answer key, pinned on the
terminal at enrolment (kiosk/cases/platform_pins.py).  The terminal keeps the last verified document
in its store (``meta``), verifies it again every time it is read, never goes back to a lower
``sequence`` (a replayed old registry would bring back revoked cards) and refuses a document whose
issuer CA is not the one it pinned (the first registry pins it, like the answer key at enrolment;
rotating it is a provisioning step).  It holds no keys and no PINs: staff prove themselves with
their PIV card (kiosk/maintenance/staff_card.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from kiosk.maintenance.staff_card import Role, StaffRegistryError
from offline_cache.store import Store

log = logging.getLogger(__name__)

FORMAT = "hall-staff-registry/1"
META_KEY = "maintenance.staff_registry"
MAX_BYTES = 1 << 20
STAFF_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


def canonical(registry: Mapping[str, object]) -> bytes:
    return json.dumps(registry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def ca_fingerprint(ca: x509.Certificate) -> str:
    return hashlib.sha256(ca.public_bytes(Encoding.DER)).hexdigest()


@dataclass(frozen=True)
class HallStaffRegistry:
    """A verified registry: staff id → role, the revoked certificate serials, the issuer CA."""

    hall: str
    sequence: int
    issued_at: str
    issuer_ca: x509.Certificate = field(repr=False)
    staff: Mapping[str, Role] = field(default_factory=dict)
    revoked: frozenset[int] = frozenset()

    def role_of(self, staff_id: str) -> Role | None:
        return self.staff.get(staff_id)

    def is_revoked(self, serial: int) -> bool:
        return serial in self.revoked


def _parse(registry: Mapping[str, object]) -> HallStaffRegistry:
    if registry.get("format") != FORMAT:
        raise StaffRegistryError(f"not a {FORMAT} document")
    hall, sequence, issued_at = registry.get("hall"), registry.get("sequence"), registry.get("issued_at")
    if not isinstance(hall, str) or not isinstance(sequence, int) or not isinstance(issued_at, str):
        raise StaffRegistryError("registry needs hall, sequence and issued_at")
    try:
        ca = x509.load_pem_x509_certificate(str(registry.get("issuer_ca", "")).encode("ascii"))
    except (ValueError, UnicodeEncodeError) as err:
        raise StaffRegistryError(f"registry's issuer CA is unreadable: {err}") from err
    if ca_fingerprint(ca) != registry.get("issuer_ca_sha256"):
        raise StaffRegistryError("registry's issuer CA does not match its fingerprint")
    staff_in, revoked_in = registry.get("staff"), registry.get("revoked", [])
    if not isinstance(staff_in, dict) or not isinstance(revoked_in, list):
        raise StaffRegistryError("registry's staff must be an object and revoked a list")
    staff: dict[str, Role] = {}
    for staff_id, entry in staff_in.items():
        if not STAFF_ID_PATTERN.match(str(staff_id)) or not isinstance(entry, dict):
            raise StaffRegistryError(f"registry entry {staff_id!r} is malformed")
        try:
            staff[str(staff_id)] = Role(entry.get("role"))
        except ValueError as err:
            raise StaffRegistryError(
                f"staff {staff_id!r}: role must be one of {[r.value for r in Role]}"
            ) from err
    try:
        revoked = frozenset(int(str(s), 16) for s in revoked_in)
    except ValueError as err:
        raise StaffRegistryError("registry's revoked list holds a serial that is not hex") from err
    return HallStaffRegistry(hall, sequence, issued_at, ca, staff, revoked)


def verify_document(body: bytes, platform_key: bytes) -> tuple[HallStaffRegistry, Mapping[str, object]]:
    """The registry in ``body`` if the platform's key signed it; StaffRegistryError otherwise."""
    if len(body) > MAX_BYTES:
        raise StaffRegistryError("staff registry document too large")
    try:
        doc = json.loads(body)
        registry = doc["registry"]
        signature = base64.b64decode(doc["signature"], validate=True)
        if not isinstance(registry, dict):
            raise TypeError("registry is not an object")
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError) as err:
        raise StaffRegistryError(f"malformed staff registry document: {err}") from err
    try:
        Ed25519PublicKey.from_public_bytes(platform_key).verify(signature, canonical(registry))
    except (InvalidSignature, ValueError) as err:
        raise StaffRegistryError(
            "staff registry signature does not verify with the pinned platform key"
        ) from err
    return _parse(registry), registry


class StaffRegistryCache:
    """The last verified registry in the store; :meth:`update` takes a newer one."""

    def __init__(self, store: Store, platform_key: bytes | None, ca_pin: Path) -> None:
        self.store = store
        self.platform_key = platform_key
        self.ca_pin = ca_pin

    def pinned_ca(self) -> x509.Certificate | None:
        try:
            return x509.load_pem_x509_certificate(self.ca_pin.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise StaffRegistryError(f"pinned staff issuer CA {self.ca_pin} is unusable: {err}") from err

    def _check(self, body: bytes) -> HallStaffRegistry:
        if self.platform_key is None:
            raise StaffRegistryError("no pinned platform key: the terminal is not enrolled")
        registry, _ = verify_document(body, self.platform_key)
        pinned = self.pinned_ca()
        if pinned is not None and ca_fingerprint(pinned) != ca_fingerprint(registry.issuer_ca):
            raise StaffRegistryError(
                "the registry names another issuer CA than the pinned one (another hall?)"
            )
        return registry

    def current(self) -> HallStaffRegistry:
        """The cached registry, verified again (a store edited behind the terminal's back fails)."""
        raw = self.store.meta.get(META_KEY)
        if not raw:
            raise StaffRegistryError("no staff registry yet (the platform has not been reached)")
        return self._check(raw.encode("utf-8"))

    def update(self, body: bytes) -> HallStaffRegistry:
        """Verify ``body`` and keep it when it is not older than the cached one; pins the CA the
        first time.  Returns the registry now in force."""
        registry = self._check(body)
        try:
            cached: HallStaffRegistry | None = self.current()
        except StaffRegistryError:
            cached = None
        if cached is not None and registry.sequence < cached.sequence:
            raise StaffRegistryError(
                f"the platform sent registry {registry.sequence}, older than the cached {cached.sequence}"
            )
        if self.pinned_ca() is None:
            self.ca_pin.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.ca_pin.with_name(self.ca_pin.name + ".tmp")
            tmp.write_bytes(registry.issuer_ca.public_bytes(Encoding.PEM))
            tmp.replace(self.ca_pin)
            log.info("pinned the hall's staff issuer CA at %s", self.ca_pin)
        if cached is None or registry.sequence > cached.sequence:
            self.store.meta.set(META_KEY, body.decode("utf-8"))
            log.info(
                "staff registry %s of hall %s in force (%d staff)",
                registry.sequence,
                registry.hall,
                len(registry.staff),
            )
        return registry if cached is None or registry.sequence > cached.sequence else cached
