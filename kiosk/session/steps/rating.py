"""The rating step: the citizen's rating of the service ends the session."""

from __future__ import annotations

from kiosk.session.context import SessionContext
from kiosk.session.machine import EndReason


class RatingStep:
    def __init__(self, ctx: SessionContext) -> None:
        self.ctx = ctx

    def rate(self, rating: str) -> None:
        data = self.ctx.data
        data.case.rating = rating
        self.ctx.audit("rating", {"session": data.session_id, "case": data.case.case_id, "rating": rating})
        self.ctx.machine.reset(EndReason.COMPLETED)
