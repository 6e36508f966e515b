"""A card still lying on the reader from an earlier session is not read into the next one.

A demo-profile terminal (ID card reader simulator on a pty, GA/T 467 frames): the citizen leaves
the card on the reader and cancels; whoever starts the next session is asked to lift the card and
place it again, and nothing is read from it until the reader has seen no card.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import TerminalConfig
from kiosk.session.machine import Step
from terminal.runtime import DEMO_CITIZENS, Terminal, build_terminal
from tests.kiosk.session_helpers import wait_card_lifted

pytestmark = pytest.mark.slow
SENIOR, BUSINESS, _ = DEMO_CITIZENS


@pytest.fixture
def terminal(tmp_path: Path, face_verifier: Any) -> Iterator[Terminal]:
    t = build_terminal(TerminalConfig(data_dir=str(tmp_path)), tmp_path, face=face_verifier)
    yield t
    t.close()


def _start_reading(t: Terminal, item: str) -> tuple[threading.Thread, list[Any]]:
    t.session.start()
    t.session.choose_item(item)
    assert t.session.step is Step.READ_CARD
    got: list[Any] = []
    reader = threading.Thread(target=lambda: got.append(t.session.card.read()), daemon=True)
    reader.start()
    return reader, got


def _session_with_card(t: Terminal, key: str, item: str) -> None:
    """Place ``key`` on the reader and start a session of ``item`` that reads it."""
    assert t.bench is not None
    t.bench.idcard.insert(key)
    reader, got = _start_reading(t, item)
    reader.join(timeout=15)
    assert got and got[0] is not None and t.session.step is Step.FACE_CHECK


def test_a_card_left_on_the_reader_must_be_placed_again(terminal: Terminal) -> None:
    t, bench = terminal, terminal.bench
    assert bench is not None
    events: list[str] = []
    t.session.subscribe(lambda e: events.append(type(e).__name__))

    _session_with_card(t, SENIOR.key, SENIOR.item_id)
    t.session.cancel()  # the citizen walks away; the card stays on the reader

    reader, got = _start_reading(t, BUSINESS.item_id)
    time.sleep(2.0)
    assert reader.is_alive() and t.session.step is Step.READ_CARD  # nothing read from it
    assert t.session.data.identity.card is None
    assert events.count("CardNotLifted") == 1  # the screen asks once
    bench.idcard.remove()
    time.sleep(1.0)  # the reader sees no card
    bench.idcard.insert(SENIOR.key)  # placed again: now it is this session's card
    reader.join(timeout=15)
    assert got and got[0] is not None and t.session.step is Step.FACE_CHECK
    t.session.cancel()


def test_another_card_is_read_at_once(terminal: Terminal) -> None:
    t, bench = terminal, terminal.bench
    assert bench is not None
    _session_with_card(t, SENIOR.key, SENIOR.item_id)
    t.session.cancel()
    _session_with_card(t, BUSINESS.key, BUSINESS.item_id)  # swapped, the reader never saw it empty
    assert t.session.data.identity.card is not None
    t.session.cancel()


def test_a_card_lifted_and_placed_again_between_sessions_is_read_at_once(terminal: Terminal) -> None:
    """The terminal watches the accepted card leave the reader (find-card polls), so the same
    citizen starting again with the same card is not asked to lift it once more."""
    t, bench = terminal, terminal.bench
    assert bench is not None
    _session_with_card(t, SENIOR.key, SENIOR.item_id)
    t.session.cancel()
    assert t.session.card.awaiting_lift
    bench.idcard.remove()  # lifted while the terminal shows the attract screen
    wait_card_lifted(t)
    _session_with_card(t, SENIOR.key, SENIOR.item_id)
    t.session.cancel()
