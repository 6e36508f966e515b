"""Logging: structured lines, personal data redacted, raw device traffic in its own file.

The redaction filter removes anything shaped like a resident ID number or a
mobile number, and the values registered for the current session (the
citizen's name and address), from every record before any handler sees it.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

from kiosk.fleet import journal

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")

_lock = threading.Lock()
_sensitive: set[str] = set()

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def register_sensitive(*values: str) -> None:
    """Values that must never appear in a log line (a citizen's name, address, ...)."""
    with _lock:
        _sensitive.update(v for v in values if v and len(v) >= 2)


def clear_sensitive() -> None:
    with _lock:
        _sensitive.clear()


def redact(text: str) -> str:
    text = _ID_NUMBER.sub("[id-number]", text)
    text = _MOBILE.sub("[phone]", text)
    with _lock:
        values = sorted(_sensitive, key=len, reverse=True)
    for v in values:
        if v in text:
            text = text.replace(v, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        clean = redact(message)
        if clean != message:
            record.msg = clean
            record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def configure(log_dir: Path | None, level: int = logging.INFO, console: bool = True) -> None:
    """Root logging for the terminal.  Idempotent."""
    root = logging.getLogger()
    # The terminal owns the root logger: drop handlers a library installed on import
    # (python-escpos calls logging.basicConfig()), which would bypass redaction.
    for h in list(root.handlers):
        root.removeHandler(h)
        if getattr(h, "_kiosk", False):
            h.close()
    root.setLevel(level)
    handlers: list[logging.Handler] = []
    if console:
        handlers.append(journal.console_handler())  # stderr, or journald's fields under systemd
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_dir / "kiosk.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8"
            )
        )
        wire = logging.handlers.RotatingFileHandler(
            log_dir / "wire.log", maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        wire.setLevel(logging.DEBUG)
        wire.addFilter(lambda r: r.name.endswith(".wire"))
        wire.addFilter(RedactingFilter())
        wire.setFormatter(logging.Formatter(FORMAT))
        setattr(wire, "_kiosk", True)  # noqa: B010
        root.addHandler(wire)
    if log_dir is not None:
        logging.getLogger("devices").setLevel(logging.DEBUG)  # reaches the wire log only
    for h in handlers:
        h.setLevel(level)
        h.addFilter(RedactingFilter())
        h.addFilter(lambda r: not r.name.endswith(".wire"))
        h.setFormatter(logging.Formatter(FORMAT))
        setattr(h, "_kiosk", True)  # noqa: B010
        root.addHandler(h)
