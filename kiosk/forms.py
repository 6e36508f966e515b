"""What the terminal already knows about the citizen, keyed by form-field source.

Item packages name a source for each auto-filled field (``idcard.name``,
``computed.age``, ``materials.lease.premises_address``...).  This module is the
one place that turns a card and extracted materials into those keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from devices.interfaces import IdCardText
from kiosk.identity import age_on

LONG_TERM = "长期"


def known_values(
    card: IdCardText | None,
    materials: Mapping[str, Mapping[str, str]],
    today: dt.date,
) -> dict[str, str]:
    """Source key → value for everything known from the ID card and the extracted materials."""
    known: dict[str, str] = {}
    if card is not None:
        known.update(
            {
                "idcard.name": card.name,
                "idcard.id_number": card.id_number,
                "idcard.address": card.address,
                "idcard.sex": card.sex,
                "idcard.birth_date": card.birth_date.isoformat(),
                "idcard.valid_until": card.valid_until.isoformat() if card.valid_until else LONG_TERM,
                "computed.age": str(age_on(card.id_number, today)),
                "computed.today": today.isoformat(),
            }
        )
    for mtype, fields in materials.items():
        for key, value in fields.items():
            known[f"materials.{mtype}.{key}"] = value
    return known
