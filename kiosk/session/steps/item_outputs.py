"""Each item's own delivery and certificate, also when a life event (一件事) is applied for as one
application.

An item delivers by the methods its package allows, narrowed by its own decision
(:func:`kiosk.outputs.delivery.options_for`).  In a life event the citizen chooses once, among the
methods any item offers for its own decision (:func:`session_offers`); each item then delivers by
that choice when it offers it, else by its own fallback (:func:`item_delivery`: its default, or its
first method that needs no address).  Each approved item with a certificate gets its own number,
its certificate is printed here only when that item is delivered here, and the PDF goes with that
item's own case.  For a single item this is what the result step always did: its one delivery is
the citizen's choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.outputs.delivery import DeliveryChoice, DeliveryMethod, options_for
from kiosk.review.engine import Decision, Outcome
from kiosk.review.items import ItemPackage
from kiosk.session.machine import SessionData

__all__ = [
    "ItemOutput",
    "fallback",
    "item_delivery",
    "item_offers",
    "item_outputs",
    "needs_window",
    "session_offers",
]

Offers = tuple[tuple[DeliveryMethod, ...], DeliveryMethod | None]


@dataclass(frozen=True)
class ItemOutput:
    """One item of the application with its own decision, delivery and case."""

    pkg: ItemPackage
    decision: Decision
    delivery: DeliveryChoice | None  # None: nothing delivered (no delivery declared, or a reject)
    case_id: str | None

    @property
    def prints_here(self) -> bool:
        """Its certificate (if approved and it has one) is printed by this terminal now."""
        return self.delivery is None or self.delivery.method is DeliveryMethod.PRINT_HERE


def item_offers(pkg: ItemPackage, decision: Decision) -> Offers:
    """The methods ``pkg`` offers for ``decision``, and its preselected one."""
    declared = pkg.outputs.delivery
    if declared is None:
        return (), None
    allowed = [DeliveryMethod(m) for m in declared.options]
    return options_for(allowed, DeliveryMethod(declared.default), decision.outcome.value)


def fallback(offered: Sequence[DeliveryMethod], default: DeliveryMethod | None) -> DeliveryMethod | None:
    """The method used when the citizen chose none of ``offered``: the default, or the first method
    that needs no address (express never: it needs the citizen's address)."""
    if default is not None and default is not DeliveryMethod.EXPRESS:
        return default
    return next((m for m in offered if m is not DeliveryMethod.EXPRESS), None)


def item_delivery(
    pkg: ItemPackage, decision: Decision, choice: DeliveryChoice | None
) -> DeliveryChoice | None:
    """How ``pkg``'s result reaches the citizen: the ``choice`` when the item offers it for its
    decision, else its own fallback; None when it delivers nothing."""
    offered, default = item_offers(pkg, decision)
    if choice is not None and choice.method in offered:
        return choice
    method = fallback(offered, default)
    return DeliveryChoice(method) if method is not None else None


def _items(data: SessionData, pkg: ItemPackage) -> list[tuple[ItemPackage, Decision]]:
    if data.bundle is None:
        return [(pkg, data.application.require_decision())]
    return [(p, data.application.item_decisions[p.id]) for p in data.bundle.packages]


def session_offers(data: SessionData, pkg: ItemPackage) -> Offers:
    """What the citizen chooses from: the item's offers, or in a life event every method some item
    offers (in the methods' order), the first delivering item's default preselected."""
    if data.bundle is None:
        return item_offers(pkg, data.application.require_decision())
    methods: set[DeliveryMethod] = set()
    default: DeliveryMethod | None = None
    for p, decision in _items(data, pkg):
        offered, item_default = item_offers(p, decision)
        methods.update(offered)
        default = default or item_default
    return tuple(m for m in DeliveryMethod if m in methods), default


def item_outputs(data: SessionData, pkg: ItemPackage) -> list[ItemOutput]:
    """Every item of the application (one, or a life event's), with its own decision, its delivery
    under the citizen's choice (``data.case.delivery``) and its case id once stored."""
    out = []
    for p, decision in _items(data, pkg):
        case_id = data.case.item_cases.get(p.id, data.case.case_id if data.bundle is None else None)
        # one item: the choice itself (settled before the case is written); a life event's: its own
        choice = data.case.delivery
        delivery = choice if data.bundle is None else item_delivery(p, decision, choice)
        out.append(ItemOutput(p, decision, delivery, case_id))
    return out


def needs_window(items: Sequence[ItemOutput]) -> bool:
    """A queue number is due: some item not rejected waits for staff or is picked up at the window."""
    return any(
        o.decision.outcome is Outcome.MANUAL
        or (
            o.decision.outcome is Outcome.APPROVE
            and o.delivery is not None
            and o.delivery.method is DeliveryMethod.WINDOW
        )
        for o in items
    )
