"""Sandbox platform: 好差评 ratings from the terminals (GB/T 39734 一次一评).

``POST /api/v1/ratings`` receives one rating of one service: item, case (when the service got as
far as a case), terminal, level (5 非常满意 … 1 非常不满意), reasons (required for levels 1 and 2,
absent otherwise), how the service ended.  Like the case API it is signed by the terminal (the
platform's middleware checks that), idempotent on the ``Idempotency-Key`` (the rating id: a
repeated key with the same body replays the original answer with 200, with another body is
refused 422), and per terminal: a body naming another terminal is refused 403, a case that is not
the calling terminal's does not exist for it (404), and a case is rated once (409 for a second
rating under another id).  Mounted by :func:`sandbox_platform.app.create_app` with one line; state
lives in its own SQLite file (``ratings.sqlite3``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status
from pydantic import BaseModel, Field

from sandbox_platform import auth
from sandbox_platform.db import open_sqlite

API = "/api/v1"

RatingReason = Literal[
    "guide_unclear",
    "too_many_materials",
    "complicated_process",
    "too_slow",
    "extra_trips",
    "not_told_at_once",
    "equipment",
    "attitude",
    "other",
]


class RatingUpload(BaseModel):
    rating_id: str = Field(min_length=36, max_length=36)
    terminal_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    item_id: str = Field(min_length=1, max_length=128)
    case_id: str | None = Field(default=None, min_length=1, max_length=64)
    level: int = Field(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")
    reasons: list[RatingReason] = Field(default_factory=list, max_length=9)
    ended: Literal["completed", "cancelled", "idle_timeout", "device_problem"]
    rated_at: dt.datetime

    def level_problem(self) -> str | None:
        """Why the reasons do not fit the level (checked by the route: answered as a Problem)."""
        if self.level <= 2 and not self.reasons:
            return "a rating of 不满意 or 非常不满意 needs at least one reason"
        if self.level > 2 and self.reasons:
            return "only a rating of 不满意 or 非常不满意 has reasons"
        if len(set(self.reasons)) != len(self.reasons):
            return "a reason is given twice"
        return None


class RatingAck(BaseModel):
    rating_id: str = Field(min_length=36, max_length=36)
    status: Literal["received"]
    at: float


class Problem(BaseModel):
    detail: str


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS ratings (
        rating_id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, request_sha256 TEXT NOT NULL,
        terminal_id TEXT NOT NULL, case_id TEXT UNIQUE, body TEXT NOT NULL, received_at REAL NOT NULL)""",
)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class RatingStore:
    """The sandbox's received ratings (thread-safe; one connection under a lock)."""

    def __init__(self, data_dir: Path) -> None:
        self.lock = threading.RLock()
        self._conn = open_sqlite(Path(data_dir) / "ratings.sqlite3", _SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    def receive(self, key: str, caller: str, req: RatingUpload) -> tuple[RatingAck, bool]:
        """(acknowledgement, created): a repeated key with the same body replays the first answer."""
        request = req.model_dump(mode="json")
        request_sha = hashlib.sha256(_canonical(request).encode("utf-8")).hexdigest()
        with self.lock:
            row = self._conn.execute(
                "SELECT request_sha256, rating_id, received_at FROM ratings WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if row is not None:
                if row[0] != request_sha:
                    raise HTTPException(
                        status.HTTP_422_UNPROCESSABLE_CONTENT,
                        "Idempotency-Key was already used with a different request body",
                    )
                return RatingAck(rating_id=row[1], status="received", at=row[2]), False
            if self._conn.execute("SELECT 1 FROM ratings WHERE rating_id = ?", (req.rating_id,)).fetchone():
                raise HTTPException(status.HTTP_409_CONFLICT, "rating id already received under another key")
            if (
                req.case_id is not None
                and self._conn.execute("SELECT 1 FROM ratings WHERE case_id = ?", (req.case_id,)).fetchone()
            ):
                raise HTTPException(status.HTTP_409_CONFLICT, "this case was rated already (一次一评)")
            now = time.time()
            self._conn.execute(
                "INSERT INTO ratings (rating_id, idempotency_key, request_sha256, terminal_id, case_id, body, "
                "received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (req.rating_id, key, request_sha, caller, req.case_id, _canonical(request), now),
            )
        return RatingAck(rating_id=req.rating_id, status="received", at=now), True

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = self._conn.execute(
                "SELECT idempotency_key, terminal_id, body, received_at FROM ratings ORDER BY received_at"
            ).fetchall()
        return [
            {"idempotency_key": r[0], "received_from": r[1], "received_at": r[3], **json.loads(r[2])}
            for r in rows
        ]


def ratings_router(
    store: RatingStore, terminal: Callable[..., str], case_terminal: Callable[[str], str | None]
) -> APIRouter:
    """The routes; ``terminal`` is the authentication dependency (the calling terminal),
    ``case_terminal`` names the terminal that uploaded a case (None: no such case)."""
    router = APIRouter()

    @router.post(
        f"{API}/ratings",
        response_model=RatingAck,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": RatingAck, "description": "Replay: this key was seen before with the same body"},
            400: {"model": Problem, "description": "Missing/invalid Idempotency-Key or a bad request"},
            409: {
                "model": Problem,
                "description": "The rating id was received under another key, or the case was rated already",
            },
            422: {"model": Problem, "description": "Key reused with a different body, or an invalid body"},
        },
        tags=["ratings"],
    )
    def post_rating(
        req: RatingUpload,
        response: Response,
        caller: str = Depends(terminal),
        idempotency_key: str | None = Header(default=None),
    ) -> RatingAck:
        key = auth.idempotency_key(idempotency_key)
        problem = req.level_problem()
        if problem is not None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
        if req.terminal_id != caller:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the rating names another terminal")
        if req.case_id is not None and case_terminal(req.case_id) != caller:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
        ack, created = store.receive(key, caller, req)
        if not created:
            auth.answer_replayed(response)
        return ack

    @router.get("/_sandbox/ratings", tags=["sandbox"])
    def sandbox_ratings() -> list[dict[str, Any]]:
        return store.all()

    return router
