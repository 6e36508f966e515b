"""Platform lookups of ``platform.<name>`` inputs: the terminal's client and the review step against
the sandbox platform on 127.0.0.1 (signed requests, signed answers, per-terminal authorisation)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.idcard.sim_cards import sim_card
from devices.interfaces import IdCardRead
from kiosk.cases.platform_client import PlatformClient, PlatformRejected
from kiosk.cases.platform_lookups import LookupPlatform
from kiosk.review.engine import Decision, Outcome
from kiosk.review.items import ItemPackage, load_package
from kiosk.session.context import SessionContext
from kiosk.session.machine import Step
from kiosk.session.steps.form import FormStep
from kiosk.session.steps.lookups import UNAVAILABLE, PlatformInputs
from kiosk.session.steps.review import ReviewStep
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer
from tests.kiosk.steps.helpers import ITEMS, NOW, make_ctx, stock, walk_to

LI = "37140219880721003X"
ZHANG = "371402195203140022"
ITEM = "out-of-area-medical-filing"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    srv = SandboxServer(tmp_path / "platform", ITEMS).start()
    yield srv
    srv.close()


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    with PlatformClient(server.url, "L1", signing_key=Ed25519PrivateKey.generate()) as c:
        c.enrol(code=server.enrolment_code("L1"))
        assert c.transport.answer_key is not None  # answers must come signed by the platform
        yield c


def test_the_platform_answers_the_items_declared_inputs(client: PlatformClient) -> None:
    lookups = LookupPlatform(client)
    assert lookups.look_up(LI, ITEM, ["platform.insured_here"]) == {"platform.insured_here": True}
    assert lookups.look_up(ZHANG, ITEM, ["platform.insured_here"]) == {"platform.insured_here": False}
    # nothing in the register for this name: unknown, not false
    assert lookups.look_up("371428197911020016", ITEM, ["platform.insured_here"]) == {
        "platform.insured_here": None
    }
    names = ["platform.insured_one_year", "platform.involuntary", "platform.unemployment_registered"]
    assert set(lookups.look_up(LI, "unemployment-benefit", names).values()) == {True}


def test_a_terminal_may_look_up_only_what_the_item_declares(client: PlatformClient) -> None:
    lookups = LookupPlatform(client)
    with pytest.raises(PlatformRejected) as err:
        lookups.look_up(LI, ITEM, ["platform.owns_home"])  # hpf-withdrawal-rent's, not this item's
    assert err.value.status == 403
    with pytest.raises(PlatformRejected) as err:
        lookups.look_up(LI, "no-such-item", ["platform.insured_here"])
    assert err.value.status == 404


def test_another_terminals_id_or_no_credentials_are_refused(
    server: SandboxServer, client: PlatformClient
) -> None:
    body = {
        "terminal_id": "OTHER",
        "holder": client.holder_token(LI),
        "item_id": ITEM,
        "names": ["insured_here"],
    }
    with pytest.raises(PlatformRejected) as err:
        client.transport.request("POST", "/api/v1/lookups", json_body=body)
    assert err.value.status == 403
    anonymous = requests.post(f"{server.url}/api/v1/lookups", json={**body, "terminal_id": "L1"}, timeout=5)
    assert anonymous.status_code == 401


def test_a_slow_platform_is_given_up_within_the_lookup_timeout(
    server: SandboxServer, client: PlatformClient
) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json={"latency_ms": 3000}, timeout=5).raise_for_status()
    inputs = PlatformInputs(LookupPlatform(client), timeout_s=0.5)
    try:
        pkg = _package(ITEM)
        result = inputs.resolve(pkg, LI)
    finally:
        inputs.close()
    assert result.failure == UNAVAILABLE and result.error == "timeout"
    assert result.values == {}


# --------------------------------------------------------------------------- the review step


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[SessionContext]:
    store = Store(tmp_path / "terminal.db")
    stock(store)
    yield make_ctx(store)
    store.close()


def _package(item_id: str) -> ItemPackage:
    return load_package((ITEMS / f"{item_id}.json").read_bytes())


def _review(ctx: SessionContext, client: PlatformClient, card: str) -> Decision:
    walk_to(ctx, Step.FORM, ITEM)
    ctx.data.identity.card = IdCardRead(text=sim_card(card).text, photo_raw=b"", read_at=NOW)
    form = FormStep(ctx)
    typed = {"filing_kind": "temporary", "destination": "济南市", "phone": "13905340000"}
    assert form.submit({**{f.key: f.value for f in form.fields()}, **typed}) == {}
    step = ReviewStep(ctx, lookups=PlatformInputs(LookupPlatform(client), timeout_s=2.0))
    try:
        return step.run()
    finally:
        step.close()


def test_the_lookup_turns_a_to_staff_item_into_an_automated_decision(
    ctx: SessionContext, client: PlatformClient
) -> None:
    decision = _review(ctx, client, "business")  # 李建国: insured here
    assert decision.outcome is Outcome.APPROVE and decision.reasons == ("filing_accepted",)
    audit = [e for e in ctx.store.audit_trail.records() if e.event == "platform_lookup"]
    assert audit and audit[-1].details["error"] is None and LI not in str(audit[-1].details)


def test_the_lookup_can_reject(ctx: SessionContext, client: PlatformClient) -> None:
    decision = _review(ctx, client, "senior")  # 张桂兰: insured elsewhere
    assert decision.outcome is Outcome.REJECT and "not_insured_here" in decision.reasons


def test_an_unreachable_platform_sends_the_item_to_staff_with_that_reason(
    ctx: SessionContext, server: SandboxServer, client: PlatformClient
) -> None:
    requests.post(f"{server.url}/_sandbox/faults", json={"down": True}, timeout=5).raise_for_status()
    decision = _review(ctx, client, "business")
    assert decision.outcome is Outcome.MANUAL
    assert decision.reasons[-1] == UNAVAILABLE
    assert "无法从平台查询" in decision.reason_texts_zh[-1]
