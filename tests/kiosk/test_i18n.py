"""The text catalogues (kiosk/locale/*/LC_MESSAGES/kiosk.po) and kiosk.i18n reading them."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import fnmatch
import logging
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from devices.base import DeviceStatus, RequiredAction
from devices.interfaces import DocumentKind
from kiosk import i18n
from kiosk.config import UiConfig
from kiosk.documents.extractors import ConfirmReason
from kiosk.documents.pagecapture import CaptureIssue
from kiosk.i18n import (
    STRICT_ENV,
    Catalogues,
    MissingTextError,
    format_date,
    format_duration,
    format_money,
    format_number,
    format_size,
    has_key,
    language,
    languages,
    set_language,
    tr,
)
from kiosk.i18n_tools import add_text, new_catalogue
from kiosk.identity.face import FaceQuality
from kiosk.identity.liveness import Challenge
from kiosk.identity.qr import QrRefusal, QrVerification
from kiosk.maintenance.service import Paper
from kiosk.maintenance.staff_card import StaffCardRefusal
from kiosk.outputs.delivery import DeliveryMethod
from kiosk.outputs.render import DECISIONS
from kiosk.review.engine import Outcome
from kiosk.session.machine import Step
from kiosk.session.values import Devices

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
BABEL = PYPROJECT["tool"]["babel"]
CODE_DIRS: tuple[str, ...] = tuple(BABEL["extract_messages"]["input_paths"])
DEFAULT = i18n.catalogues().get(i18n.DEFAULT_LANGUAGE)
NAMESPACES = frozenset(key.split(".")[0] for key in DEFAULT.entries)
KEY_LIKE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")
#: Strings shaped like keys that are not text: rule-engine inputs and a file name.
NOT_TEXT = frozenset({"form.complete", "form.valid", "staff.json", "catalogue.synced"})  # ids, not texts


@pytest.fixture(autouse=True)
def _keep_language() -> Iterator[None]:
    before = language()
    yield
    set_language(before)


def _po_path(lang: str) -> Path:
    return i18n.catalogues().path(lang)


def _code_files() -> Iterator[Path]:
    for top in CODE_DIRS:
        yield from sorted((ROOT / top).rglob("*.py"))


def _tr_calls() -> Iterator[tuple[Path, ast.Call]]:
    for path in _code_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name == "tr":
                    yield path, node


# ---------------------------------------------------------------- the catalogues themselves
def test_chinese_is_the_default_and_english_the_second_language() -> None:
    assert languages()[:2] == ("zh", "en")
    assert i18n.DEFAULT_LANGUAGE == "zh" and language() in languages()


@pytest.mark.parametrize("lang", languages())
def test_catalogue_has_every_key_translated(lang: str) -> None:
    raw = _po_path(lang).read_text(encoding="utf-8")
    ids = re.findall(r'^msgid "(.+)"$', raw, re.M)
    assert len(ids) == len(set(ids)), "a key appears twice"
    with _po_path(lang).open("rb") as f:
        po = read_po(f)
    assert po.locale is not None, "the Language header names the locale for number and date formats"
    assert "Plural-Forms" in dict(po.mime_headers)
    untranslated = [
        m.id
        for m in po
        if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))
    ]
    assert untranslated == []
    catalogue = i18n.catalogues().get(lang)
    assert set(catalogue.entries) == set(DEFAULT.entries)
    plural = {k for k, v in catalogue.entries.items() if isinstance(v, tuple)}
    assert plural == {k for k, v in DEFAULT.entries.items() if isinstance(v, tuple)}
    assert len(catalogue.entries) > 300


@pytest.mark.parametrize("lang", languages()[1:])
def test_placeholders_agree_with_the_default_language(lang: str) -> None:
    catalogue = i18n.catalogues().get(lang)
    differ = {
        key: (sorted(DEFAULT.placeholders(key)), sorted(catalogue.placeholders(key)))
        for key in DEFAULT.entries
        if catalogue.placeholders(key) != DEFAULT.placeholders(key)
    }
    assert differ == {}
    assert DEFAULT.placeholders("maint.outbox.counts") == {"pending", "sent", "dead"}


def test_the_catalogues_are_package_data() -> None:
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]["kiosk"]
    shipped = sorted((ROOT / "kiosk" / "locale").rglob("*.po"))
    assert len(shipped) == len(languages())
    for path in shipped:
        relative = path.relative_to(ROOT / "kiosk").as_posix()
        assert any(fnmatch.fnmatch(relative, g) for g in globs), relative
    assert "babel" in " ".join(PYPROJECT["project"]["dependencies"]).lower()


# ---------------------------------------------------------------- the code's keys
def test_every_key_the_code_passes_to_tr_is_in_every_catalogue() -> None:
    """Every literal in tr()'s first argument, in the folders ``pybabel extract`` scans
    (pyproject.toml [tool.babel]), including both branches of ``tr("a" if x else "b")``."""
    used: dict[str, list[str]] = {}
    for path, call in _tr_calls():
        for node in ast.walk(call.args[0]):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and KEY_LIKE.fullmatch(node.value)
            ):
                used.setdefault(node.value, []).append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert len(used) > 120  # the scan sees the screens, receipts and maintenance texts
    assert "maint.model.not_loaded" in used and "face.staff" in used
    for lang in languages():
        entries = i18n.catalogues().get(lang).entries
        assert {k: v for k, v in used.items() if k not in entries} == {}, lang


def test_calls_pass_exactly_the_placeholders_of_their_text() -> None:
    """``tr("receipt.item", v=name)``: a missing argument would show ``{v}`` or fail on screen."""
    wrong: dict[str, tuple[list[str], list[str]]] = {}
    checked = 0
    for path, call in _tr_calls():
        first = call.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str) and has_key(first.value)):
            continue
        if any(k.arg is None for k in call.keywords):  # tr(key, **values): not checkable here
            continue
        given = {str(k.arg) for k in call.keywords if k.arg != "lang"}
        wanted = set(DEFAULT.placeholders(first.value))
        checked += 1
        if given != wanted:
            wrong[f"{path.relative_to(ROOT)}:{call.lineno}"] = (sorted(wanted), sorted(given))
    assert checked > 100
    assert wrong == {}


def test_keys_built_in_code_belong_to_a_catalogue_family() -> None:
    """``tr(f"step.{step.value}")``: the literal start must begin some key."""
    prefixes: dict[str, str] = {}
    for path, call in _tr_calls():
        first = call.args[0]
        if isinstance(first, ast.JoinedStr) and first.values and isinstance(first.values[0], ast.Constant):
            prefixes[str(first.values[0].value)] = f"{path.relative_to(ROOT)}:{call.lineno}"
    assert len(prefixes) > 10
    assert {
        p: where for p, where in prefixes.items() if not any(k.startswith(p) for k in DEFAULT.entries)
    } == {}


def test_key_shaped_strings_in_code_are_keys() -> None:
    """Keys travel as data too (form errors, problem details, face prompts): every string in the
    code shaped like a key of a catalogue namespace must be one."""
    unknown: dict[str, str] = {}
    for path in _code_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and KEY_LIKE.fullmatch(node.value)
                and node.value.split(".")[0] in NAMESPACES
                and node.value not in NOT_TEXT
                and not has_key(node.value)
            ):
                unknown[node.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    assert unknown == {}


FAMILIES: list[tuple[str, list[str]]] = [
    ("step.{}", [s.value for s in Step]),
    ("action.{}", [a.value for a in RequiredAction]),
    ("maint.action.{}", [a.value for a in RequiredAction]),
    ("maint.status.{}", [s.value for s in DeviceStatus]),
    ("maint.paper.{}", [p.value for p in Paper]),
    (
        "maint.device.{}",
        [f.name for f in dataclasses.fields(Devices) if f.name != "photo_decoder"] + ["staff_card"],
    ),
    ("face.quality.{}", [q.value for q in FaceQuality]),
    ("face.challenge.{}", [c.value for c in Challenge]),
    ("materials.reason.{}", [r.value for r in ConfirmReason]),
    ("materials.capture_issue.{}", [c.value for c in CaptureIssue]),
    ("applicant.document.{}", [d.value for d in DocumentKind]),
    ("delivery.{}", [m.value for m in DeliveryMethod]),
    ("receipt.delivery.{}", [m.value for m in DeliveryMethod]),
    ("qr.refused.{}", [r.value for r in QrRefusal]),
    ("maint.refused.{}", [r.value for r in StaffCardRefusal]),
    ("outcome.{}", [o.value for o in Outcome]),
    ("outcome.{}.detail", [o.value for o in Outcome]),
    ("receipt.title.{}", list(DECISIONS)),
    ("receipt.result.{}", list(DECISIONS)),
    ("receipt.reasons.{}", list(DECISIONS)),
    ("receipt.pickup_default.{}", list(DECISIONS)),
]


@pytest.mark.parametrize(("pattern", "values"), FAMILIES, ids=[f[0] for f in FAMILIES])
def test_every_value_of_an_enum_shown_on_screen_has_its_text(pattern: str, values: list[str]) -> None:
    assert values
    assert [pattern.format(v) for v in values if not has_key(pattern.format(v))] == []


def test_identity_and_capture_messages_come_from_the_catalogue() -> None:
    refused = QrVerification(None, QrRefusal.EXPIRED)
    assert refused.message() == (tr("qr.refused.expired", "zh"), tr("qr.refused.expired", "en"))
    assert refused.message()[0] == "二维码已过期，请刷新后重新出示"
    assert CaptureIssue.GLARE.prompt[1] == "Glare: move the page out of the reflection"


# ---------------------------------------------------------------- behaviour
def test_switching_language() -> None:
    set_language("en")
    assert (language(), tr("common.next")) == ("en", "Next")
    assert tr("common.next", "zh") == "下一步"
    set_language("zh")
    assert tr("receipt.item", v="老年人优待证") == "事项名称：老年人优待证"
    assert tr("receipt.item", "en", v="Senior card") == "Service: Senior card"


def test_an_unknown_language_is_refused_where_it_is_set() -> None:
    with pytest.raises(ValueError, match="no catalogue for language 'xx'"):
        set_language("xx")
    with pytest.raises(ValueError, match="not a language name"):
        set_language("../zh")
    assert language() in languages()
    assert UiConfig(language="en").language == "en"
    with pytest.raises(ValueError, match="no text catalogue for language 'ug'"):
        UiConfig(language="ug")


def test_a_missing_key_is_an_error_in_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(MissingTextError, match=r"no text for key 'card.no_such_text'.*'en' catalogue"):
        tr("card.no_such_text", "en")
    with pytest.raises(MissingTextError, match="needs an integer n="):
        tr("items.days")


def test_a_missing_key_in_service_shows_the_key_and_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(STRICT_ENV, raising=False)
    with caplog.at_level(logging.ERROR, logger="kiosk.i18n"):
        assert tr("card.not_written_yet") == "card.not_written_yet"
    assert "card.not_written_yet" in caplog.text


def test_plural_forms_follow_each_languages_rule() -> None:
    assert tr("items.days", "en", n=1) == "1 working day"
    assert tr("items.days", "en", n=5) == "5 working days"
    assert tr("items.days", "zh", n=1) == "1 个工作日"
    assert tr("items.days", "zh", n=5) == "5 个工作日"


def test_numbers_money_sizes_durations_and_dates_use_the_locale() -> None:
    assert format_number(1234567, "en") == "1,234,567"
    assert format_number(0.5, "zh") == "0.5"
    assert format_money(12.5, "zh") == "¥12.50"
    assert format_money(12.5, "en") == "CN¥12.50"
    assert format_size(512, "en") == "512 byte"
    assert format_size(3 * 1024**3 // 2, "en") == "1.5 GB"
    assert format_duration(dt.timedelta(minutes=3), "en") == "3 minutes"
    assert format_duration(dt.timedelta(minutes=3), "zh") == "3分钟"
    assert format_date(dt.date(2026, 12, 13), "zh") == "2026年12月13日"
    assert format_date(dt.date(2026, 12, 13), "en") == "2026-12-13"
    set_language("en")
    assert format_date(dt.date(2027, 1, 2)) == "2027-01-02"


# ---------------------------------------------------------------- a new language is a file
UG_PO = """\
msgid ""
msgstr ""
"Language: ug\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"Content-Type: text/plain; charset=utf-8\\n"

