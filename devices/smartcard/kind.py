"""The staff card reader kind (PC/SC, maintenance mode): config section ``[devices.staff_card]``.

Required in the production profile: a terminal without it has no maintenance mode, so switching
it off takes an explicit ``driver = "none"``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import SmartCardReader
from devices.smartcard.inprocess import InProcessReaders


class StaffCardConfig(SectionConfig):
    """The PC/SC reader the hall staff put their staff card on (maintenance mode)."""

    driver: Literal["simulator", "pcsc", "none"] = "simulator"
    reader: str = ""  # driver "pcsc": the PC/SC reader name (pcsc_scan lists them); "" = any reader
    poll_interval_s: float = Field(0.5, gt=0)


def _pcsc(section: StaffCardConfig, ctx: DeviceContext) -> SmartCardReader:
    from devices.smartcard.pcsc import PcscReaders

    return SmartCardReader(PcscReaders, section.reader or None)


def _none(section: StaffCardConfig, ctx: DeviceContext) -> None:
    return None


def _simulate(workdir: Path) -> InProcessReaders:
    """No pcscd in the demo: an in-process PC/SC reader whose card runs the same PIV applet as
    the vpcd virtual card (devices.smartcard.piv_applet)."""
    return InProcessReaders()


def _attach(readers: InProcessReaders, section: StaffCardConfig) -> SmartCardReader:
    return SmartCardReader(lambda: readers, readers.name)


STAFF_CARD: DeviceKind[StaffCardConfig, SmartCardReader, InProcessReaders] = DeviceKind(
    name="staff_card",
    config=StaffCardConfig,
    interface=SmartCardReader,
    drivers={"pcsc": _pcsc, "none": _none},
    simulate=_simulate,
    attach=_attach,
    release=InProcessReaders.close,
    description="staff card reader (PC/SC, maintenance mode)",
)
