"""Staff cards for unit tests of the access rules: a real simulated PIV card (devices/smartcard/piv_applet.py)
on an in-process reader, checked by the real authenticator (the pcscd path: test_maintenance_piv_pcsc.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.pcsc import PcscCardConnection
from kiosk.maintenance.staff_card import Role, StaffCardAuthenticator, StaffCardResult
from terminal.staff_issuer import StaffHall

PIN = "482916"


def verified_card(
    staff_id: str = "S0042",
    pin: str | None = PIN,
    role: Role = Role.OPERATOR,
    retries: int = 8,
    *,
    clone: bool = False,
) -> StaffCardResult:
    """A card whose certificate checked out (first factor), still on its reader for the PIN step.
    ``pin=None``: a card that signs without its PIN (the demo's); ``clone``: the certificate on a card
    without its key."""
    hall = StaffHall("HALL-TEST", {staff_id: role})
    readers = InProcessReaders()
    readers.insert(hall.card(staff_id, pin=pin, retries=retries, clone=clone))

    @contextmanager
    def connect(reader: str) -> Iterator[PcscCardConnection]:
        with readers.connect(reader) as card:
            yield card

    with readers.connect(readers.name) as card:
        result = StaffCardAuthenticator(hall.registry(), connect).authenticate(card)
    assert result.ok, result
    return result
