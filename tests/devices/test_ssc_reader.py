"""The social security card reader as an identity carrier: the driver polling an in-process PC/SC
reader whose card runs the same applet as the vpcd virtual card (the vpcd path: tests/e2e/test_ssc_identity_ui.py)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from devices.base import DeviceStatus
from devices.registry import kind
from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.piv_applet import PivApplet
from devices.smartcard.ssc import NotSocialSecurityCardError, SscAccessDeniedError
from devices.smartcard.ssc_applet import SocialSecurityCardApplet, SscCardData
from devices.ssccard.kind import SscCardConfig
from devices.ssccard.reader import SscCardReader
from kiosk.identity.cards import check_card
from kiosk.identity.ssc import ssc_card_read

CARD = SscCardData(
    card_number="D37140002",
    id_number="37140219880721003x",
    name="李建国",
    sex="1",
    nation="01",
    birth_place=None,
    birth_date=dt.date(1988, 7, 21),
    issue_date=dt.date(2020, 5, 1),
    expiry_date=dt.date(2025, 5, 1),
)


def test_no_card_is_none_after_the_timeout_and_a_card_is_read() -> None:
    readers = InProcessReaders("R")
    reader = SscCardReader(lambda: readers, "R")
    t0 = time.monotonic()
    assert reader.read_card(timeout=0.3) is None and time.monotonic() - t0 >= 0.3
    assert reader.status() is DeviceStatus.NO_MEDIA and not reader.card_present()
    readers.insert(SocialSecurityCardApplet(CARD))
    info = reader.read_card(timeout=0.0)
    assert info is not None and info.name == "李建国" and reader.card_present()
    # as an identity: the card checks apply to the card's own validity (this one expired in 2025)
    read = ssc_card_read(info, dt.datetime(2026, 12, 3, 10, 0))
    assert read.text.id_number == "37140219880721003X" and read.photo_raw == b"" and read.text.address == ""
    assert not check_card(read.text, dt.date(2026, 12, 3)).ok
    assert check_card(read.text, dt.date(2024, 12, 3)).ok


def test_other_cards_are_typed_errors() -> None:
    readers = InProcessReaders("R")
    reader = SscCardReader(lambda: readers, None)  # the first reader listed
    readers.insert(PivApplet())
    with pytest.raises(NotSocialSecurityCardError):
        reader.read_card(timeout=0.0)
    readers.insert(SocialSecurityCardApplet(CARD, ef06_locked=True))
    with pytest.raises(SscAccessDeniedError):
        reader.read_card(timeout=0.0)


def test_the_kind_is_optional_and_off_with_driver_none() -> None:
    ssc = kind("ssc_card")
    assert not ssc.required
    assert ssc.drivers["none"](SscCardConfig(driver="none"), None) is None  # type: ignore[arg-type]
