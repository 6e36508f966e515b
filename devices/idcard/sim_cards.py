"""The simulated ID cards of the three demo citizens (terminal/demo_profile.py).

Card photos are the camera engineer's copies under ``devices/camera/media/``.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from devices.idcard.photo import load_photo_block
from devices.idcard.textblock import encode_foreigner_text_block, encode_text_block
from devices.interfaces import AnyIdCardText, ForeignerIdCardText, IdCardText

#: Where the demo's card photos live in the repository.
CAMERA_MEDIA_DIR: Final = Path(__file__).resolve().parent.parent / "camera" / "media"


@dataclass(frozen=True)
class SimCard:
    """A card the simulator can hold: its text and the image file its photo block is made from."""

    key: str
    text: AnyIdCardText = field(repr=False)
    photo_path: Path
    fingerprint: bytes = field(default=b"", repr=False)  # 0 or 1024 bytes (two 512-byte templates)
    appended_address: str | None = field(default=None, repr=False)  # 追加住址 written after a move

    def text_block(self) -> bytes:
        if isinstance(self.text, ForeignerIdCardText):
            return encode_foreigner_text_block(self.text)
        return encode_text_block(self.text)

    def photo_block(self) -> bytes:
        """The 1024-byte photo block (WebP of the photo file); raises if the file is missing."""
        return _photo_block(self.photo_path)


@functools.lru_cache(maxsize=32)
def _photo_block(path: Path) -> bytes:
    return load_photo_block(path)


SIM_CARDS: Final[dict[str, SimCard]] = {
    "senior": SimCard(
        key="senior",
        text=IdCardText(
            name="张桂兰",
            sex="2",
            nation="01",
            birth_date=dt.date(1952, 3, 14),
            address="山东省德州市德城区新湖大街1号",
            id_number="371402195203140022",
            authority="德州市公安局德城分局",
            valid_from=dt.date(2016, 4, 1),
            valid_until=None,
        ),
        photo_path=CAMERA_MEDIA_DIR / "obama_card.jpg",
    ),
    "business": SimCard(
        key="business",
        text=IdCardText(
            name="李建国",
            sex="1",
            nation="01",
            birth_date=dt.date(1988, 7, 21),
            address="山东省德州市德城区东风中路88号",
            id_number="37140219880721003X",
            authority="德州市公安局德城分局",
            valid_from=dt.date(2018, 9, 10),
            valid_until=dt.date(2038, 9, 10),
        ),
        photo_path=CAMERA_MEDIA_DIR / "biden_card.jpg",
    ),
    "expired": SimCard(
        key="expired",
        text=IdCardText(
            name="王晓明",
            sex="1",
            nation="01",
            birth_date=dt.date(1979, 11, 2),
            address="山东省德州市武城县广运街5号",
            id_number="371428197911020016",
            authority="武城县公安局",
            valid_from=dt.date(2004, 5, 10),
            valid_until=dt.date(2024, 5, 10),
        ),
        photo_path=CAMERA_MEDIA_DIR / "kit_card.jpg",
    ),
}


#: Extra cards for tests (not demo citizens): a foreigner's permanent residence card, a card whose
#: ID number has a wrong check digit, and a card with fingerprints and an appended address.
EXTRA_CARDS: Final[dict[str, SimCard]] = {
    "foreigner": SimCard(
        key="foreigner",
        text=ForeignerIdCardText(
            english_name="SMITH, JOHN ALEXANDER",
            sex="1",
            id_number="CAN371480010112",  # CAN, accepted in 3714 (Dezhou), born 800101, seq 1, check 2
            nationality="CAN",
            chinese_name="史密斯",
            valid_from=dt.date(2020, 1, 15),
            valid_until=dt.date(2030, 1, 15),
            birth_date=dt.date(1980, 1, 1),
            card_version="02",
            authority_code="1500",
        ),
        photo_path=CAMERA_MEDIA_DIR / "biden_card.jpg",
    ),
    "bad-check-digit": SimCard(
        key="bad-check-digit",
        text=IdCardText(
            name="赵小红",
            sex="2",
            nation="03",
            birth_date=dt.date(1990, 6, 1),
            address="山东省德州市德城区天衢路9号",
            id_number="371402199006010025",  # correct check digit is 4
            authority="德州市公安局德城分局",
            valid_from=dt.date(2015, 6, 1),
            valid_until=dt.date(2035, 6, 1),
        ),
        photo_path=CAMERA_MEDIA_DIR / "obama_card.jpg",
    ),
    "fingerprint": SimCard(
        key="fingerprint",
        text=IdCardText(
            name="孙立",
            sex="1",
            nation="08",
            birth_date=dt.date(1970, 2, 28),
            address="山东省德州市德城区新湖大街3号",
            id_number="37140219700228001X",
            authority="德州市公安局德城分局",
            valid_from=dt.date(2012, 1, 1),
            valid_until=None,
        ),
        photo_path=CAMERA_MEDIA_DIR / "kit_card.jpg",
        fingerprint=bytes(range(256)) * 4,
        appended_address="山东省德州市德城区东风中路100号",
    ),
}


def sim_card(key: str) -> SimCard:
    """The demo card for ``key`` ("senior", "business", "expired")."""
    try:
        return SIM_CARDS[key] if key in SIM_CARDS else EXTRA_CARDS[key]
    except KeyError as err:
        known = ", ".join([*SIM_CARDS, *EXTRA_CARDS])
        raise KeyError(f"no simulated card {key!r}; known: {known}") from err