msgid "common.next"
msgstr "كېيىنكى"

msgid "format.date"
msgstr "yyyy-MM-dd"

msgid "items.days"
msgid_plural "items.days"
msgstr[0] "{n} خىزمەت كۈنى"
msgstr[1] "{n} خىزمەت كۈنى "

#, fuzzy
msgid "common.back"
msgstr "قايتىش"
"""


def test_a_third_language_is_a_catalogue_directory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for lang in ("zh", "en"):
        shutil.copytree(i18n.LOCALE_DIR / lang, tmp_path / lang)
    (tmp_path / "ug" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "ug" / "LC_MESSAGES" / "kiosk.po").write_text(UG_PO, encoding="utf-8")
    cats = Catalogues(tmp_path)
    assert cats.languages() == ("zh", "en", "ug")
    assert str(cats.get("ug").locale) == "ug"
    assert cats.text("common.next", "ug", {}) == "كېيىنكى"
    # the test catalogue's two forms differ by a trailing space only, to show ug's rule picks form 1
    assert cats.text("items.days", "ug", {"n": 2}).endswith(" ")
    assert not cats.text("items.days", "ug", {"n": 1}).endswith(" ")
    with caplog.at_level(logging.WARNING, logger="kiosk.i18n"):
        # not translated (a fuzzy entry does not count): the default language shows
        assert cats.text("common.back", "ug", {}) == "返回"
    assert "not translated to ug" in caplog.text
    assert i18n.languages() == ("zh", "en")  # the product's own directory is untouched


def test_new_catalogue_starts_a_language_for_the_translator(tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        shutil.copytree(i18n.LOCALE_DIR / lang, tmp_path / lang)
    path = new_catalogue("mn", "mn_Mong_CN", tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "#. zh: 请将居民身份证放在读卡区\n#. en: Place your resident ID card on the reader\n" in text
    with pytest.raises(FileExistsError):
        new_catalogue("mn", "mn_Mong_CN", tmp_path)
    cats = Catalogues(tmp_path)
    assert cats.languages() == ("zh", "en", "mn")
    assert str(cats.get("mn").locale) == "mn_Mong_CN"
    assert cats.get("mn").entries == {}  # nothing translated yet: every screen shows Chinese
    assert cats.text("card.title", "mn", {}) == "请将居民身份证放在读卡区"
    path.write_text(
        text.replace('msgid "common.next"\nmsgstr ""', 'msgid "common.next"\nmsgstr "ᠳᠠᠷᠠᠭᠠᠬᠢ"'),
        encoding="utf-8",
    )
    assert Catalogues(tmp_path).text("common.next", "mn", {}) == "ᠳᠠᠷᠠᠭᠠᠬᠢ"


def test_add_text_appends_to_the_catalogues(tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        shutil.copytree(i18n.LOCALE_DIR / lang, tmp_path / lang)
    add_text(
        "materials.too_many", {"zh": '最多 {max} 页，"请"删除', "en": "At most {max} pages\\n"}, tmp_path
    )
    cats = Catalogues(tmp_path)
    assert cats.text("materials.too_many", "zh", {"max": 9}) == '最多 9 页，"请"删除'
    assert cats.text("materials.too_many", "en", {"max": 9}) == "At most 9 pages\\n"
    assert cats.text("common.next", "en", {}) == "Next"  # the rest of the file still reads
    with pytest.raises(ValueError, match="already in the 'zh' catalogue"):
        add_text("common.next", {"zh": "下一步", "en": "Next"}, tmp_path)
