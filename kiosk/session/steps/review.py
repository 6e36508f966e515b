"""The review step: the intelligent review of the item's rules within the standard's budget."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from kiosk.review.applicants import parties
from kiosk.review.engine import Decision, Outcome, ReviewEngine, build_inputs
from kiosk.review.items import SYSTEM_REASONS, ItemPackage
from kiosk.review.party_warnings import application_parties, check_parties, party_reasons
from kiosk.review.sync import last_verified_at
from kiosk.review.warnings import WarningHit
from kiosk.session.bundle import combine_decisions
from kiosk.session.context import SessionContext
from kiosk.session.events import ReviewDecided
from kiosk.session.machine import SessionData, Step
from kiosk.session.steps.lookups import LookupResult, PlatformInputs
from kiosk.session.steps.materials import pending_materials

log = logging.getLogger(__name__)


class ReviewStep:
    def __init__(
        self, ctx: SessionContext, engine: ReviewEngine | None = None, lookups: PlatformInputs | None = None
    ) -> None:
        self.ctx = ctx
        self._owns_engine = engine is None
        self.engine = engine or ReviewEngine()
        #: The platform's values of ``platform.<name>`` inputs; None: never looked up (unknown).
        self.lookups = lookups
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review")

    def run(self) -> Decision:
        """The intelligent review, within the standard's budget.

        Past the hard deadline (2 min by default) the case is transferred to
        manual review with the reason; an engine error does the same."""
        ctx = self.ctx
        data = ctx.data
        pkg = ctx.package(data)
        if pending_materials(data):  # a flagged field the citizen has not confirmed: a bug upstream
            raise RuntimeError("review refused: materials not confirmed by the citizen")
        if data.bundle is None:
            decision = self._decide(pkg, data)
        else:  # 一件事: each item reviewed by its own rules, the application shown as one
            hits: list[WarningHit] = []
            for item in data.bundle.packages:
                data.application.item_decisions[item.id] = self._decide(item, data)
                hits.extend(h for h in data.application.warnings if h not in hits)  # each list once
            data.application.warnings = hits
            decision = combine_decisions(data.bundle, data.application.item_decisions)
        data.application.decision = decision
        ctx.audit(
            "review",
            {
                "session": data.session_id,
                "item": pkg.id,
                "outcome": decision.outcome.value,
                "reasons": list(decision.reasons),
                "ms": round(decision.elapsed_ms, 2),
            },
        )
        ctx.publish(ReviewDecided(decision, tuple(data.application.warnings)))
        ctx.go(Step.CONFIRM_SIGN, session=data)
        return decision

    def _decide(self, pkg: ItemPackage, data: SessionData) -> Decision:
        """``pkg``'s decision within the deadline (past it, or on an engine error: manual review)."""
        t0 = time.perf_counter()
        future = self._pool.submit(self._review_now, pkg, data)
        try:
            decision = future.result(timeout=self.ctx.config.session.review_deadline_s)
        except FutureTimeout:
            future.cancel()
            decision = self._fallback(pkg, "review_timeout", t0)
        except Exception:
            log.exception("review failed for %s", pkg.id)
            decision = self._fallback(pkg, "review_error", t0)
        if data.identity.staff_assisted_identity and decision.outcome is Outcome.APPROVE:
            decision = decision.transferred(
                "staff_identity", ("身份由工作人员核验", "Identity checked by staff")
            )
        return decision

    def _review_now(self, pkg: ItemPackage, data: SessionData) -> Decision:
        ctx = self.ctx
        today = ctx.clock().date()
        text = data.identity.require_card().text
        # the principal or legal person is checked as the person at the terminal is (代办, 法人)
        who = application_parties(
            data.application.form,
            text,
            kinds=pkg.applicants.kinds,
            authorised=pkg.applicants.authorised(data.application.materials),
        )
        lists = ctx.catalogue.warning_lists(pkg.warning_lists)
        hits: list[WarningHit] = check_parties(lists, who, today=today, expected=pkg.warning_lists)
        data.application.warnings = hits
        materials = {
            t: {k: f.value for k, f in r.fields.items()} for t, r in data.application.materials.items()
        }
        checks = {f"{t}.{c.field}": c.match for t, r in data.application.materials.items() for c in r.checks}
        # the platform's registers are asked about the principal when an agent applies (代办)
        applying = parties(data.application.form, {"id_number": text.id_number})
        subject = str(applying.applicant["id_number"]) if applying.kind == "agent" else text.id_number
        looked = self._look_up(pkg, data, subject)
        inputs = build_inputs(
            pkg,
            card=text,
            form=data.application.form,
            materials=materials,
            cross_checks=checks,
            warning_hits=hits,
            today=today,
            lookups=looked.values,
        )
        decision = self.engine.review(
            pkg,
            inputs,
            deadline_s=ctx.config.session.review_budget_s,
            # offline age: a package not confirmed by a verified sync for too long → manual review
            last_verified_at=last_verified_at(ctx.store, pkg.id) or 0.0,
            now=ctx.clock().timestamp(),
        )
        for code, reason in party_reasons(hits):  # whose listing it is, and never approved here
            decision = decision.transferred(code, (reason.zh, reason.en))
        if looked.failure is not None:  # said, not silent: staff see why the values are missing
            text_ = pkg.reasons.get(looked.failure) or SYSTEM_REASONS[looked.failure]
            decision = decision.transferred(looked.failure, (text_.zh, text_.en))
        return decision

    def _look_up(self, pkg: ItemPackage, data: SessionData, id_number: str) -> LookupResult:
        if self.lookups is None:
            return LookupResult()
        looked = self.lookups.resolve(pkg, id_number)
        if looked.names:
            self.ctx.audit(
                "platform_lookup",
                {
                    "session": data.session_id,
                    "item": pkg.id,
                    "names": list(looked.names),
                    "error": looked.error,
                },
            )
        return looked

    @staticmethod
    def _fallback(pkg: ItemPackage, reason: str, t0: float) -> Decision:
        return Decision.manual_fallback(pkg, reason, elapsed_ms=(time.perf_counter() - t0) * 1000.0)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._owns_engine:
            self.engine.close()
        if self.lookups is not None:
            self.lookups.close()
