"""Helpers of the step-level tests, which drive one step service at a time: a real SQLite store
holding the repository's item packages and warning lists, the session context the coordinator
would share, and the events it publishes.  No terminal, no sandbox platform."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from devices.printer.simulator import ReceiptPrinterSimulator
from kiosk.config import SessionConfig, TerminalConfig
from kiosk.documents.capture import MaterialResult
from kiosk.documents.materials import CrossCheckResult
from kiosk.review.sync import VERIFIED_AT_META_PREFIX
from kiosk.session.catalogue import Catalogue
from kiosk.session.context import SessionContext
from kiosk.session.events import SessionEvent
from kiosk.session.machine import SessionMachine, Step
from kiosk.session.steps.outputs import OutputsStep
from kiosk.session.steps.submit import SubmitStep
from offline_cache.store import Store

ITEMS = Path(__file__).resolve().parents[3] / "items"
NOW = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))

#: The way from the attract screen to each step (the transition table allows no shortcut).
WAY: dict[Step, tuple[Step, ...]] = {
    Step.READ_CARD: (Step.CHOOSE_ITEM, Step.READ_CARD),
    Step.FACE_CHECK: (Step.CHOOSE_ITEM, Step.READ_CARD, Step.FACE_CHECK),
    Step.STAFF_ASSIST: (Step.CHOOSE_ITEM, Step.READ_CARD, Step.FACE_CHECK, Step.STAFF_ASSIST),
    Step.FORM: (Step.CHOOSE_ITEM, Step.READ_CARD, Step.FACE_CHECK, Step.FORM),
    Step.REVIEW: (Step.CHOOSE_ITEM, Step.READ_CARD, Step.FACE_CHECK, Step.FORM, Step.REVIEW),
}


@dataclass
class Parts:
    """The submit and result steps on a printer simulator and a PDF spool (the ``parts`` fixture)."""

    outputs: OutputsStep
    submission: SubmitStep
    printer: ReceiptPrinterSimulator
    spool: Path


@dataclass
class Recorder:
    events: list[SessionEvent] = field(default_factory=list)

    def __call__(self, event: SessionEvent) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[SessionEvent]:
        return [e for e in self.events if isinstance(e, kind)]


def stock(store: Store) -> None:
    """The repository's items and warning lists, as a verified sync would have left them."""
    for path in sorted(ITEMS.glob("*.json")):
        body = path.read_bytes()
        doc = json.loads(body)
        store.packages.put(doc["id"], doc["version"], hashlib.sha256(body).hexdigest(), body)
        store.packages.activate(doc["id"], doc["version"])
        # confirmed by a verified sync just now (an unconfirmed package goes to manual review)
        store.meta.set(VERIFIED_AT_META_PREFIX + doc["id"], str(NOW.timestamp()))
    for path in sorted((ITEMS / "warning_lists").glob("*.json")):
        body = path.read_bytes()
        doc = json.loads(body)
        store.warning_lists.put(
            doc["name"], doc["version"], hashlib.sha256(body).hexdigest(), body, NOW.timestamp()
        )


def make_ctx(store: Store, **session: float) -> SessionContext:
    catalogue = Catalogue(store)
    assert catalogue.load_cached() == len(list(ITEMS.glob("*.json")))
    config = TerminalConfig(session=SessionConfig(**session))
    return SessionContext(config, store, catalogue, machine=SessionMachine(), clock=lambda: NOW)


def walk_to(ctx: SessionContext, step: Step, item_id: str | None = None) -> None:
    """Move the session to ``step`` the way the coordinator would (no step's work is done)."""
    if item_id is not None:
        ctx.data.item_id = item_id
    for s in WAY[step]:
        ctx.go(s)


def confirmed(material: str, *fields: str) -> MaterialResult:
    """A material captured and confirmed, each of ``fields`` cross-checked and matching."""
    checks = tuple(CrossCheckResult(f, "x", "x", True) for f in fields)
    return MaterialResult(material, {}, checks, pages_confirmed=True)


def at_review(
    ctx: SessionContext, card: str, item_id: str, form: dict[str, str], *materials: MaterialResult
) -> None:
    """The session at the review step: the demo ``card`` read, the form holding the card's fields
    and ``form``, the ``materials`` confirmed."""
    walk_to(ctx, Step.REVIEW, item_id)
    text = sim_card(card).text
    ctx.data.identity.card = IdCardRead(text=text, photo_raw=b"", read_at=NOW)
    ctx.data.application.form = {
        "name": text.name,
        "id_number": text.id_number,
        "address": text.address,
        **form,
    }
    ctx.data.application.materials = {m.material_type: m for m in materials}
