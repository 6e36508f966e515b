"""Resident identity numbers (GB 11643-1999), foreigner's permanent residence numbers, and
ID card validity.

The 18-character number is: 6-digit administrative region, 8-digit birth date
``YYYYMMDD``, 3-digit sequence (odd = male), and an ISO 7064 MOD 11-2 check
character (``0``-``9`` or ``X``).

Foreigner's permanent residence ID card (外国人永久居留身份证) numbers, as far as the public
material we could read states them:

* 2017 cards (what the 2017 text-block layout carries, 15 characters): 3 Latin letters
  (the ISO 3166-1 alpha-3 nationality) + 12 digits: 4-digit acceptance region (the first
  two a GB/T 2260 province), 6-digit birth date ``YYMMDD``, 1 sequence digit, 1 check
  digit.  The check-digit algorithm is not stated in what we could verify, so it is not
  checked; everything else is, including that the letters and the date agree with the card.
* 2023 cards (18 digits): ``9`` + 2-digit province of acceptance + 3-digit numeric
  nationality code + ``YYYYMMDD`` + 3-digit sequence (odd = male) + ISO 7064 MOD 11-2 check
  character, the same check as the resident number (National Immigration Administration's
  machine-readable rules for the 2023 card).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import Final

from devices.interfaces import AnyIdCardText, ForeignerIdCardText, IdCardText

logger = logging.getLogger(__name__)

ID_NUMBER_LENGTH: Final = 18
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
_EARLIEST_BIRTH_YEAR: Final = 1880

#: First two digits of the region code: provinces, autonomous regions, municipalities
#: (GB/T 2260), plus 71 Taiwan, 81 Hong Kong, 82 Macao, 83 Taiwan residence permits.
PROVINCE_CODES: Final[dict[str, str]] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
    "83": "台湾居民居住证",
}


class IdNumberReason(enum.Enum):
    """Why an ID number is (not) valid.  Values are stable identifiers (translation keys)."""

    OK = "ok"
    BAD_LENGTH = "bad_length"
    BAD_CHARS = "bad_chars"
    BAD_CHECKSUM = "bad_checksum"
    BAD_BIRTH_DATE = "bad_birth_date"
    UNKNOWN_REGION = "unknown_region"


@dataclass(frozen=True)
class IdNumberCheck:
    """Result of :func:`validate_id_number`.  Holds no part of the number itself."""

    ok: bool
    reason: IdNumberReason


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != ID_NUMBER_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(s: str) -> str:
    """Strip surrounding whitespace and upper-case a trailing ``x``."""
    return s.strip().upper()


def _birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def validate_id_number(s: str, today: dt.date | None = None) -> IdNumberCheck:
    """Check an 18-character resident ID number.

    Checks, in order: length, characters (17 digits + digit/``X``; a lower-case ``x``
    is accepted), province code, birth date (a real date, not before 1880, not after
    ``today``), check character.
    """
    number = normalize_id_number(s)

    def fail(reason: IdNumberReason) -> IdNumberCheck:
        return IdNumberCheck(ok=False, reason=reason)

    if len(number) != ID_NUMBER_LENGTH:
        return fail(IdNumberReason.BAD_LENGTH)
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (last == "X" or (last.isascii() and last.isdigit()))):
        return fail(IdNumberReason.BAD_CHARS)
    if number[:2] not in PROVINCE_CODES:
        return fail(IdNumberReason.UNKNOWN_REGION)
    birth = _birth_date(number)
    today = today if today is not None else dt.date.today()
    if birth is None or birth.year < _EARLIEST_BIRTH_YEAR or birth > today:
        return fail(IdNumberReason.BAD_BIRTH_DATE)
    if check_digit(body) != last:
        return fail(IdNumberReason.BAD_CHECKSUM)
    return IdNumberCheck(ok=True, reason=IdNumberReason.OK)


def birth_date_from_id(id_number: str) -> dt.date:
    """The birth date encoded in an 18-character number.  Raises ``ValueError`` if there is none."""
    number = normalize_id_number(id_number)
    if len(number) != ID_NUMBER_LENGTH or not number[6:14].isdigit():
        raise ValueError("not an 18-character ID number")
    birth = _birth_date(number)
    if birth is None:
        raise ValueError("ID number holds no valid birth date")
    return birth


def age_on(id_number_or_birth: str | dt.date, on: dt.date) -> int:
    """Age in completed years on ``on`` (a birthday counts on its day; 29 Feb -> 1 Mar)."""
    birth = (
        id_number_or_birth
        if isinstance(id_number_or_birth, dt.date)
        else birth_date_from_id(id_number_or_birth)
    )
    if on < birth:
        raise ValueError("date is before the birth date")
    had_birthday = (on.month, on.day) >= (birth.month, birth.day)
    return on.year - birth.year - (0 if had_birthday else 1)


def card_expired(text: AnyIdCardText, today: dt.date) -> bool:
    """Whether the card is out of its validity period on ``today``.

    The valid-until date is the last day of validity; a long-term card (长期) never expires.
    A card whose valid-from lies in the future is not expired (it is not yet valid).
    """
    return text.valid_until is not None and today > text.valid_until


def card_not_yet_valid(text: AnyIdCardText, today: dt.date) -> bool:
    """Whether the card's validity period has not started on ``today``."""
    return today < text.valid_from


