"""Remote help end to end: the terminal's core (aiortc) and the agent console in headless Chromium,
through the sandbox platform's signalling on loopback."""

from __future__ import annotations

import pytest

from kiosk.assist.state import AssistStatus, CallState, ChatLine, EndReason, FieldProposal, RemoteAcceptance
from tests.assist.harness import TERMINAL_ID, Rig, state_is

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_citizen_asks_agent_accepts_edits_a_field_and_hangs_up(rig: Rig) -> None:
    console = rig.open_console()
    svc = rig.service
    svc.ask()
    rig.wait_event(state_is(CallState.CONSENT))
    svc.consent(True)
    queued = rig.wait_event(
        lambda e: isinstance(e, AssistStatus) and e.state is CallState.QUEUED and e.position == 1
    )
    assert queued.expected_wait_s > 0
    # the console lists the waiting call with the terminal and the item
    waiting = console.wait_for(
        "window.assistStats().waiting && window.assistStats().waiting.length && window.assistStats().waiting"
    )
    assert waiting[0]["terminal_id"] == TERMINAL_ID and waiting[0]["item_id"] == "residence-permit"
    console.click(f"accept-{waiting[0]['call_id']}")
    agent = rig.wait_event(state_is(CallState.CONNECTING))
    assert isinstance(agent, AssistStatus) and agent.agent_name == "王坐席"
    rig.wait_event(state_is(CallState.IN_CALL))
    # video and audio both ways, and the kiosk screen at the console
    rig.wait(lambda: svc.media_stats()["video_received"] >= 20, what="agent video at the terminal")
    rig.wait(lambda: svc.media_stats()["audio_received"] >= 20, what="agent audio at the terminal")
    console.wait_for("window.assistStats().cameraFrames >= 20")
    console.wait_for("window.assistStats().screenFrames >= 5")
    console.wait_for("window.assistStats().audioPackets >= 20")
    assert svc.remote_frame() is not None
    # the form fields and the material thumbnail reached the console over the data channel
    fields = console.wait_for(
        "Object.keys(window.assistStats().fields).length && window.assistStats().fields"
    )
    assert fields["phone"] == "13800000000"
    assert console.wait_for("window.assistStats().thumbs") == 1
    # the agent corrects the phone number: shown to the citizen, applied once confirmed
    console.set_value("field-phone", "13911112222")
    console.click("send-phone")
    proposal = rig.wait_event(lambda e: isinstance(e, FieldProposal))
    assert isinstance(proposal, FieldProposal)
    assert (proposal.key, proposal.old_value, proposal.new_value) == ("phone", "13800000000", "13911112222")
    assert rig.session.form["phone"] == "13800000000"
    svc.confirm_field(proposal.proposal_id, True)
    assert rig.session.form["phone"] == "13911112222"
    console.wait_for("window.assistStats().fieldResults.length")
    assert console.stats()["fieldResults"][0] == {"type": "field_result", "key": "phone", "accepted": True}
    # chat both ways
    console.set_value("chat-text", "请核对电话")
    console.click("chat-send")
    chat = rig.wait_event(lambda e: isinstance(e, ChatLine) and e.who == "agent")
    assert isinstance(chat, ChatLine) and chat.text == "请核对电话"
    # remote acceptance carries the agent's identity from the platform
    console.click("ra-accept")
    acceptance = rig.wait_event(lambda e: isinstance(e, RemoteAcceptance))
    assert acceptance == RemoteAcceptance("accept", "agent-7", "王坐席", "")
    assert rig.session.acceptance == acceptance
    # a poor link: video paused, voice goes on; then video again
    svc.set_audio_only(True)
    console.wait_for("window.assistStats().audioOnly === true")
    rig.wait_event(lambda e: isinstance(e, AssistStatus) and e.audio_only)
    frames, packets = console.stats()["cameraFrames"], console.stats()["audioPackets"]
    console.wait_for(f"window.assistStats().audioPackets >= {packets + 100}")
    assert console.stats()["cameraFrames"] - frames < 10
    svc.set_audio_only(False)
    console.wait_for("window.assistStats().audioOnly === false")
    console.wait_for(f"window.assistStats().cameraFrames >= {console.stats()['cameraFrames'] + 20}")
    # hang-up at the terminal: the console is told
    svc.hang_up()
    ended = rig.wait_event(state_is(CallState.ENDED))
    assert isinstance(ended, AssistStatus) and ended.reason is EndReason.HANG_UP
    console.wait_for("window.assistStats().ended")
    # the call record and the encrypted recording on the platform
    rig.wait(lambda: svc.last_recording is not None, what="recording uploaded")
    [call] = rig.calls()
    assert call["terminal_id"] == TERMINAL_ID and call["agent_id"] == "agent-7"
    assert call["consent"]["recording"] is True
    assert call["accepted"] and call["ended"] and call["end_reason"] == "hang_up"
    kinds = [e["kind"] for e in call["events"]]
    for kind in ("join", "accept", "field", "chat", "remote_acceptance", "end", "recording"):
        assert kind in kinds
    [rec] = call["recordings"]
    store = rig.server.app.state.assist.store
    path = store.recording_path(rec["recording_id"])
    sealed = path.read_bytes()
    clear = store.open_recording(call["call_id"], rec["recording_id"])
    assert clear[:4] == b"RIFF" and sealed[:4] != b"RIFF" and b"AVI " not in sealed[:64]
    assert len(clear) == rec["size"] > 1000
    # the audit trail of the session holds the consent, the field change and the acceptance
    events = [name for name, _ in rig.session.audit_log]
    assert events[0] == "assist_consent" and "assist_field" in events and "remote_acceptance" in events
