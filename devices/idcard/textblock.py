"""The 256-byte text block of the resident ID card (GA/T 467): UCS-2LE, fixed-width fields.

Layout (bytes): name 30, sex 2, nation 4, birth date 16, address 70, ID number 36,
issuing authority 30, valid from 16, valid until 16, reserved 36.  Each field is
space-padded; dates are ``YYYYMMDD``; a long-term card has "长期" in valid-until.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from devices.base import ProtocolError
from devices.interfaces import ForeignerIdCardText, IdCardText

TEXT_BLOCK_SIZE: Final = 256
LONG_TERM: Final = "长期"

#: (field, width in bytes), in block order.
FIELDS: Final[tuple[tuple[str, int], ...]] = (
    ("name", 30),
    ("sex", 2),
    ("nation", 4),
    ("birth_date", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_until", 16),
    ("reserved", 36),
)
assert sum(width for _, width in FIELDS) == TEXT_BLOCK_SIZE

SEX_NAMES: Final[dict[str, tuple[str, str]]] = {
    "0": ("未知", "unknown"),
    "1": ("男", "male"),
    "2": ("女", "female"),
    "9": ("未说明", "unspecified"),
}

#: GB/T 3304 nationality codes -> Chinese name (as printed on the card: without 族).
NATIONS: Final[dict[str, str]] = {
    "01": "汉",
    "02": "蒙古",
    "03": "回",
    "04": "藏",
    "05": "维吾尔",
    "06": "苗",
    "07": "彝",
    "08": "壮",
    "09": "布依",
    "10": "朝鲜",
    "11": "满",
    "12": "侗",
    "13": "瑶",
    "14": "白",
    "15": "土家",
    "16": "哈尼",
    "17": "哈萨克",
    "18": "傣",
    "19": "黎",
    "20": "傈僳",
    "21": "佤",
    "22": "畲",
    "23": "高山",
    "24": "拉祜",
    "25": "水",
    "26": "东乡",
    "27": "纳西",
    "28": "景颇",
    "29": "柯尔克孜",
    "30": "土",
    "31": "达斡尔",
    "32": "仫佬",
    "33": "羌",
    "34": "布朗",
    "35": "撒拉",
    "36": "毛南",
    "37": "仡佬",
    "38": "锡伯",
    "39": "阿昌",
    "40": "普米",
    "41": "塔吉克",
    "42": "怒",
    "43": "乌孜别克",
    "44": "俄罗斯",
    "45": "鄂温克",
    "46": "德昂",
    "47": "保安",
    "48": "裕固",
    "49": "京",
    "50": "塔塔尔",
    "51": "独龙",
    "52": "鄂伦春",
    "53": "赫哲",
    "54": "门巴",
    "55": "珞巴",
    "56": "基诺",
    "97": "其他",
    "98": "外国血统中国籍人士",
}


def nation_name(code: str) -> str:
    """Display name for a GB/T 3304 code ("01" -> "汉"); unknown codes come back as themselves."""
    return NATIONS.get(code, code)


def sex_name(code: str, lang: str = "zh") -> str:
    """Display name of a GB/T 2261.1 sex code in ``"zh"`` or ``"en"``."""
    names = SEX_NAMES.get(code)
    if names is None:
        return code
    return names[0] if lang == "zh" else names[1]


class TextBlockError(ProtocolError):
    """The text block is malformed.  Messages never contain field contents."""


def _encode_field(name: str, value: str, width: int) -> bytes:
    raw = value.encode("utf-16-le")
    if len(raw) != 2 * len(value):
        raise ValueError(f"field {name}: characters outside UCS-2")
    if len(raw) > width:
        raise ValueError(f"field {name}: {len(value)} chars exceed {width // 2}")
    return raw + " ".encode("utf-16-le") * ((width - len(raw)) // 2)


def _date_str(value: dt.date) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def encode_text_block(text: IdCardText) -> bytes:
    """The 256-byte block for ``text`` (space padded).  Raises ``ValueError`` if a field does not fit."""
    values = {
        "name": text.name,
        "sex": text.sex,
        "nation": text.nation,
        "birth_date": _date_str(text.birth_date),
        "address": text.address,
        "id_number": text.id_number,
        "authority": text.authority,
        "valid_from": _date_str(text.valid_from),
        "valid_until": LONG_TERM if text.valid_until is None else _date_str(text.valid_until),
        "reserved": "",
    }
    block = b"".join(_encode_field(name, values[name], width) for name, width in FIELDS)
    assert len(block) == TEXT_BLOCK_SIZE
    return block


def _parse_date(field: str, value: str) -> dt.date:
    if len(value) != 8 or not value.isdigit():
        raise TextBlockError(f"field {field}: not a YYYYMMDD date")
    try:
        return dt.date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as err:
        raise TextBlockError(f"field {field}: invalid date") from err


def split_fields(raw: bytes) -> dict[str, str]:
    """The block's fields as stripped strings (padding spaces and NULs removed)."""
    if len(raw) != TEXT_BLOCK_SIZE:
        raise TextBlockError(f"text block is {len(raw)} bytes, expected {TEXT_BLOCK_SIZE}")
    out: dict[str, str] = {}
    offset = 0
    for name, width in FIELDS:
        chunk = raw[offset : offset + width]
        offset += width
        try:
            out[name] = chunk.decode("utf-16-le").rstrip(" \x00").strip()
        except UnicodeDecodeError as err:
            raise TextBlockError(f"field {name}: not UCS-2LE") from err
    return out


