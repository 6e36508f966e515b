"""Where the releases root and the health marker are, and the update's state as reported to
staff (maintenance, ``hall-kiosk update status``) and to the platform (the heartbeat)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.fleet.heartbeat import app_version
from kiosk.update.health import HEALTH_ENV
from kiosk.update.releases import ReleaseStore

ROOT_ENV = "HALL_KIOSK_RELEASES"
DEFAULT_ROOT = "/opt/hall-kiosk"
DEFAULT_HEALTH = "/var/lib/hall-kiosk/update-health.json"


def store_from(root: str | None = None, health: str | None = None) -> ReleaseStore:
    """The releases root: ``root``, else ``$HALL_KIOSK_RELEASES``, else ``/opt/hall-kiosk``."""
    return ReleaseStore(
        Path(root or os.environ.get(ROOT_ENV) or DEFAULT_ROOT),
        Path(health or os.environ.get(HEALTH_ENV) or DEFAULT_HEALTH),
    )


def status(store: ReleaseStore) -> dict[str, Any]:
    state = store.state()
    last_check = state.get("last_check") or {}
    return {
        "running": store.current_version() or app_version(),
        "current": store.current_version(),
        "previous": store.previous_version(),
        "available": last_check.get("available"),
        "last_check_at": last_check.get("at"),
        "last_result": state.get("last_result"),
        "trial": state.get("trial"),
        "failed": state.get("failed", []),
    }


def heartbeat_fields(store: ReleaseStore) -> dict[str, str]:
    """The heartbeat's ``update`` object (strings only, nothing personal); empty when this
    terminal was never updated."""
    if not store.state_file.exists():
        return {}
    now = status(store)
    fields = {"available": now["available"] or "", "failed": ",".join(now["failed"][-8:])}
    last = now["last_result"] or {}
    if last:
        fields["last_result"] = str(last.get("result", ""))
        fields["last_version"] = str(last.get("version") or "")
    return fields


@dataclass(frozen=True)
class UpdateView:
    """What the staff's diagnostics show of the app's updates."""

    running: str
    available: str | None
    last_result: str | None  # installed | rolled_back | refused | error | up_to_date; None: never
    last_version: str | None
    last_at: float | None
    failed: tuple[str, ...]


def update_view(store: ReleaseStore) -> UpdateView:
    now = status(store)
    last = now["last_result"] or {}
    return UpdateView(
        running=str(now["running"]),
        available=now["available"],
        last_result=last.get("result"),
        last_version=last.get("version"),
        last_at=last.get("at"),
        failed=tuple(now["failed"]),
    )
