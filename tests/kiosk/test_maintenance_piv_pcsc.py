"""Maintenance mode unlocked with PIV staff cards through the real pcscd + vsmartcard-vpcd testbed.

A whole terminal (demo devices, sandbox platform, real store) whose staff card reader is the pyscard
driver on the test pcscd.  The hall's staff registry comes signed from the sandbox platform and its
issuer CA signs the cards; a blank simulated PIV card is personalised with
``python -m terminal.staff_provision issue`` over pcscd, then opens maintenance with its PIN.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from devices.base import DeviceStatus
from devices.smartcard.apdu import ResponseApdu
from devices.smartcard.piv_applet import PivApplet
from devices.smartcard.testbed import PcscdTestbed
from devices.smartcard.vcard import Applet, VirtualCard
from kiosk.config import DevicesConfig, StaffCardConfig, TerminalConfig
from kiosk.documents.ocr import RapidOcrEngine
from kiosk.identity.face import FaceVerifier
from kiosk.maintenance.service import MaintenanceService
from kiosk.maintenance.staff_card import Role
from kiosk.maintenance.staff_registry import META_KEY
from kiosk.session.machine import Step
from terminal import staff_provision
from terminal.runtime import Terminal, build_terminal
from terminal.staff import RegistrySource, registry_cache
from terminal.staff_issuer import StaffHall, issue_certificate
from terminal.staff_provision import _load_ca

pytestmark = pytest.mark.slow

READER0 = "Virtual PCD 00 00"
PIN = "482916"


class BankCardApplet:
    """Another card: no PIV application."""

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
    tmp = tmp_path_factory.mktemp("maint-piv")
    config = TerminalConfig(
        data_dir=str(tmp),
        devices=DevicesConfig(staff_card=StaffCardConfig(driver="pcsc", reader=READER0, poll_interval_s=0.2)),
    )
    t = build_terminal(config, tmp / "work", face=FaceVerifier(threshold=0.6), ocr=RapidOcrEngine())
    try:
        for staff_id, role in (("S0042", "operator"), ("S0077", "auditor"), ("S0099", "technician")):
            hook(t, "/_sandbox/staff", {"staff_id": staff_id, "role": role})
        assert t.staff_watcher is not None
        watcher = t.staff_watcher
        wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 10.0, "the watcher on pcscd")
        yield t
    finally:
        t.close()
    assert not [th for th in threading.enumerate() if th.name == "staff-registry"]  # stopped with it


def hook(t: Terminal, path: str, body: dict[str, str]) -> None:
    requests.post(t.sandbox.url + path, json=body, timeout=10).raise_for_status()


def refresh_registry(t: Terminal) -> None:
    """What the terminal's registry refresh does every few minutes, now."""
    secrets = Path(t.config.data_dir) / "work" / "secrets"
    source = RegistrySource(t.client, registry_cache(t.config, t.store, secrets), secrets)
    assert source.refresh() is not None


def ca_files(t: Terminal) -> tuple[Path, Path]:
    sandbox_dir = Path(t.sandbox.data_dir)
    return sandbox_dir / "staff-issuer-ca.key", sandbox_dir / "staff-issuer-ca.pem"


def hall_card(t: Terminal, staff_id: str, *, clone: bool = False, retries: int = 3) -> tuple[PivApplet, int]:
    """A card issued by the sandbox hall's CA (as staff_provision would), without pcscd."""
    ca_key, ca_cert = _load_ca(*ca_files(t))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue_certificate(ca_key, ca_cert, staff_id, "HALL-SANDBOX", key.public_key())
    holder = ec.generate_private_key(ec.SECP256R1()) if clone else key
    return PivApplet.personalised(
        cert.public_bytes(Encoding.DER), holder, pin=PIN, retries=retries
    ), cert.serial_number


def maint(t: Terminal) -> MaintenanceService:
    assert t.maintenance is not None
    return t.maintenance


def enter_pin(t: Terminal, pin: str = PIN) -> None:
    wait_for(lambda: maint(t).access.pending is not None, 10.0, "the PIN request")
    maint(t).submit_pin(pin)


