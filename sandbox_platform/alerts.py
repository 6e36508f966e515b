"""Terminal alerts: what a terminal tells the hall's operations desk (staff lockout, a citizen
calling for staff, device faults, paper low, dead letters, clock skew).

``POST /api/v1/terminals/{terminal_id}/alerts`` is signed and per-terminal like the heartbeat
(a terminal raises alerts for itself only) and idempotent like the other queued calls: the
``Idempotency-Key`` (a UUID, the terminal's alert id) is stored with the alert, so a re-sent alert
after a lost answer is answered with the first acknowledgement (200) and kept once; the same key
with another body is refused (422).  Alerts carry no citizen's personal data (the terminal sends
kinds, devices, states, counts and staff ids).  ``GET /_sandbox/alerts`` lists what arrived (tests).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status
from pydantic import BaseModel, Field

from sandbox_platform import auth
from sandbox_platform.db import canonical_json, open_sqlite

log = logging.getLogger(__name__)

API = "/api/v1"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS alerts (
        idempotency_key TEXT PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,
        alert TEXT NOT NULL,
        received_at REAL NOT NULL,
        deliveries INTEGER NOT NULL DEFAULT 1
    )""",
)


class Problem(BaseModel):
    detail: str


class AlertRequest(BaseModel):
    """One alert.  ``details`` holds flat, non-personal facts (device, state, counts, staff id)."""

    kind: Literal["staff_lockout", "staff_call", "device_fault", "paper_low", "dead_letter", "clock_skew"]
    severity: Literal["info", "warning", "critical"]
    raised_at: float
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=32)


class AlertAck(BaseModel):
    alert_id: str = Field(min_length=1, max_length=64)
    status: Literal["received"]
    received_at: float


class AlertDesk:
    """The alerts received, in ``<data>/alerts.sqlite3`` (thread-safe; one connection under a lock)."""

    def __init__(self, data_dir: Path) -> None:
        self._conn = open_sqlite(Path(data_dir) / "alerts.sqlite3", _SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def receive(self, key: str, terminal_id: str, req: AlertRequest) -> tuple[AlertAck, bool]:
        """Keep the alert once; (acknowledgement, created).  A replay returns the first answer."""
        body = req.model_dump(mode="json")
        digest = hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
        with self._lock:
            row = self._conn.execute(
                "SELECT terminal_id, request_sha256, received_at FROM alerts WHERE idempotency_key = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if row[0] != terminal_id or row[1] != digest:
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different alert",
                    )
                self._conn.execute(
                    "UPDATE alerts SET deliveries = deliveries + 1 WHERE idempotency_key = ?", (key,)
                )
                return AlertAck(alert_id=key, status="received", received_at=float(row[2])), False
            now = time.time()
            self._conn.execute(
                "INSERT INTO alerts (idempotency_key, terminal_id, request_sha256, alert, received_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, terminal_id, digest, canonical_json(body), now),
            )
        log.warning("sandbox: alert %s from %s: %s (%s)", key, terminal_id, req.kind, req.severity)
        return AlertAck(alert_id=key, status="received", received_at=now), True

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT idempotency_key, terminal_id, alert, received_at, deliveries FROM alerts ORDER BY rowid"
            ).fetchall()
        return [
            {
                "alert_id": r[0],
                "terminal_id": r[1],
                **json.loads(r[2]),
                "received_at": r[3],
                "deliveries": r[4],
            }
            for r in rows
        ]


def alerts_router(desk: AlertDesk, terminal: Callable[..., str]) -> APIRouter:
    """The routes; ``terminal`` is the platform's authentication dependency (the calling terminal)."""
    router = APIRouter()

    @router.post(
        f"{API}/terminals/{{terminal_id}}/alerts",
        response_model=AlertAck,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": AlertAck, "description": "Replay: this alert was received before"},
            400: {"model": Problem, "description": "Missing/invalid Idempotency-Key"},
            422: {"model": Problem, "description": "Key reused with a different alert, or an invalid body"},
        },
        tags=["terminals"],
    )
    def raise_alert(
        terminal_id: str,
        req: AlertRequest,
        response: Response,
        caller: str = Depends(terminal),
        idempotency_key: str | None = Header(default=None),
    ) -> AlertAck:
        if caller != terminal_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "token belongs to another terminal")
        ack, created = desk.receive(auth.idempotency_key(idempotency_key), caller, req)
        if not created:
            auth.answer_replayed(response)
        return ack

    @router.get("/_sandbox/alerts", tags=["sandbox"])
    def sandbox_alerts() -> list[dict[str, Any]]:
        return desk.all()

    return router
