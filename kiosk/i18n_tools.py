"""Editing the text catalogues (docs/translations.md); the terminal itself never runs this.

python -m kiosk.i18n_tools new ug                  start Uyghur: every key, untranslated
python -m kiosk.i18n_tools new mn mn_Mong_CN       the CLDR locale when it is not the name
python -m kiosk.i18n_tools add KEY ZH_TEXT EN_TEXT  a new text in the Chinese and English catalogues
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import escape, write_po

from kiosk.i18n import DOMAIN, LOCALE_DIR, Catalogues, Language


def new_catalogue(lang: Language, locale: str | None = None, directory: Path = LOCALE_DIR) -> Path:
    """Start the catalogue of a new language: every key of the default catalogue, untranslated,
    with the Chinese and English texts as comments for the translator and the plural rule of
    ``locale`` (a CLDR name such as ``ug``, ``bo`` or ``mn_Mong_CN``; ``lang`` by default)."""
    cats = Catalogues(directory)
    path = cats.path(lang)
    if path.exists():
        raise FileExistsError(path)
    zh, en = cats.get(cats.default), cats.get("en")
    po = Catalog(
        locale=Locale.parse(locale or lang),
        domain=DOMAIN,
        project="hall-kiosk",
        version="1",
        msgid_bugs_address="hall-kiosk maintainers",
        last_translator="",
        language_team=f"{lang} translators",
        fuzzy=False,
    )
    po.header_comment = f"# {lang} texts of the hall-kiosk terminal (docs/translations.md)."
    for key, text in zh.entries.items():
        comments = [f"zh: {text if isinstance(text, str) else ' | '.join(text)}"]
        other = en.entries.get(key)
        if other is not None:
            comments.append(f"en: {other if isinstance(other, str) else ' | '.join(other)}")
        if isinstance(text, tuple):
            po.add((key, key), ("",) * po.num_plurals, auto_comments=comments)
        else:
            po.add(key, "", auto_comments=comments)
    path.parent.mkdir(parents=True)
    with path.open("wb") as f:
        write_po(f, po, width=0, no_location=True)
    return path


def add_text(key: str, texts: dict[Language, str], directory: Path = LOCALE_DIR) -> list[Path]:
    """Append ``key`` to the catalogue of each language in ``texts`` (a key already present
    is refused).  Languages left out fall back to Chinese until translated; the catalogue test
    names them."""
    cats = Catalogues(directory)
    for lang in texts:
        if key in cats.get(lang).entries or f'msgid "{key}"' in cats.path(lang).read_text("utf-8"):
            raise ValueError(f"{key!r} is already in the {lang!r} catalogue")
    written = []
    for lang, text in texts.items():
        path = cats.path(lang)
        body = path.read_text("utf-8").rstrip("\n")
        path.write_text(f"{body}\n\nmsgid {escape(key)}\nmsgstr {escape(text)}\n", "utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) in (2, 3) and argv[0] == "new":
        print(new_catalogue(argv[1], argv[2] if len(argv) == 3 else None))
        return 0
    if len(argv) == 4 and argv[0] == "add":
        for path in add_text(argv[1], {"zh": argv[2], "en": argv[3]}):
            print(path)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
