"""The ID card reader kind (GA/T 467 over a serial port): config section ``[devices.idcard]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import IdCardReader, PhotoDecoder

if TYPE_CHECKING:
    from devices.idcard.driver import SerialIdCardReader
    from devices.idcard.simulator import IdCardSimulator


class IdCardConfig(SectionConfig):
    driver: Literal["simulator", "serial"] = "simulator"
    port: str = ""  # /dev/serial/by-id/... for driver "serial"
    baudrate: int = Field(115200, gt=0)
    poll_interval_s: float = Field(0.2, gt=0)
    # look for the reader among the serial ports (devices.idcard.discovery) when ``port`` is gone
    discover: bool = False
    # the reader vendor's WLT photo library (devices.idcard.photo.VendorPhotoDecoder); empty:
    # only simulator cards' photos decode and the platform's reference photo is used
    photo_library: str = ""

    @model_validator(mode="after")
    def _serial_needs_a_port(self) -> IdCardConfig:
        if self.driver == "serial" and not self.port:
            raise ValueError("driver 'serial' needs a port (best /dev/serial/by-id/...)")
        return self


class IdCardStation:
    """The demo's ID card reader: a simulator behind a stable name (like /dev/serial/by-id) that
    follows it across a re-plug."""

    def __init__(self, workdir: Path) -> None:
        from devices.idcard.simulator import IdCardSimulator

        workdir.mkdir(parents=True, exist_ok=True)
        self.port = workdir / "ttyIDCARD"
        self.simulator = IdCardSimulator().start()
        self.port.symlink_to(self.simulator.port)

    def replug(self) -> IdCardSimulator:
        """The reader comes back (after ``simulator.unplug()``): a new module behind the same name."""
        from devices.idcard.simulator import IdCardSimulator

        self.simulator.stop()
        self.simulator = IdCardSimulator().start()
        tmp = self.port.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self.simulator.port)
        tmp.replace(self.port)
        return self.simulator

    def stop(self) -> None:
        self.simulator.stop()


def _serial(section: IdCardConfig, ctx: DeviceContext) -> SerialIdCardReader:
    from devices.idcard.driver import SerialIdCardReader

    candidates = None
    if section.discover:
        from devices.idcard.discovery import default_candidates

        candidates = default_candidates
    return SerialIdCardReader(
        section.port, section.baudrate, poll_interval=section.poll_interval_s, candidates=candidates
    )


def _attach(station: IdCardStation, section: IdCardConfig) -> SerialIdCardReader:
    from devices.idcard.driver import SerialIdCardReader

    # the stable name, not the simulator's own: it follows a re-plug
    return SerialIdCardReader(str(station.port), section.baudrate, poll_interval=section.poll_interval_s)


def photo_decoder(section: IdCardConfig) -> PhotoDecoder:
    """The card-photo decoder the section asks for: the vendor's library, else simulator cards'."""
    from devices.idcard.photo import SimulatorPhotoDecoder, VendorPhotoDecoder

    if section.photo_library:
        return VendorPhotoDecoder(section.photo_library)
    return SimulatorPhotoDecoder()


IDCARD: DeviceKind[IdCardConfig, IdCardReader, IdCardStation] = DeviceKind(
    name="idcard",
    config=IdCardConfig,
    interface=IdCardReader,
    drivers={"serial": _serial},
    simulate=IdCardStation,
    attach=_attach,
    release=IdCardStation.stop,
    description="resident ID card reader (GA/T 467, serial)",
)
