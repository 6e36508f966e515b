"""A package's catalogue entry: what the citizen browses and searches before choosing an item.

Department, life events (一件事, GB/T 44888 §6.11), conditions, fees, legal basis, time limit and
where that data came from, as the public service guide (办事指南) publishes them.  The pinyin of
the name and keywords is computed once when the package loads (pypinyin), never per keystroke.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["CatalogueEntry", "LifeEventRef", "Text", "parse_catalogue", "pinyin_of"]

_NOT_LETTER = re.compile(r"[^a-z0-9]")


@dataclass(frozen=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True)
class LifeEventRef:
    """A life event (一件事) this item belongs to: items naming the same id form one bundle."""

    id: str
    name: Text


@dataclass(frozen=True)
class CatalogueEntry:
    name: Text
    pinyin_initials: str
    keywords: tuple[str, ...]
    department: Text
    conditions: tuple[Text, ...]
    legal_basis: tuple[Text, ...]
    #: 0: on the spot; None: no published time limit (``time_limit_note`` says why)
    time_limit_days: int | None
    #: None: the legal basis sets no fee (``fee_note`` says who sets it)
    fee_yuan: float | None
    materials_summary: tuple[Text, ...]
    life_events: tuple[LifeEventRef, ...] = ()
    #: what the fee covers or why there is none, as the guide says
    fee_note: Text | None = None
    #: the kind of time limit (promised / statutory, working or calendar days) and its basis
    time_limit_note: Text | None = None
    #: where the entry's data came from (the guide's address, or the law when no guide was found)
    source: str = ""
    #: full pinyin of the name without spaces, computed at load
    pinyin: str = ""
    #: pinyin initials of the name and of every keyword, computed at load
    computed_initials: tuple[str, ...] = ()


def _text(d: Mapping[str, str]) -> Text:
    return Text(zh=d["zh"], en=d["en"])


def _texts(items: Iterable[Mapping[str, str]]) -> tuple[Text, ...]:
    return tuple(_text(d) for d in items)


@lru_cache(maxsize=4096)
def pinyin_of(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of ``text``, lower case letters and digits only."""
    # Imported on first use: its phrase dictionary costs ~0.3 s, and the welcome screen of a
    # terminal with no package loaded yet needs no pinyin (bench/startup attract_s).
    from pypinyin import Style, lazy_pinyin

    full = "".join(_NOT_LETTER.sub("", s.lower()) for s in lazy_pinyin(text))
    initials = "".join(_NOT_LETTER.sub("", s.lower()) for s in lazy_pinyin(text, style=Style.FIRST_LETTER))
    return full, initials


def parse_catalogue(cat: Mapping[str, Any]) -> CatalogueEntry:
    """The entry of a schema-valid ``catalogue`` object."""
    name = _text(cat["name"])
    keywords = tuple(cat.get("keywords", ()))
    full, initials = pinyin_of(name.zh)
    computed = (initials, *(pinyin_of(k)[1] for k in keywords))
    fee_note = cat.get("fee_note")
    time_note = cat.get("time_limit_note")
    return CatalogueEntry(
        name=name,
        pinyin_initials=cat.get("pinyin_initials") or initials,
        keywords=keywords,
        department=_text(cat["department"]),
        conditions=_texts(cat["conditions"]),
        legal_basis=_texts(cat["legal_basis"]),
        time_limit_days=cat["time_limit_days"],
        fee_yuan=None if cat["fee_yuan"] is None else float(cat["fee_yuan"]),
        materials_summary=_texts(cat["materials_summary"]),
        life_events=tuple(LifeEventRef(e["id"], _text(e["name"])) for e in cat.get("life_events", ())),
        fee_note=None if fee_note is None else _text(fee_note),
        time_limit_note=None if time_note is None else _text(time_note),
        source=str(cat.get("source", "")),
        pinyin=full,
        computed_initials=tuple(dict.fromkeys(computed)),
    )
