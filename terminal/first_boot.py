"""First boot: an unprovisioned terminal shows the installer's enrolment screen (ui/first_boot.py).

Unprovisioned means: the config the terminal was told to use (``--config`` or ``$KIOSK_CONFIG``, as
the packaged service sets it) does not exist.  Without an explicit config a checkout still starts
the demo profile.  The screen runs :func:`terminal.provision.run`, the same code as ``hall-kiosk
provision``, with the enrolment the installer scanned or typed, the data directory
(``$KIOSK_DATA_DIR``, default /var/lib/hall-kiosk) and, when the file exists, the hall's fixed
provisioning flags from ``/etc/hall-kiosk/provision.args`` (``$KIOSK_PROVISION_ARGS``; shell-quoted
flags such as ``--ca-bundle /etc/hall-kiosk/platform-ca.pem --cups-queue auto``).  The enrolment QR
code is read from the face camera (``--camera`` in those flags, else the first V4L2 camera).  When
the terminal is ready, "restart" starts the terminal in a fresh process (``exec``), so it comes up
exactly as after a reboot.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from terminal import provision, provision_seal
from ui.first_boot import Enrolment, ProvisionOutcome

log = logging.getLogger(__name__)

PROVISION_ARGS = Path("/etc/hall-kiosk/provision.args")


def unprovisioned(explicit_config: Path | None) -> bool:
    """True when the terminal was pointed at a config that does not exist yet."""
    path = explicit_config or (Path(os.environ["KIOSK_CONFIG"]) if os.environ.get("KIOSK_CONFIG") else None)
    return path is not None and not path.exists()


def hall_flags() -> list[str]:
    path = Path(os.environ.get("KIOSK_PROVISION_ARGS") or PROVISION_ARGS)
    try:
        return shlex.split(path.read_text(encoding="utf-8"), comments=True)
    except FileNotFoundError:
        return []


def _flag(args: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(args[:-1]):
        if arg == name:
            return args[i + 1]
    return None


def _quit_app() -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.quit()


class FirstBoot:
    """The backend of the first-boot screen (ui.first_boot.FirstBootBackend)."""

    def __init__(
        self,
        config_path: Path,
        data_dir: Path,
        flags: Sequence[str] = (),
        *,
        restart: Callable[[], None] | None = None,
        end: Callable[[], None] | None = None,
    ) -> None:
        self.config_path = config_path
        self.data_dir = data_dir
        self.flags = list(flags)
        self._restart = restart or self._exec_terminal
        self._end = end or _quit_app

    def parse_qr(self, text: str) -> Enrolment:
        try:
            q = provision.parse_qr(text.strip())
        except provision.ProvisionError as err:
            raise ValueError(str(err)) from err
        return Enrolment(q["url"], q["terminal"], q["code"], q.get("root", ""))

    def scan_qr(self, timeout_s: float) -> str | None:
        from devices.barcode.qr import CameraQrReader
        from devices.camera.opencv import OpenCvCamera
        from terminal import provision_discover as disc

        source = _flag(self.flags, "--camera")
        if source in (None, "auto"):
            found = disc.cameras()
            if not found:
                raise ValueError("no camera found")
            source = found[0].path
        assert source is not None
        reader = CameraQrReader(OpenCvCamera(int(source) if source.isdigit() else source, 1280, 720))
        try:
            return reader.read_code(timeout_s)
        finally:
            reader.close()

    def provision(self, enrolment: Enrolment, say: Callable[[str], None]) -> ProvisionOutcome:
        qr = provision.enrolment_qr_text(
            enrolment.platform_url, enrolment.terminal_id, enrolment.code, enrolment.tuf_root_sha256
        )
        args = [
            *self.flags,
            "--qr", qr,
            "--config", str(self.config_path),
            "--data-dir", str(self.data_dir),
            "--non-interactive",
        ]  # fmt: skip
        lines: list[str] = []

        def out(line: str) -> None:
            lines.append(line)
            if "provision failed" not in line:
                say(line)

        target = self.write_target()
        args[args.index("--config") + 1] = str(target)
        folder = next(p for p in (target.parent, *target.parents) if p.exists())
        if not os.access(folder, os.W_OK):  # neither /etc nor the data directory: said before enrolling
            return ProvisionOutcome(
                2, False, (), f"{folder} is not writable by this user: run `hall-kiosk provision` as root"
            )
        log.info("first boot: provisioning %s with %s", enrolment.terminal_id, enrolment.platform_url)
        status = provision.run(args, out=out)
        failed = [line for line in lines if line.startswith("provision failed")]
        if status == 2 or failed:
            return ProvisionOutcome(
                2, False, (), failed[-1].removeprefix("provision failed: ") if failed else ""
            )
        report = tuple(
            line.strip()
            for line in lines
            if line.startswith("      ok") or line.startswith("      FAIL") or line.startswith("      warn")
        )
        return ProvisionOutcome(status, status == 0, report)

    def write_target(self) -> Path:
        """The config path, or the staged one in the data directory when the kiosk's user cannot
        write the config's folder (/etc/hall-kiosk 0750 root:hall-kiosk on a packaged install):
        root seals it into place before the next start (terminal/provision_seal.py)."""
        folder = next(p for p in (self.config_path.parent, *self.config_path.parents) if p.exists())
        if os.access(folder, os.W_OK) or not self.data_dir.is_dir():
            return self.config_path
        return provision_seal.staged_path(self.data_dir)

    def restart(self) -> None:
        if not self.config_path.exists() and provision_seal.staged_path(self.data_dir).exists():
            # staged: the next start of the service seals it; systemd restarts the kiosk (Restart=always)
            log.info("first boot done: config staged, ending so the service restarts and seals it")
            self._end()
            return
        self._restart()

    def _exec_terminal(self) -> None:
        log.info("first boot done: restarting into the terminal")
        entry = "import sys; from terminal.entry import main; sys.exit(main())"
        os.execv(sys.executable, [sys.executable, "-c", entry, "--config", str(self.config_path)])


def run_first_boot(explicit_config: Path | None) -> int:
    """The first-boot screen's event loop (terminal/entry.py, when :func:`unprovisioned`)."""
    from terminal.app import has_display, make_app
    from ui.first_boot import FirstBootWindow

    config_path = explicit_config or Path(os.environ["KIOSK_CONFIG"])
    data_dir = Path(os.environ.get("KIOSK_DATA_DIR") or provision.DEFAULT_DATA)
    if not has_display():
        print(
            f"{config_path} does not exist: run `hall-kiosk provision` (no display for the first-boot screen)"
        )
        return 3
    from PySide6.QtCore import QTimer

    from terminal import sdnotify

    app = make_app()
    window = FirstBootWindow(FirstBoot(config_path, data_dir, hall_flags()))
    window.showFullScreen()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: app.quit())  # systemd stop: leave the loop cleanly
    ticker = QTimer()  # lets Python see the signal
    ticker.timeout.connect(lambda: None)
    ticker.start(500)
    sdnotify.notify("READY=1", "STATUS=first boot: waiting for the installer")
    watchdog = QTimer()  # the service's watchdog (packaging/systemd) holds on this screen too
    period = sdnotify.watchdog_period_s()
    if period is not None:
        watchdog.timeout.connect(lambda: sdnotify.notify("WATCHDOG=1"))
        watchdog.start(int(period * 1000))
    try:
        return app.exec()
    finally:
        sdnotify.notify("STOPPING=1")
        window.close()
