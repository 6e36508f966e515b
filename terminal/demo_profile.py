"""The demo profile's cast: the scripted citizens and the simulated staff card's holder."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: The demo profile's staff card holder (the demo hall and its card are made fresh every run; never a real staff id).
DEMO_STAFF_ID = "DEMO-STAFF-01"


@dataclass(frozen=True)
class DemoCitizen:
    """A scripted citizen of the demo profile: which card, which face, which item."""

    key: str  # simulated card key (devices.idcard.sim_cards)
    item_id: str
    live_images: tuple[str, ...]  # media file names the face camera plays
    form: dict[str, str] = field(default_factory=dict)  # what the citizen types
    lease: dict[str, Any] | None = None  # lease document placed under the document camera


DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen("senior", "senior-card", ("obama_live1.jpg", "obama_live2.jpg")),
    DemoCitizen(
        "business",
        "business-registration",
        ("biden_live.jpg",),
        form={
            "business_name": "德城区建国便利店",
            "business_scope": "日用百货零售",
            "premises_address": "山东省德州市德城区新华路26号",
            "phone": "13905340000",
        },
        lease={
            "lessor": "德州市德城区新华物业管理有限公司",
            "lessee": "李建国",
            "lessee_id": "37140219880721003X",
            "premises_address": "山东省德州市德城区新华路26号",
            "term_start": dt.date(2025, 1, 1),
            "term_end": dt.date(2027, 12, 31),
        },
    ),
    DemoCitizen("expired", "resident-pension", ("kit_live.jpg",)),
)

#: A citizen whose application the review rejects (the senior, 73, applies for the pension of those
#: aged 16 to 59): the demo's expired card is now refused at the card step and files no case.
DEMO_REJECTED = DemoCitizen("senior", "resident-pension", ("obama_live1.jpg", "obama_live2.jpg"))
