"""Maintenance mode unlocked through the real pcscd + vsmartcard-vpcd testbed (packaging/pcsc).

A whole terminal (demo devices and sandbox, real store) whose staff card reader is the
pyscard driver on the test pcscd; the staff registry is a 0600 file as in production, provisioned
with a PIN and a role: the card alone opens nothing, card + PIN does.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devices.base import DeviceStatus
from devices.smartcard.apdu import ResponseApdu
from devices.smartcard.staff_applet import StaffApplet
from devices.smartcard.testbed import PcscdTestbed
from devices.smartcard.vcard import Applet, VirtualCard
from kiosk.config import DevicesConfig, MaintenanceConfig, StaffCardConfig, TerminalConfig
from kiosk.documents.ocr import RapidOcrEngine
from kiosk.identity.face import FaceVerifier
from kiosk.maintenance.service import MaintenanceService
from kiosk.maintenance.staff_card import Role
from kiosk.session.machine import Step
from terminal.runtime import Terminal, build_terminal
from terminal.staff_provision import add

pytestmark = pytest.mark.slow

READER0 = "Virtual PCD 00 00"
STAFF_ID = "S0042"
KEY = secrets.token_bytes(32)
PIN = "482916"


class BankCardApplet:
    """Another card: knows nothing of the staff applet."""

    def reset(self) -> None:
        pass

    def process(self, raw: bytes) -> bytes:
        return ResponseApdu(b"", 0x6A, 0x82).to_bytes()


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def terminal(pcscd: PcscdTestbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terminal]:
    tmp = tmp_path_factory.mktemp("maint-pcsc")
    registry = tmp / "staff.json"
    add(registry, STAFF_ID, KEY, pin=PIN, role=Role.TECHNICIAN)
    config = TerminalConfig(
        data_dir=str(tmp),
        devices=DevicesConfig(staff_card=StaffCardConfig(driver="pcsc", reader=READER0, poll_interval_s=0.2)),
        maintenance=MaintenanceConfig(staff_registry=str(registry)),
    )
    t = build_terminal(config, tmp / "work", face=FaceVerifier(threshold=0.6), ocr=RapidOcrEngine())
    try:
        assert t.staff_watcher is not None
        watcher = t.staff_watcher
        wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 10.0, "the watcher on pcscd")
        yield t
    finally:
        t.close()


def maint(terminal: Terminal) -> MaintenanceService:
    assert terminal.maintenance is not None
    return terminal.maintenance


def enter_pin(terminal: Terminal, pin: str = PIN) -> None:
    """The card verified: the PIN pad's answer (what the screen's PIN pad calls)."""
    wait_for(lambda: maint(terminal).access.pending is not None, 10.0, "the PIN request")
    maint(terminal).submit_pin(pin)


def refusals(terminal: Terminal) -> list[dict[str, object]]:
    return [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == "maintenance_refused"]


def insert(pcscd: PcscdTestbed, applet: Applet, cards: list[VirtualCard]) -> VirtualCard:
    card = VirtualCard(applet)
    card.insert(netns=pcscd.netns)
    cards.append(card)
    return card


@pytest.fixture
def cards(terminal: Terminal) -> Iterator[list[VirtualCard]]:
    inserted: list[VirtualCard] = []
    yield inserted
    for c in inserted:
        c.remove()
    assert terminal.staff_watcher is not None
    watcher = terminal.staff_watcher
    wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 5.0, "card removed")


def test_staff_card_on_pcscd_enters_and_removal_leaves(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard]
) -> None:
    card = insert(pcscd, StaffApplet(STAFF_ID, KEY), cards)
    wait_for(lambda: maint(terminal).access.pending is not None, 10.0, "the PIN request")
    time.sleep(0.3)
    assert terminal.session.step is Step.ATTRACT  # the card alone opens nothing
    enter_pin(terminal)
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 10.0, "maintenance")
    assert terminal.maintenance is not None and terminal.maintenance.staff_id == STAFF_ID
    entered = [
        dict(r.details) for r in terminal.store.audit_trail.records() if r.event == "maintenance_entered"
    ]
    assert entered == [{"staff": STAFF_ID, "from": "attract", "by_card": True, "role": "technician"}]
    assert terminal.maintenance.outbox().counts  # staff actions work now

    card.remove()
    wait_for(lambda: terminal.session.step is Step.ATTRACT, 10.0, "attract")
    last = terminal.store.audit_trail.records()[-1]
    assert (last.event, dict(last.details)) == (
        "maintenance_left",
        {"staff": STAFF_ID, "reason": "card_removed"},
    )


@pytest.mark.parametrize(
    ("applet", "reason"),
    [
        (StaffApplet(STAFF_ID, secrets.token_bytes(32)), "auth_failed"),  # a cloned id without the key
        (StaffApplet("S9999", KEY), "unknown_staff"),
        (BankCardApplet(), "not_staff_card"),
    ],
    ids=["wrong-key", "unknown-staff", "bank-card"],
)
def test_other_cards_are_refused_with_an_audit_entry(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard], applet: Applet, reason: str
) -> None:
    before = len(refusals(terminal))
    insert(pcscd, applet, cards)
    wait_for(lambda: len(refusals(terminal)) > before, 10.0, "refusal")
    last = refusals(terminal)[-1]
    assert {k: last[k] for k in ("staff", "reason", "reader")} == {
        "staff": None,
        "reason": reason,
        "reader": READER0,
    }
    # Forged and unknown cards count towards the lockout; a bank card does not.
    assert ("attempts_left" in last) is (reason != "not_staff_card")
    time.sleep(0.3)
    assert terminal.session.step is Step.ATTRACT
    assert terminal.maintenance is not None and not terminal.maintenance.active


def test_not_in_the_middle_of_a_citizen_session(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard]
) -> None:
    terminal.session.start()
    try:
        before = len(refusals(terminal))
        insert(pcscd, StaffApplet(STAFF_ID, KEY), cards)
        wait_for(lambda: len(refusals(terminal)) > before, 10.0, "refusal")
        assert maint(terminal).access.pending is None  # no PIN pad over a citizen's session
        assert refusals(terminal)[-1] == {
            "staff": STAFF_ID,
            "reason": "session_in_progress",
            "step": "choose_item",
        }
        assert terminal.session.step is Step.CHOOSE_ITEM
    finally:
        terminal.session.cancel()


def test_registry_file_must_be_private(tmp_path: Path) -> None:
    """A staff registry readable by others unlocks nothing (the terminal keeps serving)."""
    from terminal.runtime import _staff_registry

    path = tmp_path / "staff.json"
    path.write_text(json.dumps({"version": 1, "staff": {STAFF_ID: {"key": KEY.hex()}}}), encoding="utf-8")
    path.chmod(0o644)
    config = TerminalConfig(maintenance=MaintenanceConfig(staff_registry=str(path)))
    assert _staff_registry(config, None, tmp_path).key_for(STAFF_ID) is None
    path.chmod(0o600)
    assert _staff_registry(config, None, tmp_path).key_for(STAFF_ID) == KEY


def test_revoking_a_card_takes_effect_at_once(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard]
) -> None:
    from terminal.staff_provision import add, revoke

    registry = Path(terminal.config.maintenance.staff_registry)
    assert revoke(registry, STAFF_ID)
    try:
        before = len(refusals(terminal))
        card = insert(pcscd, StaffApplet(STAFF_ID, KEY), cards)
        wait_for(lambda: len(refusals(terminal)) > before, 10.0, "refusal")
        last = refusals(terminal)[-1]
        assert (last["reason"], last["reader"], "attempts_left" in last) == ("unknown_staff", READER0, True)
        card.remove()
        assert terminal.staff_watcher is not None
        watcher = terminal.staff_watcher
        wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 5.0, "card removed")
    finally:
        add(registry, STAFF_ID, KEY, pin=PIN, role=Role.TECHNICIAN)
    insert(pcscd, StaffApplet(STAFF_ID, KEY), cards)
    enter_pin(terminal)
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 10.0, "maintenance")
