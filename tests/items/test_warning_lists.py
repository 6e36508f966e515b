import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.review.warnings import (
    DEMO_LIST_KEY,
    WarningListRejected,
    check_warnings,
    hash_identifier,
    load_warning_list,
    load_warning_lists,
)

ROOT = Path(__file__).resolve().parents[2]
LISTS = ROOT / "items" / "warning_lists"
TODAY = dt.date(2026, 11, 23)
BUSINESS_ID = "37140219880721003X"
LISTED_USCC = "91371402MA3C67890Y"  # made up, valid check character


def test_lists_load_and_hold_no_clear_identifiers() -> None:
    lists = load_warning_lists(LISTS)
    assert set(lists) == {
        "dishonest_persons",
        "dishonest_entities",
        "abnormal_operation",
        "market_access_negative",
    }
    raw = (LISTS / "dishonest_persons.json").read_text("utf-8")
    assert BUSINESS_ID not in raw and BUSINESS_ID.lower() not in raw
    assert hash_identifier(DEMO_LIST_KEY, BUSINESS_ID) in lists["dishonest_persons"].entries


@pytest.mark.parametrize(
    "ident",
    [BUSINESS_ID, "37140219880721003x", " 371402 19880721003X ", "３７１４０２１９８８０７２１００３Ｘ"],
)
def test_dishonest_hit_survives_normalisation(ident: str) -> None:
    lists = load_warning_lists(LISTS)
    hits = check_warnings(lists.values(), {"id_number": ident}, today=TODAY)
    assert [(h.list_name, h.matched, h.stale) for h in hits] == [("dishonest_persons", True, False)]
    assert "人工审核" in hits[0].what_follows.zh


def test_no_hit_for_others_and_keyword_list() -> None:
    lists = load_warning_lists(LISTS)
    assert check_warnings(lists.values(), {"id_number": "371402195203140022"}, today=TODAY) == []
    hits = check_warnings(lists.values(), {"business_scope": "烟花爆竹零售；日用百货"}, today=TODAY)
    assert [h.list_name for h in hits] == ["market_access_negative"]
    hits = check_warnings(lists.values(), {"business_name": "德城区示例歇业商店"}, today=TODAY)
    assert [h.list_name for h in hits] == ["abnormal_operation"]


def test_a_legal_person_is_found_by_its_uscc() -> None:
    """dishonest_entities carries USCCs (GB 32100), checked as an ID number is: normalised, hashed."""
    lists = load_warning_lists(LISTS)
    assert lists["dishonest_entities"].identifier == "uscc"
    raw = (LISTS / "dishonest_entities.json").read_text("utf-8")
    assert LISTED_USCC not in raw
    hits = check_warnings(lists.values(), {"uscc": " 91371402ma3c67890y"}, today=TODAY)
    assert [(h.list_name, h.matched) for h in hits] == [("dishonest_entities", True)]
    assert check_warnings(lists.values(), {"uscc": "91371402MA3C123452"}, today=TODAY) == []
    # a person's ID number is never looked up on a list of USCCs, nor a USCC on a list of persons
    assert check_warnings([lists["dishonest_entities"]], {"id_number": LISTED_USCC}, today=TODAY) == []
    assert check_warnings([lists["dishonest_persons"]], {"uscc": BUSINESS_ID}, today=TODAY) == []


def test_stale_and_missing_lists() -> None:
    lists = load_warning_lists(LISTS)
    later = dt.date(2031, 1, 1)
    hits = check_warnings([lists["dishonest_persons"]], {"id_number": "371402195203140022"}, today=later)
    assert [(h.matched, h.stale) for h in hits] == [(False, True)]
    hits = check_warnings([], {}, today=TODAY, expected=["dishonest_persons"])
    assert [(h.list_name, h.stale) for h in hits] == [("dishonest_persons", True)]


def test_unknown_key_is_stale() -> None:
    doc = json.loads((LISTS / "dishonest_persons.json").read_text("utf-8"))
    doc["key_id"] = "prod-2026"
    wl = load_warning_list(json.dumps(doc).encode())
    hits = check_warnings([wl], {"id_number": BUSINESS_ID}, today=TODAY)
    assert [(h.matched, h.stale) for h in hits] == [(False, True)]
    key = b"k" * 32
    doc["entries"] = [hash_identifier(key, BUSINESS_ID)]
    wl = load_warning_list(json.dumps(doc).encode())
    hits = check_warnings([wl], {"id_number": BUSINESS_ID}, today=TODAY, keys={"prod-2026": key})
    assert [(h.matched, h.stale) for h in hits] == [(True, False)]


def test_bad_lists_refused() -> None:
    doc = json.loads((LISTS / "dishonest_persons.json").read_text("utf-8"))
    doc["entries"] = [BUSINESS_ID]  # clear identifier in an HMAC list
    with pytest.raises(WarningListRejected):
        load_warning_list(json.dumps(doc).encode())
    with pytest.raises(WarningListRejected):
        load_warning_list(b"not json")


def test_make_warning_list_tool(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "items" / "tools" / "make_warning_list.py"),
            "test_list",
            "id_number",
            "371428197911020016",
            "--version",
            "1",
            "--fresh-until",
            "2030-01-01",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "371428197911020016" not in out
    wl = load_warning_list(out.encode())
    assert check_warnings([wl], {"id_number": "371428197911020016"}, today=TODAY)[0].matched
