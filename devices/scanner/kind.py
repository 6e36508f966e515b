"""The document scanner kind (SANE, flatbed or feeder): config section ``[devices.scanner]``.

Optional: a capture source for materials next to the document camera.  The demo's simulator is
SANE's own ``test`` backend, so the real ``scanimage`` frontend and libsane run."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from devices.device_kind import DeviceContext, DeviceKind, SectionConfig
from devices.interfaces import DocumentScanner
from devices.scanner.sane import SaneScanner, sane_test_backend_env

#: The SANE device the demo scans from (the first scanner of the ``test`` backend).
SIMULATED_DEVICE = "test:0"


class ScannerConfig(SectionConfig):
    driver: Literal["simulator", "sane", "none"] = "none"
    device: str = ""  # driver "sane": the SANE device name (scanimage -L); "" = the first one listed
    timeout_s: float = Field(60.0, gt=0)  # one scan, feeder included


def _sane(section: ScannerConfig, ctx: DeviceContext) -> SaneScanner:
    return SaneScanner(section.device or None, timeout=section.timeout_s)


def _none(section: ScannerConfig, ctx: DeviceContext) -> None:
    return None


def _simulate(workdir: Path) -> dict[str, str]:
    """The environment whose SANE sees only the ``test`` backend (configured in ``workdir``)."""
    return sane_test_backend_env(workdir / "sane")


def _attach(env: dict[str, str], section: ScannerConfig) -> SaneScanner:
    return SaneScanner(SIMULATED_DEVICE, env=env, timeout=section.timeout_s)


SCANNER: DeviceKind[ScannerConfig, DocumentScanner, dict[str, str]] = DeviceKind(
    name="scanner",
    config=ScannerConfig,
    interface=DocumentScanner,
    drivers={"sane": _sane, "none": _none},
    simulate=_simulate,
    attach=_attach,
    required=False,
    description="document scanner (SANE: flatbed, feeder)",
)
