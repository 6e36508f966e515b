"""The rating step: 好差评, one rating for each service (GB/T 39734 "一次一评").

Five levels, all offered alike (非常满意 … 非常不满意, scored 5 … 1 as the standard numbers them).
A 不满意 or 非常不满意 rating names at least one reason from :data:`REASONS` (the standard's
evaluation content for an offline channel: guide, materials, procedure, time, trips, one-time
notice, the self-service equipment, attitude), a positive one none.

The rating is offered at the end of every service that began (an item was chosen), not only
after the result: also when the citizen cancelled, when the session timed out and when a device
problem ended it.  Then :meth:`RatingStep.end_early` drops the session's data at once (as the end
of a session does) except what the rating names (item, case) and shows the rating; rating or
skipping it ends the session with the original reason.

A rating is queued in the outbox (kind :data:`~kiosk.cases.outbox.JOB_RATING`, its id the
idempotency key) in the same transaction as its audit row, so it reaches the platform exactly
once, after the case it rates, whatever the network does meanwhile.  It carries no personal data:
item, case, terminal, level, reasons, how the service ended.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from kiosk.cases.outbox import JOB_RATING
from kiosk.session.context import SessionContext
from kiosk.session.machine import CITIZEN_STEPS, EndReason, SessionData, Step

log = logging.getLogger(__name__)

#: The five levels, best first, with the standard's score.  Keys are stable identifiers
#: (catalogue ``rating.<level>``, the platform's ``level`` is the score).
LEVELS: dict[str, int] = {"very_good": 5, "good": 4, "fair": 3, "bad": 2, "very_bad": 1}
NEGATIVE = frozenset({"bad", "very_bad"})

#: Reasons a citizen can give for 不满意 / 非常不满意 (catalogue ``rating.reason.<code>``).
REASONS: tuple[str, ...] = (
    "guide_unclear",
    "too_many_materials",
    "complicated_process",
    "too_slow",
    "extra_trips",
    "not_told_at_once",
    "equipment",
    "attitude",
    "other",
)

#: How a service ended, as the rating reports it.
ENDED_COMPLETED = "completed"
ENDED_CANCELLED = "cancelled"
ENDED_IDLE_TIMEOUT = "idle_timeout"
ENDED_DEVICE_PROBLEM = "device_problem"


class RatingError(ValueError):
    """A rating the standard does not allow (a bug in the caller: the screen offers only valid ones)."""


@dataclass(frozen=True)
class RatingRecord:
    """What is queued for the platform (docs/platform-api/openapi.json, ``RatingUpload``)."""

    rating_id: str
    terminal_id: str
    item_id: str
    case_id: str | None
    level: int
    reasons: tuple[str, ...]
    ended: str
    rated_at: str

    def body(self) -> bytes:
        doc = {
            "rating_id": self.rating_id,
            "terminal_id": self.terminal_id,
            "item_id": self.item_id,
            "case_id": self.case_id,
            "level": self.level,
            "reasons": list(self.reasons),
            "ended": self.ended,
            "rated_at": self.rated_at,
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")


def check(level: str, reasons: tuple[str, ...]) -> None:
    """Raise :class:`RatingError` unless (level, reasons) is a rating the standard allows."""
    if level not in LEVELS:
        raise RatingError(f"unknown rating level {level!r}")
    unknown = [r for r in reasons if r not in REASONS]
    if unknown:
        raise RatingError(f"unknown reasons {unknown}")
    if len(set(reasons)) != len(reasons):
        raise RatingError("a reason is given twice")
    if level in NEGATIVE and not reasons:
        raise RatingError("a negative rating needs at least one reason")
    if level not in NEGATIVE and reasons:
        raise RatingError("only a negative rating has reasons")


class RatingStep:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx
        self._ended: dict[str, EndReason] = {}  # session id -> why the service ended before its result
        self._rated: str | None = None  # the session last rated (one rating each)
        self._device_problem = False  # the service ended on the device-problem screen

    # ------------------------------------------------------------------ offering the rating
    def end_early(self, reason: EndReason) -> bool:
        """The service ends before its result (cancel, idle timeout): offer the rating instead of
        ending the session at once.  False when there is nothing to rate (no item chosen yet, not
        in a citizen's session, or already on the rating screen): the caller ends the session."""
        machine = self.ctx.machine
        step = machine.step
        data = machine.data
        if step not in CITIZEN_STEPS or step is Step.RATING or data.item_id is None:
            return False
        if reason not in {EndReason.CANCELLED, EndReason.IDLE_TIMEOUT}:
            return False
        kept = machine.keep_for_rating()
        if kept is None:
            return False
        self.ctx.audit(
            "session_end", {"session": data.session_id, "reason": reason.value, "rating": "offered"}
        )
        self._ended = {kept.session_id: reason}
        self._device_problem = step is Step.DEVICE_PROBLEM
        return machine.go(Step.RATING, session=kept)

    def ended(self, data: SessionData | None = None) -> str:
        """How the service of ``data`` (the current session) ended, as the rating reports it."""
        data = data or self.ctx.data
        reason = self._ended.get(data.session_id)
        if reason is None:
            return ENDED_COMPLETED
        if self._device_problem:
            return ENDED_DEVICE_PROBLEM
        return ENDED_IDLE_TIMEOUT if reason is EndReason.IDLE_TIMEOUT else ENDED_CANCELLED

    # ------------------------------------------------------------------ the citizen's answer
    def rate(self, level: str, reasons: tuple[str, ...] = (), *, finish: bool = True) -> RatingRecord | None:
        """Record the rating and queue it for the platform (once per session; a second tap is
        ignored), then end the session; with ``finish`` False the session stays on the rating
        screen for the thank-you and :meth:`finish` ends it."""
        check(level, reasons)
        data = self.ctx.data
        if data.session_id == self._rated or data.item_id is None:
            if finish:
                self.finish()
            return None
        record = RatingRecord(
            rating_id=str(uuid.uuid4()),
            terminal_id=self.ctx.config.terminal_id,
            item_id=data.item_id,
            case_id=data.case.case_id,
            level=LEVELS[level],
            reasons=tuple(reasons),
            ended=self.ended(data),
            rated_at=self.ctx.clock().isoformat(),
        )
        outbox = self.ctx.store.outbox
        case_queued = record.case_id is not None and outbox.get(record.case_id) is not None
        outbox.add(
            record.rating_id,
            JOB_RATING,
            record.body(),
            self.ctx.clock().timestamp(),
            case_id=record.case_id,
            after=record.case_id if case_queued else None,  # the platform knows the case first
        )
        self._rated = data.session_id
        data.case.rating = level
        self.ctx.audit(
            "rating",
            {"session": data.session_id, "case": record.case_id, "rating": level, "reasons": list(reasons)},
        )
        log.info("rating %s queued (level %d, %d reasons)", record.rating_id[:8], record.level, len(reasons))
        if finish:
            self.finish()
        return record

    def finish(self) -> None:
        """Leave the rating screen (after the thank-you, or skipped): the session ends."""
        data = self.ctx.data
        if self.ctx.machine.step is not Step.RATING:
            return
        reason = self._ended.pop(data.session_id, EndReason.COMPLETED)
        self._device_problem = False
        self.ctx.machine.reset(reason)
