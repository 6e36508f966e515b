"""``SaneScanner``: flatbed and sheet-fed scanners through SANE's ``scanimage``.

Uses the command-line frontend from Debian ``sane-utils`` (no C extension to
build, the same tool staff use to check a scanner).  ``scanimage`` exits with
the SANE status of the failure (6 jammed, 7 out of documents, 8 cover open,
...), which becomes a typed :class:`devices.base.DeviceError` carrying the
required action.  Pages come back as PNM on stdout (flatbed) or as one file
per sheet in a private temporary directory (feeder, ``--batch``), decoded to
BGR arrays; nothing is kept on disk.

Backends name their options differently: the source names and any extra
options (colour mode, area, a vendor's quirks) are data given to the driver.
The tests run it against SANE's own ``test`` backend with a private
``SANE_CONFIG_DIR`` (the backend's ``--read-return-value`` injects the faults).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from devices.base import (
    DeviceError,
    DeviceNotFound,
    DeviceStatus,
    DeviceTimeout,
    MediaError,
    RequiredAction,
)
from devices.interfaces import ScanSource

if TYPE_CHECKING:
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

logger = logging.getLogger(__name__)

KIND = "document_scanner"


class ScannerJammed(MediaError):
    """Paper jam in the feeder or the transport: hall staff open the scanner and clear it."""

    default_action = RequiredAction.CLEAR_BY_STAFF
    default_status = DeviceStatus.HARDWARE_ERROR


class FeederEmpty(MediaError):
    """No sheet in the document feeder: the citizen puts the pages in and tries again."""

    default_action = RequiredAction.RETRY
    default_status = DeviceStatus.NO_MEDIA


class CoverOpen(MediaError):
    """The scanner's cover (or the feeder's) is open: close it and try again."""

    default_action = RequiredAction.RETRY
    default_status = DeviceStatus.USER_ERROR


class ScannerBusy(DeviceError):
    """Another program holds the scanner, or it is warming up: wait and retry."""

    default_action = RequiredAction.WAIT
    default_status = DeviceStatus.BUSY


#: SANE_Status codes (sane.h) that scanimage exits with -> (error type, message).
_STATUS_ERRORS: dict[int, tuple[type[DeviceError], str]] = {
    3: (ScannerBusy, "scanner busy"),
    6: (ScannerJammed, "paper jam"),
    7: (FeederEmpty, "no document in the feeder"),
    8: (CoverOpen, "scanner cover open"),
    9: (DeviceError, "scanner I/O error"),
    10: (DeviceError, "scanner out of memory"),
    11: (DeviceError, "access to the scanner denied"),
}
_STATUS_ACTIONS: dict[int, RequiredAction] = {
    9: RequiredAction.RESET,
    10: RequiredAction.RESET,
    11: RequiredAction.MAINTENANCE,
}

#: ``sane_strstatus`` texts (sane.h order) -> the status code scanimage would exit with.
_STATUS_TEXTS: dict[str, int] = {
    "Device busy": 3,
    "Document feeder jammed": 6,
    "Document feeder out of documents": 7,
    "Scanner cover is open": 8,
    "Error during device I/O": 9,
    "Out of memory": 10,
    "Access to resource has been denied": 11,
}
_FAILURE_LINE = re.compile(r"^scanimage: sane_(?:start|read): (?P<text>.+)$")

#: How long scanimage may take to exit after it reported a failure.  Its SIGPIPE handler can
#: deadlock with a backend's reader thread on the way out (seen with SANE's ``test`` backend,
#: ~1 run in 8): the failure is known by then, so the process is killed and the status used.
EXIT_GRACE_S = 2.0

#: The ``--source`` values of the SANE test backend and most flatbed+ADF backends.
DEFAULT_SOURCE_NAMES: Mapping[ScanSource, str] = {
    ScanSource.FLATBED: "Flatbed",
    ScanSource.ADF: "Automatic Document Feeder",
}

_DEVICE_LINE = re.compile(r"^(?P<name>\S+)\t(?P<vendor>[^\t]*)\t(?P<model>[^\t]*)\t(?P<type>[^\t]*)$")


def _decode_pnm(data: bytes) -> Frame:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise DeviceError("scanner returned an image that cannot be decoded", device=KIND)
    return np.asarray(img, dtype=np.uint8)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    proc.wait()


class SaneScanner:
    """Implements :class:`devices.interfaces.DocumentScanner` over ``scanimage``.

    ``device`` is a SANE device name (``fujitsu:fi-7160:1234``, ``test:0``); ``None`` takes
    the first scanner SANE lists.  ``env`` replaces the environment of the child processes
    (``SANE_CONFIG_DIR`` and the like); ``options`` are extra backend options given to every
    scan (e.g. ``["--mode", "Color"]``)."""

    kind = KIND

    def __init__(
        self,
        device: str | None = None,
        *,
        options: Sequence[str] = ("--mode", "Color"),
        source_names: Mapping[ScanSource, str] = DEFAULT_SOURCE_NAMES,
        env: Mapping[str, str] | None = None,
        timeout: float = 60.0,
        scanimage: str = "scanimage",
    ) -> None:
        self.device = device
        self.options = tuple(options)
        self.source_names = dict(source_names)
        self.env = dict(env) if env is not None else None
        self.timeout = timeout
        self.scanimage = scanimage

    # -- discovery and status ------------------------------------------------------------
    def _run(self, args: list[str], cwd: str | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run scanimage.  A failure it reported on stderr but did not exit after (see
        EXIT_GRACE_S) ends it with that status; no answer within ``timeout`` is DeviceTimeout."""
        try:
            proc = subprocess.Popen(
                [self.scanimage, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # killed as a group: nothing is left holding the pipes
            )
        except FileNotFoundError as err:
            raise DeviceNotFound(f"{self.scanimage} not installed (sane-utils)", device=KIND) from err
        out: list[bytes] = []
        err_lines: list[bytes] = []
        failed: list[int] = []  # the status scanimage reported on stderr, once it did

        def read_stdout() -> None:
            assert proc.stdout is not None
            out.append(proc.stdout.read())

        def read_stderr() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                err_lines.append(line)
                m = _FAILURE_LINE.match(line.decode("utf-8", "replace").strip())
                if m and not failed:
                    failed.append(_STATUS_TEXTS.get(m.group("text"), 9))

        readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
        for t in readers:
            t.start()
        try:
            returncode = self._wait(proc, failed)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
            for t in readers:
                t.join(timeout=EXIT_GRACE_S)
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        return subprocess.CompletedProcess(proc.args, returncode, b"".join(out), b"".join(err_lines))

    def _wait(self, proc: subprocess.Popen[bytes], failed: list[int]) -> int:
        deadline = time.monotonic() + self.timeout
        failed_at: float | None = None
        while True:
            try:
                return proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if failed and failed_at is None:
                    failed_at = now
                if failed_at is not None and now - failed_at > EXIT_GRACE_S:
                    logger.warning("scanimage hung after reporting a failure: killed")
                    _kill_group(proc)
                    return failed[0]
                if now > deadline:
                    raise DeviceTimeout(
                        f"scanner did not finish within {self.timeout} s", device=KIND
                    ) from None

    def list_devices(self) -> list[tuple[str, str]]:
        """``(device name, "vendor model")`` of every scanner SANE finds."""
        proc = self._run(["-f", "%d\t%v\t%m\t%t%n"])
        out: list[tuple[str, str]] = []
        for line in proc.stdout.decode("utf-8", "replace").splitlines():
            m = _DEVICE_LINE.match(line)
            if m:
                out.append((m.group("name"), f"{m.group('vendor')} {m.group('model')}".strip()))
        return out

    def _device_name(self) -> str:
        devices = [name for name, _ in self.list_devices()]
        if self.device is None:
            if not devices:
                raise DeviceNotFound("no scanner found", device=KIND)
            return devices[0]
        if self.device not in devices:
            raise DeviceNotFound(f"scanner {self.device} not found", device=KIND)
        return self.device

    def status(self) -> DeviceStatus:
        try:
            self._device_name()
        except DeviceError as err:
            return err.status
        return DeviceStatus.READY

    # -- scanning ---------------------------------------------------------------------------
    def _raise_for(self, proc: subprocess.CompletedProcess[bytes]) -> None:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = message[-1] if message else f"exit status {proc.returncode}"
        if "open of device" in detail:
            raise DeviceNotFound(f"scanner cannot be opened: {detail}", device=KIND)
        error, text = _STATUS_ERRORS.get(proc.returncode, (DeviceError, "scan failed"))
        logger.warning("scan failed: status %d (%s)", proc.returncode, detail)
        raise error(f"{text}: {detail}", device=KIND, action=_STATUS_ACTIONS.get(proc.returncode))

    def scan(self, source: ScanSource = ScanSource.FLATBED, resolution_dpi: int = 200) -> list[Frame]:
        if not 50 <= resolution_dpi <= 1200:
            raise ValueError(f"resolution {resolution_dpi} dpi outside 50..1200")
        device = self._device_name()
        args = ["-d", device, "--format=pnm", "--resolution", str(resolution_dpi), *self.options]
        name = self.source_names.get(source)
        if name is None:
            raise DeviceError(f"scanner has no {source.value} source configured", device=KIND)
        args += ["--source", name]
        if source is ScanSource.FLATBED:
            proc = self._run(args)
            if proc.returncode != 0:
                self._raise_for(proc)
            pages = [_decode_pnm(proc.stdout)]
        else:
            with tempfile.TemporaryDirectory(prefix="scan-") as tmp:
                proc = self._run([*args, "--batch=page-%04d.pnm"], cwd=tmp)
                if proc.returncode != 0:
                    self._raise_for(proc)
                files = sorted(Path(tmp).glob("page-*.pnm"))
                pages = [_decode_pnm(f.read_bytes()) for f in files]
            if not pages:  # the feeder ran dry before the first sheet: scanimage still says 0
                raise FeederEmpty("no document in the feeder", device=KIND)
        logger.info("scanned %d page(s) at %d dpi from %s", len(pages), resolution_dpi, source.value)
        return pages

    def close(self) -> None:
        """Nothing stays open between scans (each ``scanimage`` opens and releases the device)."""


def sane_test_backend_env(config_dir: Path, devices: int = 1) -> dict[str, str]:
    """An environment whose SANE sees only the ``test`` backend (``devices`` virtual
    scanners), configured in ``config_dir``: for tests and for checking the frontend on a
    terminal without a scanner."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "dll.conf").write_text("test\n", encoding="ascii")
    (config_dir / "test.conf").write_text(f"number_of_devices {devices}\n", encoding="ascii")
    return {**os.environ, "SANE_CONFIG_DIR": str(config_dir)}
