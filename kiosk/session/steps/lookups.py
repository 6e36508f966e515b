"""The ``platform.<name>`` inputs of an item, looked up through the platform for the review.

The review step asks :class:`PlatformInputs` before it assembles the engine inputs.  The lookup
has its own deadline (``lookup_timeout_s``, well inside the review's 45 s budget); when the
platform cannot answer in time, refuses, or answers something that is not an answer for this
citizen and item, the values stay unknown and the result says why, so the review step sends the
application to staff with that reason instead of deciding silently without them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.cases.platform_client import PlatformError
from kiosk.review.items import ItemPackage

log = logging.getLogger(__name__)

UNAVAILABLE = "platform_lookup_unavailable"


class LookupSource(Protocol):
    """kiosk.cases.platform_lookups.LookupPlatform."""

    def look_up(self, id_number: str, item_id: str, names: list[str]) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class LookupResult:
    values: Mapping[str, Any] = field(default_factory=dict)
    names: tuple[str, ...] = ()
    #: None: looked up (or nothing to look up); else the reason code for staff, and what failed.
    failure: str | None = None
    error: str | None = None


def platform_names(pkg: ItemPackage) -> list[str]:
    """The ``platform.<name>`` inputs ``pkg`` declares."""
    return [d.name for d in pkg.inputs if d.source == "platform"]


class PlatformInputs:
    """Looks up an item's platform inputs within ``timeout_s``."""

    def __init__(self, source: LookupSource, timeout_s: float) -> None:
        self.source = source
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lookups")

    def resolve(self, pkg: ItemPackage, id_number: str) -> LookupResult:
        names = platform_names(pkg)
        if not names:
            return LookupResult()
        future = self._pool.submit(self.source.look_up, id_number, pkg.id, names)
        try:
            values = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            future.cancel()
            log.warning("platform lookup for %s: no answer within %.1f s", pkg.id, self.timeout_s)
            return LookupResult(names=tuple(names), failure=UNAVAILABLE, error="timeout")
        except (PlatformError, ValueError) as err:
            log.warning("platform lookup for %s failed: %s", pkg.id, type(err).__name__)
            return LookupResult(names=tuple(names), failure=UNAVAILABLE, error=type(err).__name__)
        return LookupResult(values={n: values.get(n) for n in names}, names=tuple(names))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
