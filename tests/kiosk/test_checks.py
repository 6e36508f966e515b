import datetime as dt

import pytest

from kiosk.review import checks


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91350100m000100y43", " 91350100M000100Y43 "])
def test_uscc_valid(code: str) -> None:
    assert checks.is_uscc(code)


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100Y4",  # too short
        "91350100M000100Y430",  # too long
        "91350100M0001O0Y43",  # letter O is not in the GB 32100 alphabet
        "9135010AM000100Y43",  # region code must be digits
        "",
    ],
)
def test_uscc_invalid(code: str) -> None:
    assert not checks.is_uscc(code)


def test_uscc_check_char_round_trip() -> None:
    assert checks.uscc_check_char("91350100M000100Y4") == "3"
    body = "92371402MA3C000001"[:17]
    assert checks.is_uscc(body + checks.uscc_check_char(body))
    with pytest.raises(ValueError):
        checks.uscc_check_char("91350100M000100I4")


@pytest.mark.parametrize("phone", ["13905340000", "+86 139 0534 0000", "86-13905340000", "19912345678"])
def test_mobile_valid(phone: str) -> None:
    assert checks.is_cn_mobile(phone)


@pytest.mark.parametrize("phone", ["12905340000", "1390534000", "139053400001", "0534-2345678", "abc", ""])
def test_mobile_invalid(phone: str) -> None:
    assert not checks.is_cn_mobile(phone)


def test_postal_code() -> None:
    assert checks.is_postal_code("253000")
    assert not checks.is_postal_code("25300")
    assert not checks.is_postal_code("25300a")


def test_dates() -> None:
    assert checks.parse_iso_date("2024-05-10") == dt.date(2024, 5, 10)
    assert checks.parse_iso_date("20240510") == dt.date(2024, 5, 10)
    assert checks.parse_iso_date("2024-02-30") is None
    d = dt.date(2024, 5, 10)
    assert checks.date_in_range(d, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert checks.date_in_range(d, None, None)
    assert not checks.date_in_range(d, dt.date(2024, 5, 11))
    assert not checks.date_in_range(d, None, dt.date(2024, 5, 9))


def test_age_from_birth_date() -> None:
    birth = dt.date(1952, 3, 14)
    assert checks.age_from_birth_date(birth, dt.date(2012, 3, 13)) == 59
    assert checks.age_from_birth_date(birth, dt.date(2012, 3, 14)) == 60
    leap = dt.date(2000, 2, 29)
    assert checks.age_from_birth_date(leap, dt.date(2018, 2, 28)) == 17
    assert checks.age_from_birth_date(leap, dt.date(2018, 3, 1)) == 18
    with pytest.raises(ValueError):
        checks.age_from_birth_date(birth, dt.date(1950, 1, 1))
