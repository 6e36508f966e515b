"""The social security card reader kind (PC/SC, citizen-facing): ``[devices.ssc_card]``.

Optional: a terminal without it takes the resident ID card (and QR codes) only, and items that
accept the social security card fall back to those."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import SocialSecurityCardReader
from devices.smartcard.inprocess import InProcessReaders
from devices.ssccard.reader import SscCardReader

SIMULATED_READER = "Simulated SSC Reader 00 00"


class SscCardConfig(SectionConfig):
    """The PC/SC reader citizens put their social security card on."""

    driver: Literal["simulator", "pcsc", "none"] = "simulator"
    reader: str = ""  # driver "pcsc": the PC/SC reader name (pcsc_scan lists them); "" = the first


def _pcsc(section: SscCardConfig, ctx: DeviceContext) -> SscCardReader:
    from devices.smartcard.pcsc import PcscReaders

    return SscCardReader(PcscReaders, section.reader or None)


def _none(section: SscCardConfig, ctx: DeviceContext) -> None:
    return None


def _simulate(workdir: Path) -> InProcessReaders:
    """An in-process PC/SC reader whose card runs the same applet as the vpcd virtual card
    (devices.smartcard.ssc_applet)."""
    return InProcessReaders(SIMULATED_READER)


def _attach(readers: InProcessReaders, section: SscCardConfig) -> SscCardReader:
    return SscCardReader(lambda: readers, readers.name)


SSC_CARD: DeviceKind[SscCardConfig, SocialSecurityCardReader, InProcessReaders] = DeviceKind(
    name="ssc_card",
    config=SscCardConfig,
    interface=SocialSecurityCardReader,
    drivers={"pcsc": _pcsc, "none": _none},
    simulate=_simulate,
    attach=_attach,
    release=InProcessReaders.close,
    required=False,
    description="social security card reader (PC/SC, identity carrier)",
)
