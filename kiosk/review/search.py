"""Finding items in the catalogue: by name, keyword, pinyin or pinyin initials, within a
department or a life event (no Qt).

:class:`SearchIndex` folds every searchable text once when the catalogue changes (the pinyin was
computed when each package loaded), so a keystroke only scans prepared strings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.review.catalogue_entry import Text, pinyin_of

if TYPE_CHECKING:
    from kiosk.review.items import ItemPackage

__all__ = ["LifeEvent", "SearchIndex", "fold", "life_events", "search"]


def fold(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)).lower()


@dataclass(frozen=True)
class LifeEvent:
    """A life event (一件事): items applied for together, sharing identity and form fields."""

    id: str
    name: Text
    item_ids: tuple[str, ...]
    #: form field keys two or more of its items ask for with the same source: filled once
    shared_fields: tuple[str, ...]


def life_events(packages: Iterable[ItemPackage]) -> list[LifeEvent]:
    """The bundles the packages declare, in pinyin order of their names; the first package's name
    of an event wins."""
    names: dict[str, Text] = {}
    members: dict[str, list[ItemPackage]] = {}
    for pkg in sorted(packages, key=lambda p: p.id):
        for ref in pkg.catalogue.life_events:
            names.setdefault(ref.id, ref.name)
            members.setdefault(ref.id, []).append(pkg)
    out = []
    for event_id, pkgs in members.items():
        seen: dict[tuple[str, str | None], int] = {}
        for pkg in pkgs:
            for f in pkg.form:
                seen[(f.key, f.source)] = seen.get((f.key, f.source), 0) + 1
        shared = tuple(dict.fromkeys(key for (key, _src), n in seen.items() if n > 1))
        out.append(LifeEvent(event_id, names[event_id], tuple(p.id for p in pkgs), shared))
    return sorted(out, key=lambda e: pinyin_of(e.name.zh)[0])


#: joins an entry's texts into one string a query cannot match across (a control character)
_SEP = "\x1f"


@dataclass(frozen=True)
class _Entry:
    pkg: ItemPackage
    first: str  # the folded Chinese name: a substring ranks first
    initials: tuple[str, ...]  # pinyin initials of name and keywords: a prefix ranks first
    other: str  # English name, full pinyin, keywords and initials joined: a substring ranks second
    department: str
    events: frozenset[str]


class SearchIndex:
    """The folded texts of a set of packages, built once per catalogue version."""

    def __init__(self, packages: Iterable[ItemPackage]) -> None:
        entries = []
        for pkg in sorted(packages, key=lambda p: p.id):
            cat = pkg.catalogue
            initials = tuple(dict.fromkeys((cat.pinyin_initials, *cat.computed_initials)))
            entries.append(
                _Entry(
                    pkg=pkg,
                    first=fold(cat.name.zh),
                    initials=initials,
                    other=_SEP.join(
                        (fold(cat.name.en), cat.pinyin, *(fold(k) for k in cat.keywords), *initials)
                    ),
                    department=cat.department.zh,
                    events=frozenset(e.id for e in cat.life_events),
                )
            )
        self._entries: Sequence[_Entry] = tuple(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def search(
        self, query: str = "", department: str | None = None, life_event: str | None = None
    ) -> list[ItemPackage]:
        """Items matching ``query`` (empty: all) within ``department`` (its Chinese name) and
        ``life_event`` (its id) when given.  Names containing the query and initials starting with
        it rank first, then other matches (English name, full pinyin, keywords, initials inside)."""
        q = fold(query).replace(_SEP, "")
        first: list[ItemPackage] = []
        second: list[ItemPackage] = []
        for e in self._entries:
            if department is not None and e.department != department:
                continue
            if life_event is not None and life_event not in e.events:
                continue
            if not q or q in e.first or any(i.startswith(q) for i in e.initials):
                first.append(e.pkg)
            elif q in e.other:
                second.append(e.pkg)
        return first + second


def search(packages: Iterable[ItemPackage], query: str) -> list[ItemPackage]:
    """One-off search over ``packages`` (see :meth:`SearchIndex.search`)."""
    return SearchIndex(packages).search(query)
