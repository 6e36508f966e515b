"""The social security card (社会保障卡) as an identity carrier, where an item accepts it.

The card's basic info (devices.smartcard.ssc) names the holder: the 社会保障号码 is the citizen ID
number, with name, sex, nation and birth date; its issue and expiry dates stand in for the ID card's
validity period, so the card checks (expired, not yet valid, a number that fails GB 11643 or
disagrees with the birth date) apply unchanged.  The card has no photo the terminal can read: the
face check compares with the platform's reference photo of the holder, as for a QR identity, and
the address is typed on the form.
"""

from __future__ import annotations

import datetime as dt

from devices.interfaces import IdCardRead, IdCardText
from devices.smartcard.ssc import SocialSecurityCardInfo

#: The carrier names of ``identity.carriers`` in a package (kiosk/review/rule-package.schema.json).
ID_CARD, E_ID_QR, SSC = "id_card", "e_id_qr", "ssc"


def ssc_card_read(info: SocialSecurityCardInfo, read_at: dt.datetime) -> IdCardRead:
    """The social security card's identity in the form the later steps use (no photo, no address)."""
    text = IdCardText(
        name=info.name,
        sex=info.sex,
        nation=info.nation,
        birth_date=info.birth_date,
        address="",
        id_number=info.id_number.upper(),
        authority="",
        valid_from=info.issue_date,
        valid_until=info.expiry_date,
    )
    return IdCardRead(text=text, photo_raw=b"", read_at=read_at)
