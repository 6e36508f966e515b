"""The hall's signed staff registry (kiosk/maintenance/staff_registry.py) against the sandbox platform's
document format: signature, rollback, issuer CA pin, revocation; the real store keeps it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.maintenance.staff_card import Role, StaffRegistryError
from kiosk.maintenance.staff_registry import META_KEY, StaffRegistryCache
from offline_cache.store import Store
from sandbox_platform.staff import HallStaffDesk, RevokeSeed, StaffSeed


def _desk(tmp_path: Path, name: str, key: Ed25519PrivateKey) -> HallStaffDesk:
    return HallStaffDesk(tmp_path / name, key)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_signed_registry_is_kept_checked_and_never_rolled_back(tmp_path: Path, store: Store) -> None:
    key = Ed25519PrivateKey.generate()
    desk = _desk(tmp_path, "hall", key)
    cache = StaffRegistryCache(store, _raw(key), tmp_path / "secrets" / "staff-issuer-ca.pem")
    old = json.dumps(desk.set_staff(StaffSeed(staff_id="S0042", role="operator"))).encode()
    new_doc = desk.revoke(RevokeSeed(serial="abc123"))
    registry = cache.update(json.dumps(new_doc).encode())
    assert registry.role_of("S0042") is Role.OPERATOR and registry.is_revoked(0xABC123)
    assert cache.ca_pin.exists() and cache.current().sequence == registry.sequence
    with pytest.raises(StaffRegistryError, match="older"):
        cache.update(old)  # a replayed registry would bring revoked cards back
    assert cache.current().is_revoked(0xABC123)

    tampered = json.loads(json.dumps(new_doc))
    tampered["registry"]["staff"]["S6666"] = {"role": "technician"}
    with pytest.raises(StaffRegistryError, match="signature"):
        cache.update(json.dumps(tampered).encode())
    store.meta.set(META_KEY, json.dumps(tampered))  # edited in the store behind the terminal's back
    with pytest.raises(StaffRegistryError, match="signature"):
        cache.current()


def test_another_halls_registry_or_key_is_refused(tmp_path: Path, store: Store) -> None:
    key = Ed25519PrivateKey.generate()
    cache = StaffRegistryCache(store, _raw(key), tmp_path / "staff-issuer-ca.pem")
    cache.update(json.dumps(_desk(tmp_path, "hall", key).document()).encode())
    other_hall = _desk(tmp_path, "other", key)  # same platform key, another issuer CA
    with pytest.raises(StaffRegistryError, match="issuer CA"):
        cache.update(json.dumps(other_hall.set_staff(StaffSeed(staff_id="S1", role="auditor"))).encode())
    forged = _desk(tmp_path, "forged", Ed25519PrivateKey.generate())
    with pytest.raises(StaffRegistryError, match="signature"):
        cache.update(json.dumps(forged.document()).encode())
    with pytest.raises(StaffRegistryError, match="not enrolled"):
        StaffRegistryCache(store, None, tmp_path / "x.pem").update(b"{}")


def test_without_a_registry_every_card_is_refused_without_counting_towards_the_lock(store: Store) -> None:
    from devices.smartcard.inprocess import InProcessReaders
    from kiosk.maintenance.access import StaffAccess
    from kiosk.maintenance.staff_card import StaffCardAuthenticator, StaffCardRefusal
    from terminal.staff_issuer import StaffHall

    readers = InProcessReaders()
    readers.insert(StaffHall("H", {"S0042": Role.OPERATOR}).card("S0042", pin="482916"))
    with readers.connect(readers.name) as card:
        result = StaffCardAuthenticator(None, lambda r: readers.connect(r)).authenticate(card)
    assert result.refusal is StaffCardRefusal.NO_REGISTRY and not result.ok
    access = StaffAccess(store)
    for _ in range(6):  # a terminal that never reached its platform is not locked by its own staff
        assert access.card_refused(result, "r").attempts_left is None
    assert access.locked_until() is None
