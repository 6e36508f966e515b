"""Platform answers are signed with the key pinned at enrolment: an answer from anyone else on the
network, or an old answer replayed, is refused (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.platform_client import PlatformClient, PlatformIntegrityError
from kiosk.cases.platform_pins import pin_key, read_pinned_key
from sandbox_platform.server import SandboxServer
from tests.kiosk.hostile_platform import hostile, json_answer


@pytest.fixture
def pinned(server: SandboxServer) -> bytes:
    with PlatformClient(server.url, "P1", signing_key=Ed25519PrivateKey.generate()) as client:
        client.enrol(code=server.enrolment_code("P1"))
        assert client.enrolment is not None and client.enrolment.platform_answer_key is not None
        assert client.transport.answer_key is not None
        assert client.list_packages()  # the sandbox's answers verify
        return client.enrolment.platform_answer_key


def test_an_unsigned_acknowledgement_is_not_an_acknowledgement(pinned: bytes) -> None:
    def ack(h: BaseHTTPRequestHandler) -> None:
        case_id = json.loads(h.request_body)["case_id"]  # type: ignore[attr-defined]
        body = {"case_id": case_id, "platform_ref": "EVIL1", "received_at": 1.0, "status": "received"}
        json_answer(json.dumps(body).encode(), 201)(h)

    with (
        hostile(ack) as evil,
        PlatformClient(evil.url, "P1", token="t", platform_answer_key=pinned) as client,
        pytest.raises(PlatformIntegrityError, match="pinned platform key"),
    ):
        client.upload_case(str(uuid.uuid4()), "x", b"sealed")
    with hostile(ack) as evil, PlatformClient(evil.url, "P1", token="t") as unpinned:
        assert unpinned.upload_case(str(uuid.uuid4()), "x", b"sealed").platform_ref == "EVIL1"  # TLS alone


def test_a_forged_qr_identity_is_refused(pinned: bytes) -> None:
    forged = {
        "valid": True,
        "token_id": "t1",
        "source": "app",
        "id_number": "371402195203140022",
        "name": "张桂兰",
        "expires_at": "2099-01-01T00:00:00Z",
    }
    with (
        hostile(json_answer(json.dumps(forged).encode())) as evil,
        PlatformClient(evil.url, "P1", token="t", platform_answer_key=pinned) as client,
        pytest.raises(PlatformIntegrityError),
    ):
        client.verify_qr_token("eid1.anything")


def test_an_old_signed_answer_replayed_is_refused(server: SandboxServer, pinned: bytes) -> None:
    key = Ed25519PrivateKey.generate()
    with PlatformClient(server.url, "P2", signing_key=key) as client:
        client.enrol(code=server.enrolment_code("P2"))
        reply = client.transport.request("GET", "/api/v1/packages")
    recorded = reply.headers, reply.body

    def replay(h: BaseHTTPRequestHandler) -> None:
        json_answer(recorded[1], 200, {"X-Platform-Signature": recorded[0]["X-Platform-Signature"]})(h)

    with (
        hostile(replay) as evil,
        PlatformClient(evil.url, "P2", token="t", platform_answer_key=pinned) as client,
        pytest.raises(PlatformIntegrityError),
    ):
        client.list_packages()


def test_a_tampered_answer_from_the_platform_is_refused(server: SandboxServer, pinned: bytes) -> None:
    # A proxy on the path that keeps the platform's signature but changes the body.
    def tamper(h: BaseHTTPRequestHandler) -> None:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.get(server.url + h.path, headers=headers, timeout=5)
        body = upstream.content.replace(b'"version":"1"', b'"version":"9"')
        json_answer(
            body, upstream.status_code, {"X-Platform-Signature": upstream.headers["X-Platform-Signature"]}
        )(h)

    with PlatformClient(server.url, "P3", token=None) as direct:
        token = direct.enrol(code=server.enrolment_code("P3"))
    with (
        hostile(tamper) as proxy,
        PlatformClient(proxy.url, "P3", token=token, platform_answer_key=pinned) as client,
        pytest.raises(PlatformIntegrityError),
    ):
        client.list_packages()


def test_the_answer_key_is_pinned_once(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "platform-answer.pub"
    first, second = b"\x01" * 32, b"\x02" * 32
    assert read_pinned_key(path) is None
    assert pin_key(path, None) is None
    assert pin_key(path, first) == first
    assert pin_key(path, second) == first  # a later enrolment cannot swap it
    assert read_pinned_key(path) == first
    path.write_text("not base64!\n")
    assert read_pinned_key(path) is None
