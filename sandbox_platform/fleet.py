"""The hall's fleet page: every enrolled terminal's last heartbeat, for the people who look after them.

Not part of the terminal contract (``include_in_schema=False``): ``GET /fleet`` is a static page
(fleet.html beside this module) that reads ``GET /fleet/terminals.json`` and refreshes itself.
A terminal whose last heartbeat is older than ``stale_after_s`` (three default heartbeat
intervals) is *stale*; one that never sent any is *silent*.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sandbox_platform.db import PlatformDB

PAGE = Path(__file__).with_name("fleet.html")
STALE_AFTER_S = 180.0


def fleet_row(terminal: dict[str, Any], now: float, stale_after_s: float) -> dict[str, Any]:
    """One terminal as the page shows it (from PlatformDB.terminals())."""
    last = terminal.get("last_heartbeat_at")
    telemetry = terminal.get("telemetry") or {}
    queues = telemetry.get("queues") or {}
    age = None if last is None else max(0.0, now - last)
    if age is None:
        state = "silent"
    elif age > stale_after_s:
        state = "stale"
    else:
        state = "online"
    return {
        "terminal_id": terminal["terminal_id"],
        "state": state,
        "heartbeat_age_s": age,
        "app_version": telemetry.get("app_version"),
        "devices": terminal.get("device_status") or {},
        "receipt_paper": (telemetry.get("consumables") or {}).get("receipt_paper"),
        "outbox_pending": queues.get("outbox_pending"),
        "outbox_dead": queues.get("outbox_dead"),
        "clock_skew_s": telemetry.get("clock_skew_s"),
    }


def fleet_router(
    db: PlatformDB, *, stale_after_s: float = STALE_AFTER_S, clock: Callable[[], float] = time.time
) -> APIRouter:
    router = APIRouter(tags=["fleet"])

    @router.get("/fleet", response_class=HTMLResponse)
    def fleet_page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    @router.get("/fleet/terminals.json")
    def fleet_terminals() -> list[dict[str, Any]]:
        now = clock()
        return [fleet_row(t, now, stale_after_s) for t in db.terminals()]

    return router
