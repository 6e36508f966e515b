"""The foreigner's permanent residence ID card in the kiosk core: number rules, card checks,
form known values, review inputs, the form's number field and the case's applicant block."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from devices.idcard.sim_cards import EXTRA_CARDS, SIM_CARDS
from devices.interfaces import DocumentKind, ForeignerIdCardText
from kiosk.identity.cards import (
    CardProblem,
    IdNumberReason,
    applicant_fields,
    card_age,
    check_card,
    foreigner_number_birth_date,
    sensitive_values,
    validate_card_number,
    validate_foreigner_id_number,
)
from kiosk.review.engine import build_inputs
from kiosk.review.inputs import _card_value
from kiosk.review.items import load_packages
from kiosk.session.forms import known_values

TODAY = dt.date(2026, 11, 23)
R = IdNumberReason
FOREIGNER = EXTRA_CARDS["foreigner"].text
assert isinstance(FOREIGNER, ForeignerIdCardText)
ITEMS = Path(__file__).resolve().parents[2] / "items"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        # 2017 cards: 3 letters (alpha-3 nationality) + 4-digit acceptance region + YYMMDD + 2 digits
        ("CAN371480010112", R.OK),  # Canada, accepted in Dezhou (3714), born 1980-01-01
        ("usa110199123145", R.OK),  # lower case is normalised; born 1999-12-31
        ("GBR440120022971", R.OK),  # born 2020-02-29 (a leap day)
        ("CAN37148001011", R.BAD_LENGTH),  # 14 characters
        ("CA1371480010112", R.BAD_CHARS),  # a digit among the letters
        ("CAN3714800101X2", R.BAD_CHARS),  # a letter among the digits
        ("CAN991480010112", R.UNKNOWN_REGION),  # 99 is no province
        ("CAN371480130112", R.BAD_BIRTH_DATE),  # month 13
        ("GBR440121022971", R.BAD_BIRTH_DATE),  # 2021-02-29 does not exist
        # 2023 cards: 9 + province + numeric nationality + YYYYMMDD + sequence + MOD 11-2 check
        ("937124198001010014", R.OK),
        ("937124198001010015", R.BAD_CHECKSUM),
        ("937124203001010014", R.BAD_BIRTH_DATE),  # born in 2030: after today
        ("371402195203140022", R.UNKNOWN_REGION),  # a resident number is not a foreigner's number
        ("999124198001010014", R.UNKNOWN_REGION),  # 99 is no province
    ],
)
def test_foreigner_number_table(number: str, reason: IdNumberReason) -> None:
    check = validate_foreigner_id_number(number, today=TODAY)
    assert check.reason is reason
    assert check.ok is (reason is R.OK)


def test_birth_date_century_and_card_kind_dispatch() -> None:
    assert foreigner_number_birth_date("CAN371480010112", TODAY) == dt.date(1980, 1, 1)
    assert foreigner_number_birth_date("GBR440120022971", TODAY) == dt.date(2020, 2, 29)
    assert foreigner_number_birth_date("937124198001010014", TODAY) == dt.date(1980, 1, 1)
    assert validate_card_number(FOREIGNER, TODAY).ok
    assert validate_card_number(SIM_CARDS["senior"].text, TODAY).ok
    # the same string is judged by the rules of the card it is printed on
    resident_with_foreign_number = dataclasses.replace(
        SIM_CARDS["senior"].text, id_number=FOREIGNER.id_number
    )
    assert validate_card_number(resident_with_foreign_number, TODAY).reason is R.BAD_LENGTH


def test_foreigner_card_checks() -> None:
    assert check_card(FOREIGNER, TODAY).ok
    other_country = dataclasses.replace(FOREIGNER, nationality="USA")
    assert check_card(other_country, TODAY).problems == (CardProblem.NATIONALITY_MISMATCH,)
    assert check_card(other_country, TODAY).messages("en") == (
        "The card number does not match the nationality",
    )
    other_birthday = dataclasses.replace(FOREIGNER, birth_date=dt.date(1980, 1, 2))
    assert check_card(other_birthday, TODAY).problems == (CardProblem.BIRTH_DATE_MISMATCH,)
    expired = dataclasses.replace(FOREIGNER, valid_until=dt.date(2025, 1, 15))
    assert check_card(expired, TODAY).problems == (CardProblem.EXPIRED,)
    assert check_card(expired, TODAY).messages() == ("身份证件已过期",)
    garbled = dataclasses.replace(FOREIGNER, id_number="CAN37148001011")
    result = check_card(garbled, TODAY)
    assert result.problems == (CardProblem.ID_NUMBER_INVALID,) and result.id_number.reason is R.BAD_LENGTH
    # 2023 number: sequence 001 is odd (male); the card printed female
    new_card = dataclasses.replace(FOREIGNER, id_number="937124198001010014")
    assert check_card(new_card, TODAY).ok
    assert check_card(dataclasses.replace(new_card, sex="2"), TODAY).problems == (CardProblem.SEX_MISMATCH,)


def test_known_values_for_a_foreigner() -> None:
    known = known_values(FOREIGNER, {}, TODAY)
    assert known["idcard.name"] == "史密斯"
    assert known["idcard.english_name"] == "SMITH, JOHN ALEXANDER"
    assert known["idcard.chinese_name"] == "史密斯"
    assert known["idcard.id_number"] == "CAN371480010112"
    assert known["idcard.nationality"] == "CAN"
    assert known["idcard.document_kind"] == "foreigner_permanent_residence"
    assert known["idcard.birth_date"] == "1980-01-01"
    assert known["idcard.valid_until"] == "2030-01-15"
    assert known["computed.age"] == "46" == str(card_age(FOREIGNER, TODAY))
    assert "idcard.address" not in known and "idcard.nation" not in known  # the card has neither
    resident = known_values(SIM_CARDS["business"].text, {}, TODAY)
    assert resident["idcard.nationality"] == "CHN" and resident["idcard.document_kind"] == "resident_id"
    assert (
        resident["idcard.address"] == "山东省德州市德城区东风中路88号" and resident["idcard.nation"] == "01"
    )
    assert "idcard.english_name" not in resident


def test_review_inputs_and_form_number_field() -> None:
    packages = load_packages(ITEMS)
    pkg = packages["resident-pension"]
    inputs = build_inputs(pkg, FOREIGNER, {}, {}, {}, [], TODAY)
    assert inputs["id_number_valid"] is True
    assert "document_kind" not in inputs  # only what the package declares reaches its rules
    # the card offers it to a package that declares it
    assert _card_value("document_kind", FOREIGNER, TODAY) == "foreigner_permanent_residence"
    assert inputs["age"] == 46 and inputs["card_expired"] is False
    bad = dataclasses.replace(FOREIGNER, id_number="CAN991480010112")
    assert build_inputs(pkg, bad, {}, {}, {}, [], TODAY)["id_number_valid"] is False
    expired = dataclasses.replace(FOREIGNER, valid_until=dt.date(2026, 11, 22))
    assert build_inputs(pkg, expired, {}, {}, {}, [], TODAY)["card_expired"] is True
    other_country = dataclasses.replace(FOREIGNER, nationality="USA")  # number says CAN
    assert build_inputs(pkg, other_country, {}, {}, {}, [], TODAY)["id_number_valid"] is False
    senior = SIM_CARDS["senior"].text
    assert build_inputs(pkg, senior, {}, {}, {}, [], TODAY)["id_number_valid"] is True
    moved = dataclasses.replace(senior, birth_date=dt.date(1952, 3, 15))  # number says 0314
    assert build_inputs(pkg, moved, {}, {}, {}, [], TODAY)["id_number_valid"] is False
    bad_digit = EXTRA_CARDS["bad-check-digit"].text
    assert build_inputs(pkg, bad_digit, {}, {}, {}, [], TODAY)["id_number_valid"] is False
    number_field = next(f for f in pkg.form if f.type == "id_number")
    assert number_field.check("CAN371480010112") is None
    assert number_field.check("937124198001010014") is None
    assert number_field.check("CAN37148001011") == "form.error.id_number"
    assert number_field.check("CANX71480010112") == "form.error.id_number"


def test_applicant_block_and_redaction_values() -> None:
    block = applicant_fields(FOREIGNER)
    assert block["document_kind"] == DocumentKind.FOREIGNER_PERMANENT_RESIDENCE.value
    assert block["nationality"] == "CAN" and block["english_name"] == "SMITH, JOHN ALEXANDER"
    assert block["name"] == "史密斯" and block["address"] == "" and block["id_number"] == "CAN371480010112"
    resident = applicant_fields(SIM_CARDS["senior"].text)
    assert resident["document_kind"] == "resident_id" and resident["card_valid_until"] is None
    assert "english_name" not in resident
    assert sensitive_values(FOREIGNER) == ("SMITH, JOHN ALEXANDER", "史密斯")
    assert sensitive_values(SIM_CARDS["senior"].text) == ("张桂兰", "山东省德州市德城区新湖大街1号")
