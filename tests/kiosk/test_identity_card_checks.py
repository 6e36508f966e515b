"""Region prefixes in the ID number validator, and whole-card checks with their messages."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from devices.idcard.sim_cards import EXTRA_CARDS, SIM_CARDS
from devices.interfaces import IdCardText
from kiosk.identity.cards import (
    CARD_PROBLEM_MESSAGES,
    PROVINCE_CODES,
    CardProblem,
    IdNumberReason,
    check_card,
    validate_id_number,
)

TODAY = dt.date(2025, 6, 1)
R = IdNumberReason


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        # GB/T 2260 first two digits: provinces, municipalities, autonomous regions, SARs, Taiwan
        ("110101198001011232", R.OK),  # 11 Beijing
        ("370101198001011230", R.OK),  # 37 Shandong
        ("460101198001011232", R.OK),  # 46 Hainan
        ("500101198001011235", R.OK),  # 50 Chongqing
        ("540101198001011232", R.OK),  # 54 Tibet
        ("650102198001011234", R.OK),  # 65 Xinjiang
        ("710000198001011232", R.OK),  # 71 Taiwan
        ("810000198001011236", R.OK),  # 81 Hong Kong (residence permit)
        ("820000198001011238", R.OK),  # 82 Macao (residence permit)
        ("83000019800101123X", R.OK),  # 83 Taiwan residents' residence permit
        # correct check characters, but no such region: the region is what fails
        ("100101198001011230", R.UNKNOWN_REGION),  # 10: below the first province (11)
        ("190101198001011237", R.UNKNOWN_REGION),  # 19: gap between 15 and 21
        ("720101198001011236", R.UNKNOWN_REGION),  # 72: only 71 in the 7x block
        ("840101198001011233", R.UNKNOWN_REGION),  # 84: after 83
        ("90010119800101123X", R.UNKNOWN_REGION),  # 90: not assigned
    ],
)
def test_region_prefix_table(number: str, reason: IdNumberReason) -> None:
    assert validate_id_number(number, today=TODAY).reason is reason


def test_province_table_has_the_34_divisions_and_permits() -> None:
    assert len(PROVINCE_CODES) == 35  # 31 mainland + 71 + 81 + 82 + 83
    assert {"11", "37", "65", "71", "81", "82", "83"} <= set(PROVINCE_CODES)


def test_demo_cards() -> None:
    assert check_card(SIM_CARDS["senior"].text, TODAY).ok
    assert check_card(SIM_CARDS["business"].text, TODAY).ok
    expired = check_card(SIM_CARDS["expired"].text, TODAY)
    assert expired.problems == (CardProblem.EXPIRED,)
    assert expired.messages() == ("身份证件已过期",)
    assert expired.messages("en") == ("The ID card has expired",)
    assert check_card(SIM_CARDS["expired"].text, dt.date(2024, 5, 10)).ok  # last valid day


def test_bad_check_digit_card() -> None:
    text = EXTRA_CARDS["bad-check-digit"].text
    assert isinstance(text, IdCardText)
    result = check_card(text, TODAY)
    assert result.problems == (CardProblem.ID_NUMBER_INVALID,)
    assert result.id_number.reason is IdNumberReason.BAD_CHECKSUM


def test_long_term_card_never_expires() -> None:
    text = EXTRA_CARDS["fingerprint"].text
    assert isinstance(text, IdCardText) and text.valid_until is None
    assert check_card(text, dt.date(2090, 1, 1)).ok


def test_mismatches_and_not_yet_valid() -> None:
    senior = SIM_CARDS["senior"].text
    moved = dataclasses.replace(senior, birth_date=dt.date(1952, 3, 15))
    assert check_card(moved, TODAY).problems == (CardProblem.BIRTH_DATE_MISMATCH,)
    male = dataclasses.replace(senior, sex="1")  # sequence 002: even = female
    assert check_card(male, TODAY).problems == (CardProblem.SEX_MISMATCH,)
    future = dataclasses.replace(SIM_CARDS["business"].text, valid_from=dt.date(2026, 1, 1))
    result = check_card(future, TODAY)
    assert result.problems == (CardProblem.NOT_YET_VALID,)
    assert result.messages() == ("身份证件尚未生效",)


def test_every_problem_has_messages_and_stable_values() -> None:
    assert set(CARD_PROBLEM_MESSAGES) == set(CardProblem)
    assert [p.value for p in CardProblem] == [
        "id_number_invalid",
        "birth_date_mismatch",
        "sex_mismatch",
        "expired",
        "not_yet_valid",
        "nationality_mismatch",
    ]
