"""An approval's publicity record reaches the platform through the outbox; revoking the
decision (§8.4.4) queues the revocation, archives it, and the platform stops publishing it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from kiosk.outputs.publicity import publicity_job
from offline_cache.store import OutboxState
from terminal.runtime import DEMO_CITIZENS
from tests.conftest import Factory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SENIOR = next(c for c in DEMO_CITIZENS if c.key == "senior")


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_approval_published_then_revoked(kiosk: Factory) -> None:
    terminal, _ui, driver = kiosk()
    record = driver.run_citizen(SENIOR)
    assert record.decision == "approve" and record.case_id
    client = terminal.client
    job = publicity_job(terminal.store, record.case_id)
    assert job is not None

    def published_ids() -> list[str]:
        terminal.drainer.kick()
        return [p["publicity_id"] for p in client.published_records()]

    assert _wait(lambda: published_ids() == [job.job_id])

    revocation = terminal.session.submission.revoke_publicity(record.case_id, "许可决定被依法撤销")
    assert _wait(lambda: published_ids() == [])

    def revocation_sent() -> bool:  # the drainer records the answer just after the platform acted
        sent = terminal.store.outbox.get(revocation)
        return sent is not None and sent.state is OutboxState.SENT

    assert _wait(revocation_sent)
    # The ledger keeps the approval and archives the revocation as a new record.
    assert terminal.session.submission.ledger is not None and terminal.session.submission.ledger.verify() == 2
    [revoked] = [p for p in client.sandbox.publicity() if p["publicity_id"] == job.job_id]
    assert revoked["revoked_at"] and revoked["revocation_reason"] == "许可决定被依法撤销"