def audit(t: Terminal, event: str) -> list[dict[str, object]]:
    return [dict(r.details) for r in t.store.audit_trail.records() if r.event == event]


def insert(pcscd: PcscdTestbed, applet: Applet, cards: list[VirtualCard]) -> VirtualCard:
    card = VirtualCard(applet)
    card.insert(netns=pcscd.netns)
    cards.append(card)
    return card


def remove(t: Terminal, card: VirtualCard) -> None:
    card.remove()
    watcher = t.staff_watcher
    assert watcher is not None
    wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 5.0, "card removed")


@pytest.fixture
def cards(terminal: Terminal) -> Iterator[list[VirtualCard]]:
    inserted: list[VirtualCard] = []
    yield inserted
    for c in inserted:
        c.remove()
    watcher = terminal.staff_watcher
    assert watcher is not None
    wait_for(lambda: watcher.status() is DeviceStatus.NO_MEDIA, 5.0, "card removed")
    if terminal.maintenance is not None and terminal.maintenance.active:
        terminal.maintenance.leave()


def test_a_card_personalised_over_pcscd_opens_maintenance_with_its_role(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard], monkeypatch: pytest.MonkeyPatch
) -> None:
    blank = PivApplet()
    card = insert(pcscd, blank, cards)
    ca_key, ca_cert = ca_files(terminal)
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    # The watcher sees a blank PIV card first: no certificate, so not a staff card.
    wait_for(lambda: bool(audit(terminal, "maintenance_refused")), 10.0, "blank card refused")
    assert audit(terminal, "maintenance_refused")[-1]["reason"] == "not_staff_card"
    args = ["issue", "S0042", "--ca-key", str(ca_key), "--ca-cert", str(ca_cert), "--reader", READER0]
    assert staff_provision.main([*args, "--pin-stdin"]) == 0
    assert (
        blank.retries_left == 3 and blank.objects
    )  # certificate and CHUID written, key generated on the card
    remove(terminal, card)

    insert(pcscd, blank, cards)
    wait_for(lambda: maint(terminal).access.pending is not None, 10.0, "the PIN request")
    time.sleep(0.3)
    assert terminal.session.step is Step.ATTRACT  # the card alone opens nothing
    enter_pin(terminal)
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 10.0, "maintenance")
    assert maint(terminal).staff_id == "S0042" and maint(terminal).role is Role.OPERATOR
    assert audit(terminal, "maintenance_entered")[-1] == {
        "staff": "S0042",
        "from": "attract",
        "by_card": True,
        "role": "operator",
    }
    # The registry is the hall's, signed, in the store; the issuer CA is pinned beside the secrets.
    assert terminal.store.meta.get(META_KEY)
    assert (Path(terminal.config.data_dir) / "work" / "secrets" / "staff-issuer-ca.pem").exists()


@pytest.mark.parametrize("kind", ["other-issuer", "revoked", "unknown-staff", "bank-card"])
def test_cards_refused_at_the_certificate(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard], kind: str
) -> None:
    if kind == "other-issuer":  # same staff id, same format, another CA
        applet: Applet = StaffHall("HALL-SANDBOX", {"S0042": Role.TECHNICIAN}).card("S0042", pin=PIN)
    elif kind == "revoked":
        applet, serial = hall_card(terminal, "S0099")
        hook(terminal, "/_sandbox/staff/revoke", {"serial": format(serial, "x")})
        refresh_registry(terminal)
    elif kind == "unknown-staff":
        applet, _ = hall_card(terminal, "S9999")
    else:
        applet = BankCardApplet()
    reason = {"other-issuer": "wrong_issuer", "unknown-staff": "unknown_staff", "bank-card": "not_staff_card"}
    before = len(audit(terminal, "maintenance_refused"))
    insert(pcscd, applet, cards)
    wait_for(lambda: len(audit(terminal, "maintenance_refused")) > before, 10.0, "refusal")
    last = audit(terminal, "maintenance_refused")[-1]
    assert (last["reason"], last["reader"]) == (reason.get(kind, kind), READER0)
    assert ("attempts_left" in last) is (kind != "bank-card")  # counted towards the terminal lock
    assert maint(terminal).access.pending is None  # no PIN pad for these
    time.sleep(0.3)
    assert terminal.session.step is Step.ATTRACT


