"""The staff card reader kind (PC/SC, maintenance mode): config section ``[devices.staff_card]``.

Required in the production profile: a terminal without it has no maintenance mode, so switching
it off takes an explicit ``driver = "none"``.  The demo's reader is in-process, its card running
the same PIV applet as the vpcd virtual card (devices.smartcard.piv_applet)."""

from __future__ import annotations

from pydantic import Field

from devices.device_kind import DeviceKind
from devices.interfaces import SmartCardReader
from devices.smartcard.inprocess import DEFAULT_READER, InProcessReaders
from devices.smartcard.pcsc_kind import PcscReaderConfig, pcsc_reader_kind


class StaffCardConfig(PcscReaderConfig):
    """The PC/SC reader the hall staff put their staff card on (maintenance mode)."""

    poll_interval_s: float = Field(0.5, gt=0)


STAFF_CARD: DeviceKind[StaffCardConfig, SmartCardReader, InProcessReaders] = pcsc_reader_kind(
    name="staff_card",
    config=StaffCardConfig,
    interface=SmartCardReader,
    driver=SmartCardReader,
    simulated_reader=DEFAULT_READER,
    description="staff card reader (PC/SC, maintenance mode)",
)
