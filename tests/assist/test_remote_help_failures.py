"""Remote help when things go wrong: no agent in time, the network drops mid-call, TURN only."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.assist.state import AssistStatus, CallState, EndReason
from tests.assist.harness import Rig, configure, state_is
from tests.assist.netparts import Coturn, CuttableProxy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _join(rig: Rig) -> None:
    rig.service.ask()
    rig.service.consent(True)
    rig.wait_event(lambda e: isinstance(e, AssistStatus) and e.state is CallState.QUEUED and e.position == 1)


def _accept(rig: Rig) -> None:
    console = rig.browser or rig.open_console()
    waiting = console.wait_for("(window.assistStats().waiting || []).length && window.assistStats().waiting")
    console.click(f"accept-{waiting[0]['call_id']}")
    rig.wait_event(state_is(CallState.IN_CALL))


def test_no_agent_within_the_limit_records_a_call_back_request(rig: Rig) -> None:
    configure(rig.server, wait_limit_s=2)
    console = rig.open_console()  # an agent is online but busy: nobody accepts
    _join(rig)
    console.wait_for("(window.assistStats().waiting || []).length === 1")
    ended = rig.wait_event(state_is(CallState.ENDED))
    assert isinstance(ended, AssistStatus)
    assert ended.reason is EndReason.NO_AGENT and ended.callback_requested
    console.wait_for("(window.assistStats().waiting || []).length === 0")
    [call] = rig.calls()
    # the back office sees the call-back request
    callbacks = console.wait_for(
        "(window.assistStats().callbacks || []).length && window.assistStats().callbacks"
    )
    assert callbacks[0]["call_id"] == call["call_id"] and callbacks[0]["terminal_id"] == call["terminal_id"]
    assert (
        call["end_reason"] == "no_agent" and call["callback_requested"] is True and call["accepted"] is None
    )
    assert (
        "assist_ended",
        {"session": "s-1", "reason": "no_agent", "callback_requested": True},
    ) in rig.session.audit_log


def test_cancel_while_waiting_leaves_the_queue(rig: Rig) -> None:
    console = rig.open_console()
    _join(rig)
    console.wait_for("(window.assistStats().waiting || []).length === 1")
    rig.service.cancel()
    ended = rig.wait_event(state_is(CallState.ENDED))
    assert isinstance(ended, AssistStatus) and ended.reason is EndReason.CANCELLED
    console.wait_for("(window.assistStats().waiting || []).length === 0")
    rig.wait(lambda: rig.calls()[0]["end_reason"] == "cancelled", what="call record closed")


def test_network_drop_mid_call_tells_both_sides_and_the_session_goes_on(rig: Rig) -> None:
    proxy = CuttableProxy(rig.server.port)
    try:
        rig.service.base_url = proxy.url  # the terminal reaches the platform through the proxy
        form_before = dict(rig.session.form)
        _join(rig)
        _accept(rig)
        assert rig.browser is not None
        rig.browser.wait_for("window.assistStats().cameraFrames >= 5")
        proxy.cut()
        ended = rig.wait_event(state_is(CallState.ENDED))
        assert isinstance(ended, AssistStatus) and ended.reason is EndReason.CONNECTION_LOST
        assert rig.browser.wait_for("window.assistStats().ended") == "connection_lost"
        [call] = rig.calls()
        assert call["end_reason"] == "connection_lost"
        # the citizen's session is untouched and help can be asked again
        assert rig.session.form == form_before
        rig.service.ask()
        assert rig.service.status.state is CallState.CONSENT
    finally:
        proxy.close()


def test_turn_only_connectivity(rig: Rig, tmp_path: Path) -> None:
    turn = Coturn(tmp_path).start()
    try:
        configure(rig.server, ice_servers=[turn.ice_server], ice_transport_policy="relay")
        _join(rig)
        _accept(rig)
        assert rig.browser is not None
        rig.wait(lambda: rig.service.media_stats()["video_received"] >= 10, what="agent video over TURN")
        rig.browser.wait_for("window.assistStats().cameraFrames >= 10")
        rig.browser.wait_for("window.assistStats().localCandidateType")
        stats = rig.browser.stats()
        assert stats["localCandidateType"] == "relay" and stats["remoteCandidateType"] == "relay"
        assert rig.service.connection_info() == {"state": "connected", "local_candidate_types": ["relay"]}
        rig.service.hang_up()
        rig.wait_event(state_is(CallState.ENDED))
    finally:
        turn.stop()
