"""Prudent-prompt warning lists (Dezhou standard §8.1.8) as data.

A list file ``items/warning_lists/<name>.json`` holds, for identifier lists, only
``HMAC-SHA256(key, normalised identifier)`` in hex: identifiers (ID numbers, company
names) are never stored in clear.  Keyword lists (``match: "keyword"``) hold business-scope
keywords in clear; they are not personal data.

The HMAC key is a terminal-side secret named by the list's ``key_id``.  The sandbox demo
uses :data:`DEMO_LIST_KEY` (key id ``"demo-2025"``); production terminals get theirs at
provisioning and pass it in ``keys``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from kiosk.limits import WARNING_LIST_LIMITS, parse_json
from kiosk.review.items import Text

__all__ = [
    "DEMO_KEY_ID",
    "DEMO_LIST_KEY",
    "IDENTIFIER_KINDS",
    "WarningHit",
    "WarningList",
    "WarningListRejected",
    "check_warnings",
    "hash_identifier",
    "load_warning_list",
    "load_warning_lists",
    "normalise_identifier",
]

log = logging.getLogger(__name__)

#: Demo-only HMAC key for the sandbox lists.  Public on purpose; never use it in production.
DEMO_LIST_KEY = b"hall-kiosk-sandbox-demo-warning-list-key-v1"
DEMO_KEY_ID = "demo-2025"

#: What a list is checked against: keys of the ``identifiers`` mapping given to check_warnings.
#: ``uscc``: a legal person's unified social credit code (GB 32100), for lists of legal persons.
IDENTIFIER_KINDS = ("id_number", "name", "business_name", "business_scope", "uscc")
_HEX64 = "^[0-9a-f]{64}$"
_TEXT = {
    "type": "object",
    "required": ["zh", "en"],
    "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "additionalProperties": False,
}
WARNING_LIST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": [
        "name",
        "version",
        "fresh_until",
        "match",
        "identifier",
        "description",
        "what_follows",
        "whom_to_ask",
        "entries",
    ],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "version": {"type": "string", "minLength": 1},
        "fresh_until": {"type": "string", "format": "date"},
        "match": {"enum": ["hmac", "keyword"]},
        "identifier": {"enum": list(IDENTIFIER_KINDS)},
        "description": _TEXT,
        "what_follows": _TEXT,
        "whom_to_ask": _TEXT,
        "key_id": {"type": "string"},
        "entries": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True},
    },
    "additionalProperties": False,
    "if": {"properties": {"match": {"const": "hmac"}}},
    "then": {"required": ["key_id"], "properties": {"entries": {"items": {"pattern": _HEX64}}}},
}


_MISSING_LIST = Text("警示名单暂不可用，转人工审核", "The warning list is not available; manual review")
_ASK_STAFF = Text("请咨询大厅工作人员", "Please ask the hall staff")


class WarningListRejected(ValueError):
    """A warning list file that is not valid JSON or does not match the schema."""


@dataclass(frozen=True)
class WarningList:
    name: str
    version: str
    fresh_until: dt.date
    match: str  # "hmac" | "keyword"
    identifier: str  # which applicant identifier it is checked against
    description: Text
    what_follows: Text
    whom_to_ask: Text
    key_id: str | None
    entries: frozenset[str]

    def is_stale(self, today: dt.date) -> bool:
        return today > self.fresh_until


@dataclass(frozen=True)
class WarningHit:
    """One finding: a match on a list, or (``stale=True``, ``matched=False``) a list too old to trust."""

    list_name: str
    list_version: str
    identifier: str
    matched: bool
    stale: bool
    description: Text
    what_follows: Text
    whom_to_ask: Text
    #: whose identifier matched (kiosk.review.party_warnings): ``applicant`` in person, else the
    #: principal or legal person, or the person at the terminal in their role; and that party
    #: masked (name and number) for the prompt and the reasons
    party: str = "applicant"
    party_masked: str = ""


def normalise_identifier(value: str) -> str:
    """NFKC, no whitespace, upper case (so ``x``/``X`` and full-width digits compare equal)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).upper()


