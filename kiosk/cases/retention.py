"""Retention: personal data leaves the terminal after the platform has the case (R-SEC).

Once the platform acknowledged a case, the terminal keeps its personal data only for
``retention.personal_data_days`` (config; default 30 days, to answer questions at the window and
re-print).  Then :class:`RetentionWiper` replaces the stored case body by its residue and drops the
attachment bodies (page images, signature, face frame, certificate PDF; one still waiting for its upload, such
as a late certificate, is dropped in the first round after it went).  The residue holds no personal data:
the case id, the terminal, the item and its package version, when it was submitted, the decision
(outcome, reason codes, rule package, the hash of the decision inputs), the attachment ids with
their SHA-256 (fixity), and when it was wiped.  What §8.5 requires the hall to keep (the applicant in
brief, when the permit was decided and published) is in the ledger/archive (kiosk/outputs/records.py:
masked name, hashed ID number, fixity-hashed and chained), which retention never touches, nor the
outbox state with the platform's acknowledgement, the publicity jobs (the published form) or the
audit trail.  Cases not yet acknowledged are never wiped.

It runs once at start-up and then every ``retention.check_interval_s`` in a background thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from offline_cache.store import StorageError, Store

log = logging.getLogger(__name__)

DAY_S = 86_400.0
#: Top-level case fields kept after the wipe (none of them personal).
_KEPT = ("case_id", "terminal_id", "item", "submitted_at")


def residue(case_id: str, payload: bytes) -> bytes:
    """What is left of a case body after the wipe (see the module docstring)."""
    try:
        body: dict[str, Any] = json.loads(payload)
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    kept: dict[str, Any] = {k: body[k] for k in _KEPT if k in body}
    kept["case_id"] = case_id
    decision = body.get("decision")
    if isinstance(decision, dict):
        kept["decision"] = {
            k: decision[k] for k in ("outcome", "reasons", "package", "inputs_sha256") if k in decision
        }
    materials = body.get("materials")
    if isinstance(materials, list):
        kept["materials"] = [
            {k: m.get(k) for k in ("type", "image_sha256", "image_attachment", "pages") if k in m}
            for m in materials
            if isinstance(m, dict)
        ]
    kept["personal_data_wiped"] = True
    return json.dumps(kept, ensure_ascii=False, sort_keys=True).encode("utf-8")


class RetentionWiper:
    """Wipes personal data of acknowledged cases older than the retention period."""

    def __init__(self, store: Store, retention_days: float, clock: Callable[[], float] = time.time) -> None:
        if retention_days <= 0:
            raise ValueError("retention_days must be positive")
        self.store = store
        self.retention_s = retention_days * DAY_S
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[str]:
        """Wipe what is due now; returns the wiped case ids (a storage failure is logged, retried later)."""
        now = self.clock()
        try:
            wiped = self.store.wipe_acknowledged(now - self.retention_s, now, residue)
        except StorageError as err:
            log.error("retention: wipe failed, will retry: %s", err)
            return []
        if wiped:
            log.info("retention: wiped personal data of %d acknowledged case(s)", len(wiped))
        return wiped

    def start(self, interval_s: float) -> None:
        """Run now (start-up) and then every ``interval_s`` in the background."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval_s,), name="retention", daemon=True)
        self._thread.start()

    def _run(self, interval_s: float) -> None:
        while True:
            try:
                self.run_once()
            except Exception:  # never take the terminal down; the next round tries again
                log.exception("retention round failed")
            if self._stop.wait(interval_s):
                return

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
