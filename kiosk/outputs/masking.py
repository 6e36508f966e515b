"""Masking personal data for what leaves the terminal on paper or in a record.

``张*兰``, ``3714**********0022``: the receipt, slips and the ledger carry only these.
"""

from __future__ import annotations

import re


def mask_name(name: str) -> str:
    """张桂兰 -> 张*兰, 李四 -> 李*, 欧阳娜娜 -> 欧**娜."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """371402195203140022 -> 3714**********0022 (first 4 and last 4 kept)."""
    s = id_number.strip()
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


#: A full (unmasked) ID number anywhere in a text.
FULL_ID = re.compile(r"\d{17}[\dXx]|\d{15}")
