"""The social security card reader kind (PC/SC, citizen-facing): ``[devices.ssc_card]``.

Optional: a terminal without it takes the resident ID card (and QR codes) only, and items that
accept the social security card fall back to those.  The demo's reader is in-process, its card
running the same applet as the vpcd virtual card (devices.smartcard.ssc_applet)."""

from __future__ import annotations

from devices.device_kind import DeviceKind
from devices.interfaces import SocialSecurityCardReader
from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.pcsc_kind import PcscReaderConfig, pcsc_reader_kind
from devices.ssccard.reader import SscCardReader

SIMULATED_READER = "Simulated SSC Reader 00 00"


class SscCardConfig(PcscReaderConfig):
    """The PC/SC reader citizens put their social security card on."""


SSC_CARD: DeviceKind[SscCardConfig, SocialSecurityCardReader, InProcessReaders] = pcsc_reader_kind(
    name="ssc_card",
    config=SscCardConfig,
    interface=SocialSecurityCardReader,
    driver=SscCardReader,
    simulated_reader=SIMULATED_READER,
    required=False,
    description="social security card reader (PC/SC, identity carrier)",
)
