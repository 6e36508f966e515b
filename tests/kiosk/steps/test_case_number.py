"""The short readable case number: terminal short id + date + per-day sequence + ISO 7064 check
character when the platform has not answered, the platform's own number when it has."""

from __future__ import annotations

import json

from kiosk.session.context import SessionContext
from kiosk.session.steps.numbers import (
    Numbering,
    case_number_ok,
    check_character,
    platform_case_number,
    terminal_short_id,
)


def test_numbers_are_short_sequential_per_day_and_self_checking(ctx: SessionContext) -> None:
    numbering = Numbering(ctx)
    first, second = numbering.next_case_number(), numbering.next_case_number()
    assert first.startswith("0001-260302-0001") and second.startswith("0001-260302-0002")
    assert len(first) == 17 and first != second
    assert case_number_ok(first) and case_number_ok(second)
    # persisted before use: a numbering made afresh (a restart) goes on from the store
    assert Numbering(ctx).next_case_number().startswith("0001-260302-0003")


def test_the_check_character_catches_a_wrong_character_and_a_swap() -> None:
    body = "0001-260302-0017"
    number = body + check_character(body)
    assert case_number_ok(number)
    for i, ch in enumerate(number[:-1]):
        if ch == "-":
            continue
        for other in "0123456789":
            if other != ch:
                assert not case_number_ok(number[:i] + other + number[i + 1 :]), (i, other)
    swapped = "0001-260302-0071" + number[-1]
    assert not case_number_ok(swapped)


def test_terminal_short_id_and_the_platform_number() -> None:
    assert terminal_short_id("DEMO-0001") == "0001"
    assert terminal_short_id("hall.3-kiosk_a7") == "SKA7"
    assert terminal_short_id("T9") == "00T9"
    ack = json.dumps({"case_id": "x", "platform_ref": "SBX00000042", "received_at": 1.0, "status": "ok"})
    assert platform_case_number(ack.encode()) == "SBX00000042"
    assert platform_case_number(None) is None and platform_case_number(b"not json") is None
    assert platform_case_number(b'{"platform_ref": ""}') is None
