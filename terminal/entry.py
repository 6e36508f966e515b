"""The terminal's entry point: ``python main.py`` in a checkout, ``hall-kiosk`` when installed.

Starts the terminal (the demo profile unless configured) under systemd's notification
protocol when there is one (packaging/systemd/hall-kiosk.service).
"""

from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["provision"]:  # `hall-kiosk provision`: docs/installation.md
        from terminal.provision import run

        return run(argv[1:])
    if argv[:1] in (["update"], ["launch"]):  # app updates: docs/operations.md "Updates"
        from terminal.update import main as update_main

        return update_main(argv[1:] if argv[0] == "update" else argv)
    parser = argparse.ArgumentParser(description="Government service hall self-service terminal")
    parser.add_argument(
        "--config", help="terminal config (TOML); default: $KIOSK_CONFIG or var/terminal.toml"
    )
    parser.add_argument("--windowed", action="store_true", help="do not go full-screen")
    args = parser.parse_args(argv)

    from pathlib import Path

    from terminal.memory import tune_malloc

    tune_malloc()  # before any thread starts (the systemd unit also sets MALLOC_ARENA_MAX)

    from kiosk import logsetup
    from kiosk.config import ConfigError, load_config
    from kiosk.i18n import set_language
    from terminal.first_boot import unprovisioned

    if unprovisioned(Path(args.config) if args.config else None):  # the installer's first boot
        from terminal.first_boot import run_first_boot

        return run_first_boot(Path(args.config) if args.config else None)
    try:
        config = load_config(Path(args.config) if args.config else None)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    logsetup.configure(config.data_path() / "logs")
    set_language(config.ui.language)

    from terminal.app import has_display

    if not has_display():
        print(
            "No display found (DISPLAY/WAYLAND_DISPLAY unset). The terminal needs a screen;\n"
            "to see it work headless, run `make demo` (scripted sessions, screenshots in demo-out/).",
            file=sys.stderr,
        )
        return 3

    import signal

    # The core before Qt: once PySide6 is loaded, its __feature__ import hook reads the source of
    # every module imported after it (measured ~1 s of the cold start and ~45 MB; terminal/memory.py).
    from terminal.runtime import build_terminal

    from PySide6.QtCore import QTimer  # isort: skip

    from kiosk.fleet.heartbeat import app_version
    from kiosk.update.health import report_ready
    from terminal import sdnotify
    from terminal.app import KioskUi, make_app

    app = make_app()
    terminal = build_terminal(config, background_connect=True)
    ui = KioskUi(app, terminal, fullscreen=config.ui.fullscreen and not args.windowed)
    # SIGTERM (systemd stop) and Ctrl-C end the event loop, so shutdown runs and the
    # store, devices and sandbox close cleanly.  The timer lets Python see the signal.
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    ticker = QTimer()
    ticker.start(500)
    ticker.timeout.connect(lambda: None)
    # systemd (packaging/systemd/hall-kiosk.service): ready once the window is up; the
    # watchdog is pinged from the GUI thread, so a stuck event loop is restarted too.
    QTimer.singleShot(0, lambda: sdnotify.notify("READY=1", "STATUS=attract screen up"))
    # The updater keeps a new release only once it says it is up (kiosk/update/health.py).
    QTimer.singleShot(0, lambda: report_ready(app_version(), terminal.startup_ok()))
    watchdog = QTimer()
    period = sdnotify.watchdog_period_s()
    if period is not None:
        watchdog.timeout.connect(lambda: sdnotify.notify("WATCHDOG=1"))
        watchdog.start(int(period * 1000))
    try:
        return app.exec()
    finally:
        sdnotify.notify("STOPPING=1")
        ui.close()
        terminal.close()
        logging.shutdown()
