"""A PC/SC reader device kind: what the staff card reader (devices/smartcard/kind.py) and the
social security card reader (devices/ssccard/kind.py) declare alike.  Drivers ``pcsc`` (pcscd,
the reader named in the section or any), ``none`` (switched off) and, in the demo profile, an
in-process PC/SC reader whose card runs the same applet as the vpcd virtual card."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import SmartCardReaders
from devices.smartcard.inprocess import InProcessReaders


class PcscReaderConfig(SectionConfig):
    """A PC/SC reader's section."""

    driver: Literal["simulator", "pcsc", "none"] = "simulator"
    reader: str = ""  # driver "pcsc": the PC/SC reader name (pcsc_scan lists them); "" = any / the first


C = TypeVar("C", bound=PcscReaderConfig)
D = TypeVar("D")

#: The kind's driver on PC/SC readers: ``(open the readers, the reader's name or None)``.
ReaderFactory = Callable[[Callable[[], SmartCardReaders], "str | None"], D]


def pcsc_reader_kind(
    *,
    name: str,
    config: type[C],
    interface: type[Any],
    driver: ReaderFactory[D],
    simulated_reader: str,
    required: bool = True,
    description: str,
) -> DeviceKind[C, D, InProcessReaders]:
    """The kind of a PC/SC reader that ``driver`` turns into the device; in the demo profile its
    simulator is an in-process reader named ``simulated_reader``."""

    def pcsc(section: C, ctx: DeviceContext) -> D:
        from devices.smartcard.pcsc import PcscReaders

        return driver(PcscReaders, section.reader or None)

    def off(section: C, ctx: DeviceContext) -> None:
        return None

    def simulate(workdir: Path) -> InProcessReaders:
        return InProcessReaders(simulated_reader)

    def attach(readers: InProcessReaders, section: C) -> D:
        return driver(lambda: readers, readers.name)

    return DeviceKind(
        name=name,
        config=config,
        interface=interface,
        drivers={"pcsc": pcsc, "none": off},
        simulate=simulate,
        attach=attach,
        release=InProcessReaders.close,
        required=required,
        description=description,
    )
