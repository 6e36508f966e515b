"""The ID card reader's raw-frame log: a separate rotating file.

The driver logs every frame to the ``devices.idcard.wire`` logger at DEBUG, with
card contents (text, photo, fingerprint, appended address) replaced by their
length.  :func:`configure_wire_log` sends that logger to its own rotating file and
stops it from reaching the application log.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

WIRE_LOGGER = "devices.idcard.wire"


def configure_wire_log(
    path: str | Path, *, max_bytes: int = 1_000_000, backups: int = 5
) -> logging.handlers.RotatingFileHandler:
    """Attach a rotating file handler for raw frames at ``path``; returns it (remove it to stop)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger(WIRE_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    return handler


def remove_wire_log(handler: logging.Handler) -> None:
    """Detach ``handler`` (from :func:`configure_wire_log`) and restore propagation."""
    logger = logging.getLogger(WIRE_LOGGER)
    logger.removeHandler(handler)
    handler.close()
    if not logger.handlers:
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
