"""StaffCardAuthenticator against the real pcscd + vpcd with virtual staff cards."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.base import DeviceStatus, RequiredAction
from devices.smartcard.apdu import ResponseApdu
from devices.smartcard.pcsc import CardEventKind, PcscReaders
from devices.smartcard.staff_applet import StaffApplet
from devices.smartcard.testbed import PcscdTestbed
from devices.smartcard.vcard import Applet, VirtualCard
from kiosk.maintenance.staff_card import (
    StaffCardAuthenticator,
    StaffCardRefusal,
    StaffRegistry,
    StaffRegistryError,
)

READER0 = "Virtual PCD 00 00"


class BankCardApplet:
    """Another card: knows none of the staff applet (answers 6A82 to every SELECT)."""

    def reset(self) -> None:
        pass

    def process(self, raw: bytes) -> bytes:
        return ResponseApdu(b"", 0x6A, 0x82).to_bytes()


@pytest.fixture
def readers(pcscd: PcscdTestbed) -> Iterator[PcscReaders]:
    with PcscReaders() as r:
        deadline = time.monotonic() + 5.0
        while r.status() is not DeviceStatus.NO_MEDIA:  # the previous test's card is gone
            assert time.monotonic() < deadline
            time.sleep(0.05)
        yield r


@pytest.fixture
def present(pcscd: PcscdTestbed, readers: PcscReaders) -> Iterator[list[VirtualCard]]:
    """Cards inserted by a test; removed afterwards."""
    cards: list[VirtualCard] = []
    yield cards
    for c in cards:
        c.remove()


def _put(applet: Applet, pcscd: PcscdTestbed, readers: PcscReaders, present: list[VirtualCard]) -> None:
    vcard = VirtualCard(applet)
    vcard.insert(netns=pcscd.netns)
    present.append(vcard)
    event = readers.wait_for_event(5.0, READER0)
    assert event is not None and event.kind is CardEventKind.INSERTED


KEY = secrets.token_bytes(32)
REGISTRY = StaffRegistry({"S0042": KEY, "S0007": secrets.token_bytes(32)})


def test_registered_staff_card_is_accepted(
    pcscd: PcscdTestbed, readers: PcscReaders, present: list[VirtualCard]
) -> None:
    _put(StaffApplet("S0042", KEY), pcscd, readers, present)
    with readers.connect(READER0) as conn:
        result = StaffCardAuthenticator(REGISTRY).authenticate(conn)
    assert result.ok and result.staff_id == "S0042"
    assert result.message()[1] == "Staff identity confirmed"


def test_wrong_key_is_refused(pcscd: PcscdTestbed, readers: PcscReaders, present: list[VirtualCard]) -> None:
    # A card that claims S0042 but holds another key (a cloned id).
    _put(StaffApplet("S0042", secrets.token_bytes(32)), pcscd, readers, present)
    with readers.connect(READER0) as conn:
        result = StaffCardAuthenticator(REGISTRY).authenticate(conn)
    assert not result.ok and result.staff_id is None
    assert result.refusal is StaffCardRefusal.AUTH_FAILED


def test_unknown_staff_is_refused(
    pcscd: PcscdTestbed, readers: PcscReaders, present: list[VirtualCard]
) -> None:
    _put(StaffApplet("S9999", KEY), pcscd, readers, present)
    with readers.connect(READER0) as conn:
        result = StaffCardAuthenticator(REGISTRY).authenticate(conn)
    assert result.refusal is StaffCardRefusal.UNKNOWN_STAFF


def test_other_card_is_not_a_staff_card(
    pcscd: PcscdTestbed, readers: PcscReaders, present: list[VirtualCard]
) -> None:
    _put(BankCardApplet(), pcscd, readers, present)
    with readers.connect(READER0) as conn:
        result = StaffCardAuthenticator(REGISTRY).authenticate(conn)
    assert result.refusal is StaffCardRefusal.NOT_STAFF_CARD
    assert result.message()[0] == "这不是工作人员卡"


def test_card_removed_before_check(
    pcscd: PcscdTestbed, readers: PcscReaders, present: list[VirtualCard]
) -> None:
    _put(StaffApplet("S0042", KEY), pcscd, readers, present)
    with readers.connect(READER0) as conn:
        present[0].remove()
        event = readers.wait_for_event(5.0, READER0)
        assert event is not None and event.kind is CardEventKind.REMOVED
        result = StaffCardAuthenticator(REGISTRY).authenticate(conn)
    assert result.refusal is StaffCardRefusal.CARD_REMOVED
    assert result.action is RequiredAction.RETRY


def test_registry_file_permissions_and_format(tmp_path: Path) -> None:
    path = tmp_path / "staff.json"
    path.write_text(json.dumps({"version": 1, "staff": {"S0042": {"key": KEY.hex()}}}), encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(StaffRegistryError, match="chmod 600"):
        StaffRegistry.load(path)
    path.chmod(0o600)
    registry = StaffRegistry.load(path)
    assert registry.key_for("S0042") == KEY and registry.key_for("S0043") is None
    assert KEY.hex() not in repr(registry)
    for bad in (
        {"version": 3, "staff": {}},
        {"version": 2, "staff": {"S1": {"key": KEY.hex(), "role": "operator"}}},  # version 2 needs a PIN
        {"version": 1, "staff": {"S1": {"key": "zz"}}},
        {"version": 1, "staff": {"S1": {"key": "00" * 8}}},
    ):
        path.write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(StaffRegistryError):
            StaffRegistry.load(path)