def test_a_cloned_certificate_without_the_key_is_refused_after_the_pin(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard]
) -> None:
    clone, _ = hall_card(terminal, "S0042", clone=True)
    insert(pcscd, clone, cards)
    before = len(audit(terminal, "maintenance_refused"))
    enter_pin(terminal)
    wait_for(lambda: len(audit(terminal, "maintenance_refused")) > before, 10.0, "refusal")
    assert audit(terminal, "maintenance_refused")[-1]["reason"] == "auth_failed"
    assert terminal.session.step is Step.ATTRACT and not maint(terminal).active


def test_wrong_pins_block_the_card_and_lock_the_staff_id_with_an_alarm(
    pcscd: PcscdTestbed, terminal: Terminal, cards: list[VirtualCard]
) -> None:
    applet, _ = hall_card(terminal, "S0077", retries=3)
    card = insert(pcscd, applet, cards)
    outcomes = []
    for _ in range(3):
        wait_for(lambda: maint(terminal).access.pending is not None, 10.0, "the PIN request")
        outcomes.append(maint(terminal).submit_pin("000000"))
    assert [(o.refusal.value if o.refusal else None, o.attempts_left) for o in outcomes] == [
        ("wrong_pin", 2),  # the card's counter (3) is below the terminal's (5)
        ("wrong_pin", 1),
        ("locked_out", 0),
    ]
    assert applet.retries_left == 0  # the card blocked its PIN itself
    alarm = audit(terminal, "maintenance_lockout")[-1]
    assert (alarm["staff"], alarm["reason"], alarm["scope"]) == ("S0077", "card_blocked", "staff")
    remove(terminal, card)
    insert(pcscd, applet, cards)  # the right PIN no longer helps: the staff id is locked
    before = len(audit(terminal, "maintenance_refused"))
    wait_for(lambda: len(audit(terminal, "maintenance_refused")) > before, 10.0, "refusal")
    assert audit(terminal, "maintenance_refused")[-1]["reason"] == "locked_out"
    assert not maint(terminal).active


def test_staff_provision_takes_the_reader_from_the_terminal_config(
    pcscd: PcscdTestbed,
    terminal: Terminal,
    cards: list[VirtualCard],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = tmp_path / "terminal.toml"
    config.write_text(f'[devices.staff_card]\ndriver = "pcsc"\nreader = "{READER0}"\n', encoding="utf-8")
    blank = PivApplet()
    before = len(audit(terminal, "maintenance_refused"))
    card = insert(pcscd, blank, cards)
    wait_for(lambda: len(audit(terminal, "maintenance_refused")) > before, 10.0, "the blank card seen")
    ca_key, ca_cert = ca_files(terminal)
    monkeypatch.setattr("sys.stdin", io.StringIO("13579246\n"))
    args = ["--config", str(config), "issue", "S0099", "--ca-key", str(ca_key), "--ca-cert", str(ca_cert)]
    assert staff_provision.main([*args, "--pin-stdin"]) == 0
    remove(terminal, card)
    # A config naming a reader that is not there: a clear error, the card untouched.
    config.write_text(
        '[devices.staff_card]\ndriver = "pcsc"\nreader = "No Such Reader 00 00"\n', encoding="utf-8"
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("13579246\n"))
    assert staff_provision.main([*args, "--pin-stdin"]) == 2

    insert(pcscd, blank, cards)
    enter_pin(terminal, "13579246")
    wait_for(lambda: terminal.session.step is Step.MAINTENANCE, 10.0, "maintenance")
    assert maint(terminal).staff_id == "S0099" and maint(terminal).role is Role.TECHNICIAN
