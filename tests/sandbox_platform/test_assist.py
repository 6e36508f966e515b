"""The remote-help platform side without a browser: the signed handshake, the consent, recordings
encrypted at rest with their retention limit, uploads only by the calling terminal."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websockets

from kiosk.assist.call import signed_headers, ws_url
from sandbox_platform.server import SandboxServer
from tests.assist.harness import enrol
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path) as srv:
        yield srv


async def _first_answer(url: str, headers: dict[str, str], join: dict[str, object]) -> dict[str, object]:
    async with websockets.connect(url, additional_headers=headers, open_timeout=5) as ws:
        await ws.send(json.dumps(join))
        return dict(json.loads(await asyncio.wait_for(ws.recv(), 5)))


def _refused(url: str, headers: dict[str, str]) -> int | None:
    async def run() -> int | None:
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=5) as ws:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        return None

    return asyncio.run(run())


JOIN = {"type": "join", "item_id": "x", "consent": {"recording": True, "at": 1.0}}


def test_a_signed_terminal_joins_the_queue(server: SandboxServer) -> None:
    key, transport = enrol(server)
    answer = asyncio.run(_first_answer(ws_url(server.url), signed_headers(transport.terminal_id, key), JOIN))
    assert answer["type"] == "queue" and answer["position"] == 1 and float(str(answer["expected_wait_s"])) > 0


def test_unsigned_unknown_and_replayed_handshakes_are_closed(server: SandboxServer) -> None:
    key, transport = enrol(server)
    url = ws_url(server.url)
    assert _refused(url, {}) == 403
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    assert _refused(url, signed_headers(transport.terminal_id, Ed25519PrivateKey.generate())) == 403
    headers = signed_headers(transport.terminal_id, key)
    asyncio.run(_first_answer(url, headers, JOIN))
    assert _refused(url, headers) == 403  # the same signature again


def test_a_join_without_consent_is_refused(server: SandboxServer) -> None:
    key, transport = enrol(server)
    join = {"type": "join", "item_id": "x", "consent": {"recording": False}}
    answer = asyncio.run(_first_answer(ws_url(server.url), signed_headers(transport.terminal_id, key), join))
    assert answer["type"] == "error"
    assert requests.get(f"{server.url}/_sandbox/assist/calls", timeout=5).json() == []


def test_recordings_are_encrypted_only_the_caller_uploads_and_retention_deletes(
    server: SandboxServer,
) -> None:
    key, transport = enrol(server)
    asyncio.run(_first_answer(ws_url(server.url), signed_headers(transport.terminal_id, key), JOIN))
    [call] = requests.get(f"{server.url}/_sandbox/assist/calls", timeout=5).json()
    body = b"RIFF" + bytes(range(256)) * 40
    path = f"/api/v1/assist/calls/{call['call_id']}/recordings"
    reply = transport.request("POST", path, data=body, headers={"Content-Type": "video/x-msvideo"})
    receipt = json.loads(reply.body)
    store = server.app.state.assist.store
    sealed = store.recording_path(receipt["recording_id"]).read_bytes()
    assert body not in sealed and store.open_recording(call["call_id"], receipt["recording_id"]) == body
    # another terminal may not add to this call
    _other_key, other = enrol_other(server)
    with pytest.raises(Exception, match="404"):
        other.request("POST", path, data=body, headers={"Content-Type": "video/x-msvideo"})
    # past the retention limit the recording is gone, the call record stays
    later = time.time() + 31 * 86400
    assert requests.post(f"{server.url}/_sandbox/assist/purge", params={"now": later}, timeout=5).json() == {
        "deleted": 1
    }
    assert store.recording_path(receipt["recording_id"]) is None
    record = requests.get(f"{server.url}/_sandbox/assist/calls/{call['call_id']}", timeout=5).json()
    assert record["recordings"] == [] and "recording_purged" in [e["kind"] for e in record["events"]]


def enrol_other(server: SandboxServer):  # type: ignore[no-untyped-def]
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from kiosk.cases.platform_transport import Transport

    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    code = server.enrolment_code("hall-01-t09")
    requests.post(
        f"{server.url}/api/v1/terminals/enrol",
        json={
            "terminal_id": "hall-01-t09",
            "public_key": base64.b64encode(raw).decode(),
            "enrolment_code": code,
        },
        timeout=10,
    ).raise_for_status()
    return key, Transport(server.url, "hall-01-t09", 10.0, signing_key=key)
