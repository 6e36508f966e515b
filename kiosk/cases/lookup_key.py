"""The platform's lookup key, kept next to the terminal's other secrets (docs/security.md).

The key (HMAC-SHA256 key for holder tokens) arrives at enrolment.  It is stored in
``<data dir>/secrets/lookup.key`` (mode 0600, written atomically, never logged) so the
terminal can still compute holder tokens after a restart when the platform is down at
start-up.  A newer key from a later enrolment replaces it (key rotation on the platform).
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.cases.crypto import write_private

log = logging.getLogger(__name__)


class ProvisioningError(Exception):
    """A provisioning file is unusable (wrong mode or contents)."""


def save_lookup_key(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` (0600, atomic); nothing happens when it is already there."""
    if not key:
        raise ProvisioningError("empty lookup key")
    if path.exists() and load_lookup_key(path) == key:
        return
    write_private(path, key)
    log.info("stored the platform's lookup key at %s", path)


def load_lookup_key(path: Path) -> bytes | None:
    """The stored lookup key, or None before the first enrolment."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if path.stat().st_mode & 0o077:
        raise ProvisioningError(f"{path} is readable by other users; expected mode 0600")
    if not data:
        raise ProvisioningError(f"{path} is empty")
    return data