def mask_id_number(s: str) -> str:
    """For display and logs: the first 4 and last 4 characters, the rest ``*``.

    ``371402195203140022`` -> ``3714**********0022``.  Numbers shorter than 9 are fully masked.
    """
    number = s.strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


class CardProblem(enum.Enum):
    """Why a card read cannot be used as identity.  Values are stable identifiers."""

    ID_NUMBER_INVALID = "id_number_invalid"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"  # the number's birth date != the printed one
    SEX_MISMATCH = "sex_mismatch"  # sequence parity (odd = male) != the printed sex
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NATIONALITY_MISMATCH = "nationality_mismatch"  # foreigner card: number's nationality != printed


#: Messages for the citizen (Simplified Chinese, English).
CARD_PROBLEM_MESSAGES: Final[dict[CardProblem, tuple[str, str]]] = {
    CardProblem.ID_NUMBER_INVALID: ("身份证号码无效", "The ID number is invalid"),
    CardProblem.BIRTH_DATE_MISMATCH: (
        "身份证号码与出生日期不符",
        "The ID number does not match the birth date",
    ),
    CardProblem.SEX_MISMATCH: ("身份证号码与性别不符", "The ID number does not match the sex"),
    CardProblem.NATIONALITY_MISMATCH: (
        "证件号码与国籍不符",
        "The card number does not match the nationality",
    ),
    CardProblem.EXPIRED: ("身份证件已过期", "The ID card has expired"),
    CardProblem.NOT_YET_VALID: ("身份证件尚未生效", "The ID card is not yet valid"),
}


@dataclass(frozen=True)
class CardCheck:
    """Result of :func:`check_card`: every problem found, in a stable order.  No personal data."""

    problems: tuple[CardProblem, ...]
    id_number: IdNumberCheck

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self, lang: str = "zh") -> tuple[str, ...]:
        """The citizen-facing messages of the problems (``"zh"`` or ``"en"``)."""
        index = 0 if lang == "zh" else 1
        return tuple(CARD_PROBLEM_MESSAGES[p][index] for p in self.problems)


def check_card(text: AnyIdCardText, today: dt.date) -> CardCheck:
    """Check a card read: valid number, number consistent with the printed birth date and sex
    (and nationality on a foreigner's card), and inside its validity period on ``today``."""
    if isinstance(text, ForeignerIdCardText):
        return _check_foreigner_card(text, today)
    number_check = validate_id_number(text.id_number, today=today)
    problems: list[CardProblem] = []
    if not number_check.ok:
        problems.append(CardProblem.ID_NUMBER_INVALID)
    else:
        number = normalize_id_number(text.id_number)
        if _birth_date(number) != text.birth_date:
            problems.append(CardProblem.BIRTH_DATE_MISMATCH)
        if text.sex in ("1", "2") and (int(number[16]) % 2 == 1) != (text.sex == "1"):
            problems.append(CardProblem.SEX_MISMATCH)
    problems.extend(_validity_problems(text, today))
    return CardCheck(problems=tuple(problems), id_number=number_check)


def _validity_problems(text: AnyIdCardText, today: dt.date) -> list[CardProblem]:
    problems: list[CardProblem] = []
    if card_expired(text, today):
        problems.append(CardProblem.EXPIRED)
    if card_not_yet_valid(text, today):
        problems.append(CardProblem.NOT_YET_VALID)
    return problems


# ------------------------------------------------------------- foreigner's permanent residence card
FOREIGNER_NUMBER_2017_LENGTH: Final = 15
FOREIGNER_NUMBER_2023_PREFIX: Final = "9"


def _foreigner_2017_birth(number: str, today: dt.date) -> dt.date | None:
    """The ``YYMMDD`` birth date of a 15-character number, in the latest century not after today."""
    yy, mm, dd = int(number[7:9]), int(number[9:11]), int(number[11:13])
    for century in (2000, 1900, 1800):
        try:
            birth = dt.date(century + yy, mm, dd)
        except ValueError:
            return None
        if birth <= today:
            return birth
    return None


def foreigner_number_birth_date(s: str, today: dt.date | None = None) -> dt.date | None:
    """The birth date a foreigner's number encodes (``None`` when it holds no valid one)."""
    number = normalize_id_number(s)
    today = today if today is not None else dt.date.today()
    if len(number) == FOREIGNER_NUMBER_2017_LENGTH and number[7:13].isdigit():
        return _foreigner_2017_birth(number, today)
    if len(number) == ID_NUMBER_LENGTH and number[6:14].isdigit():
        return _birth_date(number)
    return None


