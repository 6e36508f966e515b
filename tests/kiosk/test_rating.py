"""好差评 (GB/T 39734 一次一评): a rating of a service, with reasons for a negative one, queued in the
outbox and received once by a real sandbox platform on 127.0.0.1; also offered after a cancel,
an idle timeout and a device problem, with the session's personal data dropped at once."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.outbox import JOB_RATING, Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformConflict, PlatformRejected
from kiosk.config import TerminalConfig
from kiosk.session.catalogue import Catalogue
from kiosk.session.context import SessionContext
from kiosk.session.machine import EndReason, Step
from kiosk.session.steps.rating import RatingError, RatingStep, check
from offline_cache.store import OutboxState, Store
from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TERMINAL = "RATE-1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path, "senior-card") as srv:
        yield srv


def _client(server: SandboxServer, terminal: str = TERMINAL) -> PlatformClient:
    c = PlatformClient(server.url, terminal, timeout=2.0, signing_key=Ed25519PrivateKey.generate())
    c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
    return c


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    c = _client(server)
    yield c
    c.close()


@pytest.fixture
def ctx(store: Store) -> SessionContext:
    return SessionContext(TerminalConfig(terminal_id=TERMINAL), store, Catalogue(store), clock=lambda: NOW)


def _drainer(store: Store, client: PlatformClient) -> OutboxDrainer:
    return OutboxDrainer(
        store, client, backoff=Backoff(base_s=0.0, max_s=0.0, jitter=0.0), rng=random.Random(1)
    )


def _ratings(client: PlatformClient) -> list[dict[str, object]]:
    reply = client.transport.request("GET", "/_sandbox/ratings", auth=False)
    return list(json.loads(reply.body))


def _in_session(ctx: SessionContext, *steps: Step) -> None:
    """A citizen chose the senior-card item and got as far as the last of ``steps``."""
    ctx.machine.go(Step.CHOOSE_ITEM)
    ctx.data.item_id = "senior-card"
    ctx.data.identity.card_photo = b"personal"
    ctx.data.application.form["phone"] = "13800000000"
    for step in steps:
        ctx.machine.go(step)


def test_negative_rating_after_cancel_reaches_the_platform_once_with_its_reasons(
    ctx: SessionContext, store: Store, client: PlatformClient
) -> None:
    rating = RatingStep(ctx)
    _in_session(ctx, Step.READ_CARD, Step.FACE_CHECK, Step.FORM)
    session_id = ctx.data.session_id

    assert rating.end_early(EndReason.CANCELLED)
    assert ctx.machine.step is Step.RATING
    data = ctx.data
    assert data.session_id != session_id and data.item_id == "senior-card"
    assert data.identity.card_photo is None and data.application.form == {}  # personal data gone at once
    assert rating.ended() == "cancelled"

    record = rating.rate("very_bad", ("too_slow", "equipment"), finish=False)
    assert record is not None
    assert rating.rate("good", finish=False) is None  # one rating per service
    assert ctx.machine.step is Step.RATING  # the thank-you is still shown
    rating.finish()
    assert ctx.machine.step is Step.ATTRACT

    # The platform is down, then loses its answer after storing the rating: sent again, stored once.
    client.sandbox.set_faults(down=True)
    drainer = _drainer(store, client)
    assert drainer.drain_once().sent == 0
    assert store.outbox.get(record.rating_id).state is OutboxState.PENDING  # type: ignore[union-attr]
    client.sandbox.set_faults(down=False, drop_after_processing=True)
    drainer.drain_once()
    client.sandbox.set_faults(drop_after_processing=False)
    for _ in range(3):
        drainer.drain_once()
    assert store.outbox.get(record.rating_id).state is OutboxState.ACKNOWLEDGED  # type: ignore[union-attr]

    received = _ratings(client)
    assert len(received) == 1
    got = received[0]
    assert got["rating_id"] == record.rating_id
    assert got["received_from"] == TERMINAL and got["terminal_id"] == TERMINAL
    assert got["item_id"] == "senior-card" and got["case_id"] is None
    assert got["level"] == 1 and got["reasons"] == ["too_slow", "equipment"]
    assert got["ended"] == "cancelled"
    assert "13800000000" not in json.dumps(got)
    trail = [e for e in store.audit_trail.records() if e.event in {"rating", "session_end"}]
    assert [e.event for e in trail] == ["session_end", "rating"]


def test_rating_of_a_case_waits_for_the_case_and_names_it(
    ctx: SessionContext, store: Store, client: PlatformClient
) -> None:
    rating = RatingStep(ctx)
    _in_session(ctx, Step.READ_CARD, Step.FACE_CHECK, Step.FORM, Step.REVIEW, Step.CONFIRM_SIGN, Step.SUBMIT)
    case_id = str(uuid.uuid4())
    store.cases.add(case_id, "senior-card", b'{"demo": true}', NOW.timestamp())
    ctx.data.case.case_id = case_id
    ctx.machine.go(Step.RESULT)
    ctx.machine.go(Step.RATING)
    assert rating.ended() == "completed"

    record = rating.rate("fair")  # positive: no reasons; the session ends
    assert record is not None and ctx.machine.step is Step.ATTRACT
    assert store.outbox.get(record.rating_id).kind == JOB_RATING  # type: ignore[union-attr]

    drainer = _drainer(store, client)
    first = drainer.drain_once()
    assert first.sent == 1 and not _ratings(
        client
    )  # the case first: the rating waits for its acknowledgement
    assert drainer.drain_once().sent == 1
    (got,) = _ratings(client)
    assert (
        got["case_id"] == case_id
        and got["level"] == 3
        and got["reasons"] == []
        and got["ended"] == "completed"
    )

    # 一次一评: a second rating of the same case under another id is refused.
    again = json.loads(record.body())
    again["rating_id"] = str(uuid.uuid4())
    with pytest.raises(PlatformConflict):
        client.post_queued("rating", again["rating_id"], json.dumps(again).encode())


def test_platform_authorises_ratings_per_terminal(
    ctx: SessionContext, store: Store, client: PlatformClient, server: SandboxServer
) -> None:
    case_id = str(uuid.uuid4())
    client.upload_case(case_id, "senior-card", b"{}")
    other = _client(server, "RATE-2")
    try:
        body = {
            "rating_id": str(uuid.uuid4()),
            "terminal_id": "RATE-2",
            "item_id": "senior-card",
            "case_id": case_id,
            "level": 5,
            "reasons": [],
            "ended": "completed",
            "rated_at": NOW.isoformat(),
        }
        with pytest.raises(PlatformRejected) as err:  # another terminal's case does not exist for it
            other.post_queued("rating", body["rating_id"], json.dumps(body).encode())
        assert err.value.status == 404
        body["terminal_id"] = TERMINAL
        with pytest.raises(PlatformRejected) as err:  # a rating in another terminal's name
            other.post_queued("rating", body["rating_id"], json.dumps(body).encode())
        assert err.value.status == 403
    finally:
        other.close()
    body["level"] = 2  # negative without a reason
    with pytest.raises(PlatformRejected) as err:
        client.post_queued("rating", body["rating_id"], json.dumps(body).encode())
    assert err.value.status == 422
    body["reasons"] = ["other"]
    first = client.post_queued("rating", body["rating_id"], json.dumps(body).encode())
    assert client.post_queued("rating", body["rating_id"], json.dumps(body).encode()) == first  # replayed


def test_rating_offered_after_idle_timeout_and_device_problem_not_before_an_item(ctx: SessionContext) -> None:
    rating = RatingStep(ctx)
    ctx.machine.go(Step.CHOOSE_ITEM)
    assert not rating.end_early(EndReason.CANCELLED)  # nothing to rate yet: the caller ends the session
    ctx.machine.reset(EndReason.CANCELLED)

    _in_session(ctx, Step.READ_CARD)
    assert rating.end_early(EndReason.IDLE_TIMEOUT)
    assert rating.ended() == "idle_timeout"
    assert not rating.end_early(EndReason.IDLE_TIMEOUT)  # on the rating screen the session just ends
    rating.finish()
    assert ctx.machine.step is Step.ATTRACT

    _in_session(ctx, Step.READ_CARD, Step.DEVICE_PROBLEM)
    assert rating.end_early(EndReason.CANCELLED)
    assert rating.ended() == "device_problem"
    rating.finish()
    _in_session(ctx)
    assert rating.ended() == "completed"


@pytest.mark.parametrize(
    ("level", "reasons"),
    [("bad", ()), ("good", ("other",)), ("very_bad", ("other", "other")), ("meh", ()), ("bad", ("rude",))],
)
def test_ratings_the_standard_does_not_allow_are_refused(level: str, reasons: tuple[str, ...]) -> None:
    with pytest.raises(RatingError):
        check(level, reasons)
