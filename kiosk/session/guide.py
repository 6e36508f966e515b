"""What the citizen's path looks like for the item at hand: the steps it has (the step bar), where
the citizen stands on them, the commitment to read before signing, and whether a phone number is
known (the result screen promises an SMS only then).  Pure reads of the session; no I/O."""

from __future__ import annotations

from kiosk.review.items import CommitmentTemplate, ItemPackage
from kiosk.session.bundle import BundlePlan
from kiosk.session.machine import HAPPY_PATH, SessionData, Step

#: Steps the step bar never shows (the submit step is a moment inside confirm-and-sign).
HIDDEN: frozenset[Step] = frozenset({Step.SUBMIT})

#: Where a step off the happy path stands on it.
_STANDS_FOR: dict[Step, Step] = {Step.STAFF_ASSIST: Step.FACE_CHECK}

DONE, CURRENT, TODO = "done", "current", "todo"


def item_steps(pkg: ItemPackage | BundlePlan | None) -> tuple[Step, ...]:
    """The happy path of this item as the step bar shows it: no materials step for an item without
    materials (none chosen yet: every step)."""
    return tuple(
        s
        for s in HAPPY_PATH
        if s not in HIDDEN and not (s is Step.MATERIALS and pkg is not None and not pkg.materials)
    )


def step_marks(
    steps: tuple[Step, ...], current: Step, last_on_path: Step | None = None
) -> tuple[tuple[Step, str], ...]:
    """Each step of ``steps`` with its state (``done``, ``current``, ``todo``).

    ``current`` off the happy path (device problem, staff assist) stands for the step it
    belongs to: ``last_on_path`` (the last happy-path step shown) for a device problem."""
    here = _STANDS_FOR.get(current, current)
    if here not in HAPPY_PATH:
        here = last_on_path if last_on_path is not None else current
    if here is Step.SUBMIT:
        here = Step.CONFIRM_SIGN
    at = HAPPY_PATH.index(here) if here in HAPPY_PATH else -1
    marks = []
    for s in steps:
        idx = HAPPY_PATH.index(s)
        marks.append((s, CURRENT if s is here else DONE if 0 <= idx < at else TODO))
    return tuple(marks)


def commitment_to_sign(data: SessionData, pkg: ItemPackage) -> CommitmentTemplate | None:
    """The commitment (告知承诺书) the signature makes for this decision, as printed on the A4 form."""
    commitment = pkg.outputs.commitment
    decision = data.application.decision
    if commitment is None or decision is None or decision.outcome.value not in commitment.outcomes:
        return None
    return commitment


def phone_known(data: SessionData, pkg: ItemPackage) -> bool:
    """A mobile number is known for the citizen: typed in a phone field of the form, or given for
    express delivery.  Only then may the terminal promise an SMS."""
    for spec in pkg.form:
        if spec.type == "phone" and data.application.form.get(spec.key, "").strip():
            return True
    delivery = data.case.delivery
    return bool(delivery is not None and delivery.address is not None and delivery.address.mobile.strip())