def validate_foreigner_id_number(s: str, today: dt.date | None = None) -> IdNumberCheck:
    """Check a foreigner's permanent residence number (2017: 15 characters; 2023: 18 digits
    starting with 9; see the module doc for what is and is not checked)."""
    number = normalize_id_number(s)
    today = today if today is not None else dt.date.today()

    def fail(reason: IdNumberReason) -> IdNumberCheck:
        return IdNumberCheck(ok=False, reason=reason)

    if len(number) == FOREIGNER_NUMBER_2017_LENGTH:
        letters, digits = number[:3], number[3:]
        if not (letters.isascii() and letters.isalpha() and digits.isascii() and digits.isdigit()):
            return fail(IdNumberReason.BAD_CHARS)
        if number[3:5] not in PROVINCE_CODES:
            return fail(IdNumberReason.UNKNOWN_REGION)
        birth = _foreigner_2017_birth(number, today)
        if birth is None or birth.year < _EARLIEST_BIRTH_YEAR:
            return fail(IdNumberReason.BAD_BIRTH_DATE)
        return IdNumberCheck(ok=True, reason=IdNumberReason.OK)
    if len(number) != ID_NUMBER_LENGTH:
        return fail(IdNumberReason.BAD_LENGTH)
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit() and (last == "X" or (last.isascii() and last.isdigit()))):
        return fail(IdNumberReason.BAD_CHARS)
    if not number.startswith(FOREIGNER_NUMBER_2023_PREFIX) or number[1:3] not in PROVINCE_CODES:
        return fail(IdNumberReason.UNKNOWN_REGION)
    birth = _birth_date(number)
    if birth is None or birth.year < _EARLIEST_BIRTH_YEAR or birth > today:
        return fail(IdNumberReason.BAD_BIRTH_DATE)
    if check_digit(body) != last:
        return fail(IdNumberReason.BAD_CHECKSUM)
    return IdNumberCheck(ok=True, reason=IdNumberReason.OK)


def validate_card_number(text: AnyIdCardText, today: dt.date | None = None) -> IdNumberCheck:
    """The number check that fits the card's kind."""
    if isinstance(text, ForeignerIdCardText):
        return validate_foreigner_id_number(text.id_number, today)
    return validate_id_number(text.id_number, today)


def _check_foreigner_card(text: ForeignerIdCardText, today: dt.date) -> CardCheck:
    number_check = validate_foreigner_id_number(text.id_number, today=today)
    problems: list[CardProblem] = []
    if not number_check.ok:
        problems.append(CardProblem.ID_NUMBER_INVALID)
    else:
        number = normalize_id_number(text.id_number)
        if foreigner_number_birth_date(number, today) != text.birth_date:
            problems.append(CardProblem.BIRTH_DATE_MISMATCH)
        if len(number) == FOREIGNER_NUMBER_2017_LENGTH:
            if number[:3] != text.nationality.strip().upper():
                problems.append(CardProblem.NATIONALITY_MISMATCH)
        elif text.sex in ("1", "2") and (int(number[16]) % 2 == 1) != (text.sex == "1"):
            problems.append(CardProblem.SEX_MISMATCH)
    problems.extend(_validity_problems(text, today))
    return CardCheck(problems=tuple(problems), id_number=number_check)


def card_age(text: AnyIdCardText, today: dt.date) -> int:
    """Age in completed years on ``today``: from the ID number on a resident card (as before),
    from the printed birth date on a foreigner's card."""
    if isinstance(text, IdCardText):
        return age_on(text.id_number, today)
    return age_on(text.birth_date, today)


def sensitive_values(text: AnyIdCardText) -> tuple[str, ...]:
    """The card's personal strings that logs must redact (names, address)."""
    if isinstance(text, ForeignerIdCardText):
        return tuple(v for v in (text.english_name, text.chinese_name) if v)
    return tuple(v for v in (text.name, text.address) if v)


def card_address(text: AnyIdCardText) -> str:
    """The address printed on the card; ``""`` for a foreigner's card, which has none."""
    return text.address if isinstance(text, IdCardText) else ""


def applicant_fields(text: AnyIdCardText) -> dict[str, str | None]:
    """The applicant block of a case record: what the card says, with the document kind."""
    fields: dict[str, str | None] = {
        "name": text.name,
        "id_number": text.id_number,
        "sex": text.sex,
        "address": card_address(text),
        "card_valid_until": text.valid_until.isoformat() if text.valid_until else None,
        "document_kind": text.kind.value,
        "nationality": text.nationality,
    }
    if isinstance(text, ForeignerIdCardText):
        fields["english_name"] = text.english_name
        fields["chinese_name"] = text.chinese_name
    return fields


#: The problems of :func:`check_card` that concern the number itself or its agreement with the
#: printed fields (not the validity period).
NUMBER_PROBLEMS: Final = frozenset(
    {
        CardProblem.ID_NUMBER_INVALID,
        CardProblem.BIRTH_DATE_MISMATCH,
        CardProblem.SEX_MISMATCH,
        CardProblem.NATIONALITY_MISMATCH,
    }
)


def card_number_ok(text: AnyIdCardText, today: dt.date) -> bool:
    """The number is valid by its card's rules and agrees with the printed birth date and sex
    (nationality on a foreigner's card): the review input ``id_number_valid``."""
    return not NUMBER_PROBLEMS.intersection(check_card(text, today).problems)
