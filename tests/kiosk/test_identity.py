"""ID number validation (GB 11643), ages and card validity."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from devices.idcard.sim_cards import SIM_CARDS
from kiosk.identity.cards import (
    IdNumberCheck,
    IdNumberReason,
    age_on,
    birth_date_from_id,
    card_expired,
    card_not_yet_valid,
    check_digit,
    mask_id_number,
    validate_id_number,
)

TODAY = dt.date(2025, 6, 1)
R = IdNumberReason


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("371402195203140022", R.OK),  # senior
        ("37140219880721003X", R.OK),  # business: check character X
        ("37140219880721003x", R.OK),  # typed lower case
        (" 371428197911020016 ", R.OK),  # expired (surrounding blanks ignored)
        ("11010519491231002X", R.OK),  # GB 11643 standard example
        ("371402195203140023", R.BAD_CHECKSUM),
        ("371402198807210030", R.BAD_CHECKSUM),  # X replaced by 0
        ("371402199902300011", R.BAD_BIRTH_DATE),  # 1999-02-30
        ("371402203001010011", R.BAD_BIRTH_DATE),  # in the future
        ("371402185001010011", R.BAD_BIRTH_DATE),  # implausibly old
        ("991402195203140022", R.UNKNOWN_REGION),
        ("001402195203140022", R.UNKNOWN_REGION),
        ("37140219520314002", R.BAD_LENGTH),
        ("3714021952031400221", R.BAD_LENGTH),
        ("", R.BAD_LENGTH),
        ("3714021952031400X2", R.BAD_CHARS),
        ("37140219520314002Y", R.BAD_CHARS),
        ("３71402195203140022", R.BAD_CHARS),  # full-width digit
    ],
)
def test_validate_table(number: str, reason: IdNumberReason) -> None:
    assert validate_id_number(number, today=TODAY) == IdNumberCheck(ok=reason is R.OK, reason=reason)


def test_reason_values_are_stable() -> None:
    assert [r.value for r in IdNumberReason] == [
        "ok",
        "bad_length",
        "bad_chars",
        "bad_checksum",
        "bad_birth_date",
        "unknown_region",
    ]


def test_check_digit() -> None:
    assert check_digit("37140219880721003") == "X"
    assert check_digit("37140219520314002") == "2"
    with pytest.raises(ValueError):
        check_digit("123")


def test_check_is_frozen() -> None:
    check = validate_id_number("371402195203140022", today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.ok = False  # type: ignore[misc]


def test_demo_citizens_are_valid_and_consistent() -> None:
    for sim in SIM_CARDS.values():
        assert validate_id_number(sim.text.id_number, today=TODAY).ok
        assert birth_date_from_id(sim.text.id_number) == sim.text.birth_date


def test_birth_date_from_id() -> None:
    assert birth_date_from_id("37140219880721003X") == dt.date(1988, 7, 21)
    with pytest.raises(ValueError):
        birth_date_from_id("371402199902300011")
    with pytest.raises(ValueError):
        birth_date_from_id("12345")


@pytest.mark.parametrize(
    ("who", "on", "age"),
    [
        ("371402195203140022", dt.date(2012, 3, 13), 59),
        ("371402195203140022", dt.date(2012, 3, 14), 60),  # 60 on the birthday
        ("371402195203140022", TODAY, 73),
        ("37140219880721003X", TODAY, 36),
        ("371428197911020016", TODAY, 45),
        (dt.date(2000, 2, 29), dt.date(2018, 2, 28), 17),
        (dt.date(2000, 2, 29), dt.date(2018, 3, 1), 18),
    ],
)
def test_age_on(who: str | dt.date, on: dt.date, age: int) -> None:
    assert age_on(who, on) == age


def test_age_before_birth_rejected() -> None:
    with pytest.raises(ValueError):
        age_on("37140219880721003X", dt.date(1980, 1, 1))


def test_card_expired() -> None:
    expired = SIM_CARDS["expired"].text
    assert not card_expired(expired, dt.date(2024, 5, 10))  # last valid day
    assert card_expired(expired, dt.date(2024, 5, 11))
    assert card_expired(expired, TODAY)
    assert not card_expired(SIM_CARDS["senior"].text, dt.date(2099, 1, 1))  # 长期
    assert not card_expired(SIM_CARDS["business"].text, TODAY)
    assert card_expired(SIM_CARDS["business"].text, dt.date(2038, 9, 11))
    assert card_not_yet_valid(SIM_CARDS["business"].text, dt.date(2018, 9, 9))
    assert not card_not_yet_valid(SIM_CARDS["business"].text, dt.date(2018, 9, 10))


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("37140219880721003X", "3714**********003X"),
        ("371402195203140022", "3714**********0022"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_id_number(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked
