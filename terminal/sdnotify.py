"""The systemd notification protocol (sd_notify), without libsystemd.

The kiosk unit is ``Type=notify`` with a watchdog: the terminal says ``READY=1`` once
its window is up and pings ``WATCHDOG=1`` from the GUI thread, so a frozen event loop
(not only a dead process) makes systemd restart it.  Outside systemd (no
``NOTIFY_SOCKET``) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def _address() -> str | None:
    path = os.environ.get("NOTIFY_SOCKET", "")
    if not path:
        return None
    if path.startswith("@"):  # abstract namespace
        return "\0" + path[1:]
    if not path.startswith("/"):
        log.warning("NOTIFY_SOCKET is neither a path nor abstract: ignored")
        return None
    return path


def notify(*states: str) -> bool:
    """Send ``states`` (e.g. ``"READY=1"``, ``"STATUS=…"``) to systemd; False when not under it."""
    address = _address()
    if address is None:
        return False
    message = "\n".join(states).encode()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message)
    except OSError as err:
        log.warning("sd_notify failed: %s", err)
        return False
    return True


def watchdog_period_s() -> float | None:
    """How often to ping the watchdog (half of ``WATCHDOG_USEC``), None when no watchdog is set.

    ``WATCHDOG_PID``, when set, names the process the watchdog is meant for: under cage
    (the kiosk compositor) the terminal is cage's child, so the unit sets
    ``NotifyAccess=all`` and the PID check is skipped when the variable names our parent.
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid.isdigit() and int(pid) not in (os.getpid(), os.getppid()):
        return None
    return int(usec) / 2_000_000
