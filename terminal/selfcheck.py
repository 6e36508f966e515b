"""The terminal's self-check: is this box fit to serve citizens?

Two depths over the same checks:

* at every start (:func:`startup_check`, called by terminal/runtime.py): cheap, never waits on the
  platform: the trust anchors on disk (TUF root, platform answer key), the ID card reader answering
  its SAM status, the cameras' sources present, the printers' status.  A required check failing
  puts the terminal out of service with the required action instead of showing the welcome screen;
  :class:`StartupGate` re-runs it while out of service and lets the terminal back once it passes.
* at provisioning (``hall-kiosk provision``, terminal/provision.py, ``deep=True``): the same plus a
  frame from each camera, the platform reachable and enrolled, and the trusted catalogue synced.

The result is a :class:`Readiness` report: JSON for the installer's records and a printout on the
receipt printer (:func:`print_report`).  No personal data is ever part of it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devices.base import FAULT_STATUSES, DeviceError, RequiredAction
from devices.interfaces import Camera, ReceiptDoc, ReceiptLine, ReceiptPrinter
from kiosk.cases.platform_pins import ANSWER_KEY_FILE, read_pinned_key
from kiosk.config import Profile, TerminalConfig
from kiosk.session.values import Devices

log = logging.getLogger(__name__)

#: The action a failed check asks of the installer when no device action applies.
PROVISION = "provision"
TUF_ROOT = Path("tuf") / "metadata" / "root.json"
REQUIRED_DEVICES = ("idcard", "camera", "document_camera", "receipt_printer", "document_printer")


@dataclass(frozen=True)
class Check:
    """One line of the readiness report."""

    name: str  # e.g. "device.idcard", "trust.tuf_root", "platform.enrolled"
    ok: bool
    required: bool
    detail: str  # English, for the installer; never personal data
    action: str = ""  # a RequiredAction value or "provision"; empty when ok

    @property
    def device(self) -> str:
        """The device kind a ``device.*`` check is about; "selfcheck" for the others."""
        head, _, tail = self.name.partition(".")
        return tail if head == "device" else "selfcheck"


@dataclass(frozen=True)
class Readiness:
    terminal_id: str
    checks: tuple[Check, ...]
    checked_at: float = field(default_factory=time.time)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.required and not c.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "terminal_id": self.terminal_id,
            "readiness_ok": self.ok,
            "checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.checked_at)),
            "duration_s": round(self.duration_s, 3),
            "checks": [asdict(c) for c in self.checks],
        }


def write_report(readiness: Readiness, path: Path) -> Path:
    """The report as JSON at ``path`` (written atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(readiness.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------ the checks


def check_trust(workdir: Path, profile: Profile) -> list[Check]:
    """The anchors a provisioned terminal holds: the TUF root (no trusted catalogue without it) and
    the platform's answer key.  The demo profile pins both on first use, so neither is required."""
    production = profile is Profile.PRODUCTION
    root = workdir / TUF_ROOT
    checks = [
        Check(
            "trust.tuf_root",
            root.is_file(),
            production,
            f"TUF root pinned at {root}"
            if root.is_file()
            else f"no TUF root at {root}: no trusted catalogue",
            "" if root.is_file() else PROVISION,
        )
    ]
    key = read_pinned_key(workdir / "secrets" / ANSWER_KEY_FILE)
    checks.append(
        Check(
            "trust.platform_answer_key",
            key is not None,
            production,
            "platform answer key pinned" if key is not None else "no platform answer key pinned",
            "" if key is not None else PROVISION,
        )
    )
    return checks


def _device_check(name: str, required: bool, probe: Any) -> Check:
    try:
        detail = probe()
    except DeviceError as err:
        return Check(f"device.{name}", False, required, f"{type(err).__name__}: {err}", err.action.value)
    except Exception as err:  # a driver bug must not stop the check of the others
        log.exception("self-check of %s failed", name)
        return Check(f"device.{name}", False, required, f"{type(err).__name__}: {err}", "maintenance")
    if detail is None:
        return Check(f"device.{name}", True, required, "ready")
    ok, text = detail
    return Check(f"device.{name}", ok, required, text, "" if ok else RequiredAction.MAINTENANCE.value)


def _status(dev: Any) -> tuple[bool, str]:
    status = dev.status()
    return status not in FAULT_STATUSES, f"status {status.value}"


def _camera_source_present(config: TerminalConfig, name: str) -> tuple[bool, str]:
    section = getattr(config.devices, name)
    if section.driver != "opencv":
        return True, f"driver {section.driver}"
    source = str(section.source)
    path = Path(f"/dev/video{source}") if source.isdigit() else Path(source)
    return path.exists(), f"source {path} {'present' if path.exists() else 'missing'}"


def _camera_frame(camera: Camera) -> tuple[bool, str]:
    camera.open()
    try:
        frame = camera.read_frame(5.0)
    finally:
        camera.close()
    h, w = frame.shape[:2]
    return True, f"frame {w}x{h}"


def _idcard(devices: Devices) -> tuple[bool, str]:
    devices.idcard.open()  # answers the SAM status or raises
    return True, "SAM answers"


def check_devices(config: TerminalConfig, devices: Devices, *, deep: bool = False) -> list[Check]:
    """One check per device.  ``deep``: read a frame from each camera (provisioning only: it holds
    the cameras for a moment); otherwise a camera counts when its source is there."""
    checks = [_device_check("idcard", True, lambda: _idcard(devices))]
    for name in ("camera", "document_camera"):
        cam = getattr(devices, name)
        if deep:
            checks.append(_device_check(name, True, lambda cam=cam: _camera_frame(cam)))
        else:
            checks.append(_device_check(name, True, lambda name=name: _camera_source_present(config, name)))
    for name in ("receipt_printer", "document_printer"):
        checks.append(_device_check(name, True, lambda dev=getattr(devices, name): _status(dev)))
    if devices.barcode is not None:
        checks.append(_device_check("barcode", False, lambda: _status(devices.barcode)))
    return checks


def startup_check(config: TerminalConfig, devices: Devices, workdir: Path) -> Readiness:
    """The check at every start: fast, no platform round trip (see the module docstring)."""
    t0 = time.monotonic()
    checks = check_trust(workdir, config.profile) + check_devices(config, devices)
    return Readiness(config.terminal_id, tuple(checks), duration_s=time.monotonic() - t0)


# ------------------------------------------------------------------ the printout


def report_receipt(readiness: Readiness, hall_name: str) -> ReceiptDoc:
    """The readiness report as a receipt (ASCII check names: the installer's language is English)."""
    lines = [
        ReceiptLine("text", hall_name, bold=True, align="center"),
        ReceiptLine("text", "TERMINAL READINESS", bold=True, align="center", double=True),
        ReceiptLine("text", f"terminal {readiness.terminal_id}"),
        ReceiptLine("text", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(readiness.checked_at))),
        ReceiptLine("feed"),
    ]
    for c in readiness.checks:
        mark = "OK  " if c.ok else ("FAIL" if c.required else "warn")
        lines.append(ReceiptLine("text", f"{mark} {c.name}"))
        if not c.ok:
            lines.append(ReceiptLine("text", f"     -> {c.action}: {c.detail[:60]}"))
    lines += [
        ReceiptLine("feed"),
        ReceiptLine("text", "READY" if readiness.ok else "NOT READY", bold=True, align="center", double=True),
        ReceiptLine("feed"),
        ReceiptLine("cut"),
    ]
    return ReceiptDoc(tuple(lines))


def print_report(printer: ReceiptPrinter, readiness: Readiness, hall_name: str) -> Check:
    """Print the report through the ESC/POS driver; the outcome is itself a check."""
    try:
        printer.print_receipt(report_receipt(readiness, hall_name))
    except DeviceError as err:
        return Check("report.printed", False, False, f"{type(err).__name__}: {err}", err.action.value)
    return Check("report.printed", True, False, "readiness report printed on the receipt printer")


# ------------------------------------------------------------------ at every start


class StartupGate:
    """The start-up self-check kept for the out-of-service screen and re-run to leave it.

    ``failures()`` (the coordinator's ``selfcheck`` hook) re-runs the check and answers the
    required checks that still fail; the terminal leaves out of service when it answers none."""

    def __init__(self, config: TerminalConfig, devices: Devices, workdir: Path) -> None:
        self._config = config
        self._devices = devices
        self._workdir = workdir
        self._lock = threading.Lock()
        self.last = startup_check(config, devices, workdir)

    def failures(self) -> Sequence[tuple[str, str]]:
        """(check name, required action) of each required check failing now."""
        with self._lock:
            self.last = startup_check(self._config, self._devices, self._workdir)
        return [(c.name, c.action) for c in self.last.failures]

    def current(self) -> Sequence[tuple[str, str]]:
        """The failures of the last run, without running again."""
        return [(c.name, c.action) for c in self.last.failures]


def hold_if_unfit(session: Any, config: TerminalConfig, devices: Devices, workdir: Path) -> StartupGate:
    """Run the start-up check for ``session`` (a SessionCoordinator): any required failure puts
    the terminal out of service (problem "selfcheck", action maintenance) before the first screen."""
    from kiosk.session.values import Problem

    gate = StartupGate(config, devices, workdir)
    session.selfcheck = gate.failures
    if gate.last.ok:
        log.info("self-check passed in %.2f s", gate.last.duration_s)
        return gate
    for c in gate.last.failures:
        log.error("self-check: %s failed (%s): %s", c.name, c.action, c.detail)
    problem = Problem("selfcheck", RequiredAction.MAINTENANCE, "selfcheck.detail", None, allow_manual=False)
    session.ctx.raise_problem(problem, session.data)
    return gate
