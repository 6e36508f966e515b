"""Chinese typed into a form field by tapping the on-screen keyboard's keys (Pinyin, then the
candidate), and the number layout for a phone field, in a fresh process as on the terminal
(tests/ui/keyboard_typing_run.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.fresh_process import result_of, run_fresh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def typed() -> dict[str, Any]:
    return result_of(run_fresh("keyboard_typing_run.py"))


def test_typing_chinese_by_tapping_the_keys(typed: dict[str, Any]) -> None:
    assert typed["shown"] and typed["im_visible"], "the keyboard did not come up"
    assert typed["field_above_keys"]  # the field being typed is never under the keys
    assert typed["text"] == "北京" and typed["typed"] == 2
    assert typed["taps"] == len("beijing") + 1


def test_phone_field_gets_the_number_layout_and_is_checked_while_typing(typed: dict[str, Any]) -> None:
    assert typed["phone_hints"]
    assert {"1", "5", "9"} <= set(typed["phone_keys"]) and "q" not in typed["phone_keys"]
    assert typed["phone_text"] == "139"
    assert typed["phone_error"]  # the message is next to the field while typing
