"""Finding items in the catalogue: by name, keyword or pinyin initials (no Qt)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.review.items import ItemPackage


def _fold(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)).lower()


def search(packages: Iterable[ItemPackage], query: str) -> list[ItemPackage]:
    """Items whose name (zh or en) or keywords contain ``query``, or whose pinyin initials do.

    Pinyin-initial matches that start at the beginning rank first; an empty query lists all."""
    q = _fold(query)
    ranked: list[tuple[int, str, ItemPackage]] = []
    for pkg in packages:
        cat = pkg.catalogue
        initials = cat.pinyin_initials
        if not q or initials.startswith(q) or q in _fold(cat.name.zh):
            rank = 0
        elif q in initials or q in _fold(cat.name.en) or any(q in _fold(k) for k in cat.keywords):
            rank = 1
        else:
            continue
        ranked.append((rank, pkg.id, pkg))
    ranked.sort(key=lambda t: (t[0], t[1]))
    return [p for _, _, p in ranked]