def hash_identifier(key: bytes, value: str) -> str:
    return hmac.new(key, normalise_identifier(value).encode("utf-8"), hashlib.sha256).hexdigest()


def _text(d: Mapping[str, str]) -> Text:
    return Text(zh=d["zh"], en=d["en"])


def load_warning_list(body: bytes) -> WarningList:
    try:
        doc = parse_json(body, WARNING_LIST_LIMITS, "warning list")  # no RecursionError on deep nesting
        jsonschema.validate(doc, WARNING_LIST_SCHEMA, format_checker=jsonschema.FormatChecker())
    except (ValueError, jsonschema.ValidationError) as err:
        raise WarningListRejected(f"invalid warning list: {err}") from err
    return WarningList(
        name=doc["name"],
        version=doc["version"],
        fresh_until=dt.date.fromisoformat(doc["fresh_until"]),
        match=doc["match"],
        identifier=doc["identifier"],
        description=_text(doc["description"]),
        what_follows=_text(doc["what_follows"]),
        whom_to_ask=_text(doc["whom_to_ask"]),
        key_id=doc.get("key_id"),
        entries=frozenset(doc["entries"]),
    )


def load_warning_lists(directory: Path) -> dict[str, WarningList]:
    """All ``*.json`` lists in ``directory`` keyed by name."""
    lists = {}
    for path in sorted(directory.glob("*.json")):
        wl = load_warning_list(path.read_bytes())
        lists[wl.name] = wl
    return lists


def check_warnings(
    lists: Iterable[WarningList],
    identifiers: Mapping[str, str],
    *,
    today: dt.date,
    keys: Mapping[str, bytes] | None = None,
    expected: Iterable[str] = (),
) -> list[WarningHit]:
    """Check the applicant's ``identifiers`` (kind → value, e.g. ``{"id_number": ...}``) on each list.

    Returns one hit per matching list plus one ``stale`` entry per list past its ``fresh_until``
    (a stale list is still checked).  ``keys`` maps ``key_id`` to the HMAC key; the demo key is
    always known.  A list whose key is unknown is reported as stale (it cannot be checked), and
    so is every name in ``expected`` (pass ``pkg.warning_lists``) that is not among ``lists``."""
    known_keys = {DEMO_KEY_ID: DEMO_LIST_KEY, **(keys or {})}
    hits: list[WarningHit] = []
    lists = list(lists)
    present = {wl.name for wl in lists}
    for name in expected:
        if name not in present:
            log.warning("warning list %s is not available on this terminal", name)
            hits.append(
                WarningHit(
                    list_name=name,
                    list_version="",
                    identifier="",
                    matched=False,
                    stale=True,
                    description=_MISSING_LIST,
                    what_follows=_MISSING_LIST,
                    whom_to_ask=_ASK_STAFF,
                )
            )
    for wl in lists:
        matched = False
        usable = True
        value = identifiers.get(wl.identifier)
        if wl.match == "hmac":
            key = known_keys.get(wl.key_id or "")
            if key is None:
                log.warning("warning list %s: unknown key id %s", wl.name, wl.key_id)
                usable = False
            elif value:
                matched = hash_identifier(key, value) in wl.entries
        elif value:
            text = normalise_identifier(value)
            matched = any(normalise_identifier(k) in text for k in wl.entries)
        stale = wl.is_stale(today) or not usable
        if matched or stale:
            hits.append(
                WarningHit(
                    list_name=wl.name,
                    list_version=wl.version,
                    identifier=wl.identifier,
                    matched=matched,
                    stale=stale,
                    description=wl.description,
                    what_follows=wl.what_follows,
                    whom_to_ask=wl.whom_to_ask,
                )
            )
    log.info("warning check: %d matched, %d stale", sum(h.matched for h in hits), sum(h.stale for h in hits))
    return hits
