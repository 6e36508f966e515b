"""The platform's answer key, pinned on disk at the first enrolment (docs/security.md).

A pinned key is never replaced by what a later enrolment announces: rotating it is a provisioning
step (the installer writes the new key file).  The terminal then refuses every platform answer
that the pinned key did not sign (kiosk/cases/platform_transport.py).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

ANSWER_KEY_FILE = "platform-answer.pub"


def read_pinned_key(path: Path) -> bytes | None:
    """The raw 32-byte key pinned at ``path``; None when there is none or it is unusable."""
    if not path.exists():
        return None
    try:
        raw = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
    except (OSError, ValueError, binascii.Error) as err:
        log.error("pinned platform key %s is unusable: %s", path, err)
        return None
    if len(raw) != 32:
        log.error("pinned platform key %s is %d bytes, not 32", path, len(raw))
        return None
    return raw


def pin_key(path: Path, announced: bytes | None) -> bytes | None:
    """The pinned key: ``path`` if it holds one, else ``announced`` (written, 0644 public key)."""
    pinned = read_pinned_key(path)
    if pinned is not None:
        if announced is not None and announced != pinned:
            log.error("the platform announced another answer key; keeping the pinned one (%s)", path)
        return pinned
    if announced is None or len(announced) != 32:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(base64.b64encode(announced).decode("ascii") + "\n", encoding="ascii")
    os.replace(tmp, path)
    log.info("pinned the platform's answer key at %s", path)
    return announced
