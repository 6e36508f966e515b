"""What the terminal already knows about the citizen, keyed by form-field source.

Item packages name a source for each auto-filled field (``idcard.name``,
``computed.age``, ``materials.lease.premises_address``...).  This module is the
one place that turns a card and extracted materials into those keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from devices.interfaces import AnyIdCardText, ForeignerIdCardText, IdCardText
from kiosk.identity.cards import card_age

LONG_TERM = "长期"


def known_values(
    card: AnyIdCardText | None,
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
                "idcard.sex": card.sex,
                "idcard.birth_date": card.birth_date.isoformat(),
                "idcard.valid_from": card.valid_from.isoformat(),
                "idcard.valid_until": card.valid_until.isoformat() if card.valid_until else LONG_TERM,
                "idcard.nationality": card.nationality,
                "idcard.document_kind": card.kind.value,
                "computed.age": str(card_age(card, today)),
                "computed.today": today.isoformat(),
            }
        )
        if isinstance(card, IdCardText):
            known.update(
                {
                    "idcard.address": card.address,
                    "idcard.nation": card.nation,
                    "idcard.authority": card.authority,
                }
            )
        elif isinstance(card, ForeignerIdCardText):  # no address on this card: the citizen types it
            known.update({"idcard.english_name": card.english_name, "idcard.chinese_name": card.chinese_name})
    for mtype, fields in materials.items():
        for key, value in fields.items():
            known[f"materials.{mtype}.{key}"] = value
    return known
