from __future__ import annotations

import datetime as dt

from devices.idcard.sim_cards import sim_card
from kiosk.session.forms import known_values


def test_card_and_materials_become_source_keys() -> None:
    text = sim_card("senior").text
    known = known_values(text, {"lease": {"lessee": "李建国"}}, dt.date(2026, 11, 23))
    assert known["idcard.name"] == "张桂兰"
    assert known["idcard.id_number"] == "371402195203140022"
    assert known["idcard.birth_date"] == "1952-03-14"
    assert known["idcard.valid_until"] == "长期"
    assert known["computed.age"] == "74"
    assert known["computed.today"] == "2026-11-23"
    assert known["materials.lease.lessee"] == "李建国"


def test_age_turns_on_the_birthday_and_expiry_date_shown() -> None:
    text = sim_card("expired").text
    assert known_values(text, {}, dt.date(2025, 11, 1))["computed.age"] == "45"
    assert known_values(text, {}, dt.date(2025, 11, 2))["computed.age"] == "46"
    assert known_values(text, {}, dt.date(2025, 11, 2))["idcard.valid_until"] == "2024-05-10"


def test_nothing_known_without_a_card() -> None:
    assert known_values(None, {}, dt.date(2026, 1, 1)) == {}
