"""What a device kind declares (see :mod:`devices.registry` for the table of kinds)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

#: The driver name that connects a kind's driver to its simulator (demo profile only).
SIMULATOR = "simulator"
#: The driver name that switches an optional device off.
NONE = "none"


class SectionConfig(BaseModel):
    """Base of a ``[devices.<kind>]`` section: frozen, unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    driver: str


class DeviceConfigError(ValueError):
    """A device section asks for something the registry cannot build (unknown kind or driver,
    the simulator outside the demo profile)."""


@dataclass(frozen=True)
class DeviceContext:
    """What a driver factory may use besides its own section."""

    data_dir: Path  # the terminal's data directory (default spool directory and the like)
    production: bool  # the production profile (hardware, the central platform)
    simulators: Mapping[str, Any] = field(default_factory=dict)  # kind name -> its running simulator


C = TypeVar("C", bound=SectionConfig)
D = TypeVar("D")
S = TypeVar("S")


def _no_release(_simulator: Any) -> None:
    return None


@dataclass(frozen=True)
class DeviceKind(Generic[C, D, S]):
    """One device kind: its config section, interface, drivers and simulator."""

    name: str
    config: type[C]
    interface: type[Any]
    #: Hardware drivers by the section's ``driver``; a factory may return ``None`` (device off).
    drivers: Mapping[str, Callable[[C, DeviceContext], D | None]]
    #: Starts the kind's simulator in a directory of its own (demo profile).
    simulate: Callable[[Path], S]
    #: The kind's driver on a running simulator (the section's driver is ``"simulator"``).
    attach: Callable[[S, C], D | None]
    #: Stops a simulator started by ``simulate``.
    release: Callable[[S], None] = _no_release
    #: The production profile must have the section (else: a config error, not defaults).
    required: bool = True
    #: Turns a section's ``driver`` into the one to build (e.g. ``"auto"`` -> a concrete driver).
    resolve: Callable[[C, DeviceContext], str] | None = None
    #: The driver names only ``resolve`` understands (e.g. ``("auto",)``).
    resolved: tuple[str, ...] = ()
    description: str = ""

    def driver_names(self) -> tuple[str, ...]:
        """Every driver the section may name: the hardware ones, ``"simulator"`` and those
        ``resolve`` chooses from."""
        return (*self.drivers, SIMULATOR, *self.resolved)

    def build(self, section: C, ctx: DeviceContext) -> D | None:
        """The device the section asks for (not opened: drivers open on first use)."""
        driver = self.resolve(section, ctx) if self.resolve is not None else section.driver
        if driver == SIMULATOR:
            if self.name not in ctx.simulators:
                where = "the production profile" if ctx.production else "this terminal (no simulator bench)"
                raise DeviceConfigError(
                    f"devices.{self.name}.driver = 'simulator' is not available in {where}: "
                    f"choose one of {', '.join(sorted(self.drivers))}"
                )
            return self.attach(ctx.simulators[self.name], section)
        factory = self.drivers.get(driver)
        if factory is None:
            raise DeviceConfigError(
                f"devices.{self.name}.driver = {driver!r} is unknown: "
                f"choose one of {', '.join(sorted(self.driver_names()))}"
            )
        return factory(section, ctx)
