"""What the screen says, by translation key, from gettext catalogues read through Babel.

One catalogue per language: ``kiosk/locale/<language>/LC_MESSAGES/kiosk.po``, where the
message id is the key (``"card.title"``) and the translation is the text.  Simplified
Chinese (``zh``) is the default and the reference every other catalogue must match;
English (``en``) is the second.  A language is a catalogue directory: adding Uyghur is
adding ``kiosk/locale/ug/LC_MESSAGES/kiosk.po`` (docs/translations.md), no code change;
``python -m kiosk.i18n_tools`` starts a catalogue or adds a text.

Plural entries (``msgid_plural``) pick their form with the catalogue's ``Plural-Forms``
rule from the ``n`` argument: ``tr("items.days", n=3)``.  Numbers, money, sizes, durations
and dates are formatted by Babel for the catalogue's locale (its ``Language`` header).

Enum values and codes elsewhere are stable identifiers; text comes from here (or, for
item-specific text such as review reasons, from the item's package).
"""

from __future__ import annotations

import datetime as dt
import gettext
import logging
import os
import re
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

#: A language is the name of a catalogue directory (``zh``, ``en``, ``ug`` ...).
Language = str

DOMAIN = "kiosk"
DEFAULT_LANGUAGE: Language = "zh"
LOCALE_DIR = Path(__file__).with_name("locale")
#: Set to 1 (the test suite does) to make a missing text an error instead of showing the key.
STRICT_ENV = "KIOSK_I18N_STRICT"

Entry = str | tuple[str, ...]  # one text, or the plural forms of a plural entry
_LANGUAGE_NAME = re.compile(r"[a-z]{2,3}(_[A-Za-z0-9]+)*")  # zh, en, ug, mn_Mong ...


class MissingTextError(KeyError):
    """A key the default catalogue does not hold, or a plural entry asked without ``n``."""


@dataclass(frozen=True)
class Catalogue:
    """One language's texts as loaded from its .po file."""

    language: Language
    locale: Locale
    entries: Mapping[str, Entry]
    plural: Callable[[int], int]

    def placeholders(self, key: str) -> frozenset[str]:
        """The ``{name}`` fields of every form of ``key``."""
        entry = self.entries[key]
        forms = entry if isinstance(entry, tuple) else (entry,)
        return frozenset(f for text in forms for _, f, _, _ in string.Formatter().parse(text) if f)


def read_catalogue(path: Path, language: Language) -> Catalogue:
    """Parse one .po file; fuzzy and untranslated entries are left out (gettext's rule)."""
    with path.open("rb") as f:
        po = read_po(f, locale=None, domain=DOMAIN)
    entries: dict[str, Entry] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(str(s) for s in message.string or ())
            if all(forms):
                entries[str(message.id[0])] = forms
        elif message.string:
            entries[str(message.id)] = str(message.string)
    locale = po.locale if isinstance(po.locale, Locale) else Locale.parse(language)
    return Catalogue(language, locale, entries, gettext.c2py(po.plural_expr))