def parse_text_block(raw: bytes) -> IdCardText:
    """Parse the 256-byte block.  Raises :class:`TextBlockError` when it is malformed."""
    f = split_fields(raw)
    for required in ("name", "sex", "nation", "id_number"):
        if not f[required]:
            raise TextBlockError(f"field {required}: empty")
    valid_until = None if f["valid_until"] == LONG_TERM else _parse_date("valid_until", f["valid_until"])
    return IdCardText(
        name=f["name"],
        sex=f["sex"],
        nation=f["nation"],
        birth_date=_parse_date("birth_date", f["birth_date"]),
        address=f["address"],
        id_number=f["id_number"],
        authority=f["authority"],
        valid_from=_parse_date("valid_from", f["valid_from"]),
        valid_until=valid_until,
    )


# ------------------------------------------------------------- foreigner's permanent residence card
#: (field, width in bytes) of the 外国人永久居留身份证 text block (2017 layout), in block order.
FOREIGNER_FIELDS: Final[tuple[tuple[str, int], ...]] = (
    ("english_name", 120),
    ("sex", 2),
    ("id_number", 30),  # 15-character permanent residence number
    ("nationality", 6),  # ISO 3166-1 alpha-3, e.g. "CAN"
    ("chinese_name", 30),
    ("valid_from", 16),
    ("valid_until", 16),
    ("birth_date", 16),
    ("card_version", 4),
    ("authority_code", 8),  # issuing authority code, e.g. "1500" (National Immigration Administration)
    ("card_type", 2),  # "I" on this card
    ("reserved", 6),
)
assert sum(width for _, width in FOREIGNER_FIELDS) == TEXT_BLOCK_SIZE
FOREIGNER_CARD_TYPE: Final = "I"  # the default of ForeignerIdCardText.card_type
#: Byte offset of the card type character, the same in every layout (spaces on resident cards).
CARD_TYPE_OFFSET: Final = 248


def card_type_of(raw: bytes) -> str:
    """The card type character of a text block: "I" foreigner, "J" HK/Macao/Taiwan, "" resident."""
    if len(raw) != TEXT_BLOCK_SIZE:
        raise TextBlockError(f"text block is {len(raw)} bytes, expected {TEXT_BLOCK_SIZE}")
    try:
        return raw[CARD_TYPE_OFFSET : CARD_TYPE_OFFSET + 2].decode("utf-16-le").strip(" \x00")
    except UnicodeDecodeError as err:
        raise TextBlockError("field card_type: not UCS-2LE") from err


def _split(raw: bytes, fields: tuple[tuple[str, int], ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    offset = 0
    for name, width in fields:
        chunk = raw[offset : offset + width]
        offset += width
        try:
            out[name] = chunk.decode("utf-16-le").rstrip(" \x00").strip()
        except UnicodeDecodeError as err:
            raise TextBlockError(f"field {name}: not UCS-2LE") from err
    return out


def encode_foreigner_text_block(text: ForeignerIdCardText) -> bytes:
    """The 256-byte block for a foreigner card.  Raises ``ValueError`` if a field does not fit."""
    values = {
        "english_name": text.english_name,
        "sex": text.sex,
        "id_number": text.id_number,
        "nationality": text.nationality,
        "chinese_name": text.chinese_name,
        "valid_from": _date_str(text.valid_from),
        "valid_until": LONG_TERM if text.valid_until is None else _date_str(text.valid_until),
        "birth_date": _date_str(text.birth_date),
        "card_version": text.card_version,
        "authority_code": text.authority_code,
        "card_type": text.card_type,
        "reserved": "",
    }
    block = b"".join(_encode_field(name, values[name], width) for name, width in FOREIGNER_FIELDS)
    assert len(block) == TEXT_BLOCK_SIZE
    return block


def parse_foreigner_text_block(raw: bytes) -> ForeignerIdCardText:
    """Parse a foreigner card block.  Raises :class:`TextBlockError` when it is malformed."""
    if len(raw) != TEXT_BLOCK_SIZE:
        raise TextBlockError(f"text block is {len(raw)} bytes, expected {TEXT_BLOCK_SIZE}")
    f = _split(raw, FOREIGNER_FIELDS)
    if f["card_type"] != FOREIGNER_CARD_TYPE:
        raise TextBlockError("field card_type: not a foreigner card")
    for required in ("english_name", "sex", "id_number", "nationality"):
        if not f[required]:
            raise TextBlockError(f"field {required}: empty")
    valid_until = None if f["valid_until"] == LONG_TERM else _parse_date("valid_until", f["valid_until"])
    return ForeignerIdCardText(
        english_name=f["english_name"],
        sex=f["sex"],
        id_number=f["id_number"],
        nationality=f["nationality"],
        chinese_name=f["chinese_name"],
        valid_from=_parse_date("valid_from", f["valid_from"]),
        valid_until=valid_until,
        birth_date=_parse_date("birth_date", f["birth_date"]),
        card_version=f["card_version"],
        authority_code=f["authority_code"],
        card_type=f["card_type"],
    )


def parse_any_text_block(raw: bytes) -> IdCardText | ForeignerIdCardText:
    """Parse a resident or foreigner block, choosing the layout by the card type character."""
    if card_type_of(raw) == FOREIGNER_CARD_TYPE:
        return parse_foreigner_text_block(raw)
    return parse_text_block(raw)
