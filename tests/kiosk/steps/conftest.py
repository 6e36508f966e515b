"""Fixtures of the step-level tests (see helpers.py): a stocked store, the session context, the
events it publishes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.session.context import SessionContext
from offline_cache.store import Store
from tests.kiosk.steps.helpers import Recorder, make_ctx, stock


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "terminal.db")
    stock(s)
    yield s
    s.close()


@pytest.fixture
def ctx(store: Store) -> SessionContext:
    return make_ctx(store, card_timeout_s=10.0)


@pytest.fixture
def recorder(ctx: SessionContext) -> Recorder:
    rec = Recorder()
    ctx.events.subscribe(rec)
    return rec