class Catalogues:
    """The catalogues under one directory, each loaded the first time it is asked for."""

    def __init__(self, directory: Path = LOCALE_DIR, default: Language = DEFAULT_LANGUAGE) -> None:
        self.directory = directory
        self.default = default
        self._loaded: dict[Language, Catalogue] = {}
        self._lock = threading.Lock()
        self._reported: set[tuple[str, Language]] = set()

    def path(self, lang: Language) -> Path:
        return self.directory / lang / "LC_MESSAGES" / f"{DOMAIN}.po"

    def languages(self) -> tuple[Language, ...]:
        """Every language with a catalogue, the default first."""
        found = sorted(p.parent.parent.name for p in self.directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        return tuple(sorted(found, key=lambda lang: lang != self.default))

    def get(self, lang: Language) -> Catalogue:
        catalogue = self._loaded.get(lang)
        if catalogue is None:
            with self._lock:
                catalogue = self._loaded.get(lang)
                if catalogue is None:
                    if not _LANGUAGE_NAME.fullmatch(lang):
                        raise ValueError(f"not a language name: {lang!r}")
                    path = self.path(lang)
                    if not path.is_file():
                        raise ValueError(f"no catalogue for language {lang!r} ({path})")
                    catalogue = read_catalogue(path, lang)
                    self._loaded[lang] = catalogue
        return catalogue

    def entry(self, key: str, lang: Language) -> tuple[Entry, Catalogue] | None:
        """``key`` in ``lang``, else in the default catalogue (a partial translation still
        shows every screen), with the catalogue it came from; None when neither holds it."""
        catalogue = self.get(lang)
        found = catalogue.entries.get(key)
        if found is None and lang != self.default:
            catalogue = self.get(self.default)
            found = catalogue.entries.get(key)
            if found is not None and (key, lang) not in self._reported:
                self._reported.add((key, lang))
                log.warning("text %s not translated to %s: default language shown", key, lang)
        return None if found is None else (found, catalogue)

    def text(self, key: str, lang: Language, fmt: Mapping[str, object]) -> str:
        found = self.entry(key, lang)
        if found is None:
            return self._missing(key, lang, f"no text for key {key!r}")
        entry, catalogue = found
        if isinstance(entry, tuple):
            n = fmt.get("n")
            if not isinstance(n, int) or isinstance(n, bool):
                return self._missing(key, lang, f"plural text {key!r} needs an integer n=")
            entry = entry[min(catalogue.plural(abs(n)), len(entry) - 1)]
        return entry.format(**fmt) if fmt else entry

    def _missing(self, key: str, lang: Language, problem: str) -> str:
        if os.environ.get(STRICT_ENV, "") not in ("", "0"):
            raise MissingTextError(f"{problem} in the {lang!r} catalogue ({self.path(lang)})")
        if (key, "") not in self._reported:
            self._reported.add((key, ""))
            log.error("%s: the key is shown instead", problem)
        return key


_catalogues = Catalogues()
_current: list[Language] = [DEFAULT_LANGUAGE]


def catalogues() -> Catalogues:
    """The product's catalogues (kiosk/locale)."""
    return _catalogues


def languages() -> tuple[Language, ...]:
    """The languages the terminal can show, the default first."""
    return _catalogues.languages()


def set_language(lang: Language) -> None:
    _catalogues.get(lang)  # an unknown language fails here, not on the first screen
    _current[0] = lang


def language() -> Language:
    return _current[0]


def tr(key: str, lang: Language | None = None, **fmt: object) -> str:
    """The text for ``key`` in ``lang`` (the current language by default), formatted with
    ``fmt``.  A plural entry chooses its form by ``n``.

    A key no catalogue holds raises :class:`MissingTextError` when ``KIOSK_I18N_STRICT`` is
    set (the test suite); in service it is logged and the key is shown."""
    return _catalogues.text(key, lang or _current[0], fmt)


def has_key(key: str) -> bool:
    return key in _catalogues.get(DEFAULT_LANGUAGE).entries


def bilingual(zh: str, en: str, lang: Language | None = None) -> str:
    """Pick one of a (zh, en) pair that came as data (item names, reasons): English for
    English, Chinese for every other language (item packages carry these two)."""
    return en if (lang or _current[0]) == "en" and en else zh


def _locale(lang: Language | None) -> Locale:
    return _catalogues.get(lang or _current[0]).locale


def format_number(value: int | float | Decimal, lang: Language | None = None) -> str:
    """A count or measure with the language's digit grouping and decimal sign."""
    from babel.numbers import format_decimal

    return format_decimal(value, locale=_locale(lang))


def format_money(amount: int | float | Decimal, lang: Language | None = None, currency: str = "CNY") -> str:
    from babel.numbers import format_currency

    return format_currency(amount, currency, locale=_locale(lang))


def format_duration(delta: dt.timedelta, lang: Language | None = None) -> str:
    """``delta`` in words, rounded to its largest unit ("3分钟", "3 minutes")."""
    from babel.dates import format_timedelta

    return format_timedelta(delta, threshold=1.0, locale=_locale(lang))


_SIZE_UNITS = ("byte", "kilobyte", "megabyte", "gigabyte", "terabyte")


def format_size(n_bytes: int, lang: Language | None = None) -> str:
    """A storage size in binary units (1 KB = 1024 bytes), one decimal above bytes."""
    from babel.units import format_unit

    value = float(n_bytes)
    unit = 0
    while value >= 1024 and unit < len(_SIZE_UNITS) - 1:
        value /= 1024
        unit += 1
    pattern = "#,##0" if unit == 0 else "#,##0.0"
    return format_unit(value, f"digital-{_SIZE_UNITS[unit]}", "short", pattern, locale=_locale(lang))


def format_date(day: dt.date, lang: Language | None = None) -> str:
    """A date in the pattern the catalogue gives under ``format.date`` (CLDR syntax)."""
    from babel.dates import format_date as babel_format_date

    code = lang or _current[0]
    return babel_format_date(day, tr("format.date", code), locale=_locale(code))


__all__ = [
    "DEFAULT_LANGUAGE",
    "Catalogue",
    "Catalogues",
    "Language",
    "MissingTextError",
    "bilingual",
    "catalogues",
    "format_date",
    "format_duration",
    "format_money",
    "format_number",
    "format_size",
    "has_key",
    "language",
    "languages",
    "set_language",
    "tr",
]
