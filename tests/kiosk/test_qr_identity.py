"""QrIdentityVerifier on the platform client against a real HTTP server on 127.0.0.1 speaking the
QR token contract, including answers a faulty platform might give (the sandbox itself is tested in
tests/sandbox_platform/test_citizens.py)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import qrcode
from PIL import Image

from devices.barcode.qr import decode_qr
from kiosk.cases.platform_client import PlatformClient
from kiosk.identity.qr import QR_VERIFY_PATH, QrIdentityVerifier, QrRefusal

TERMINAL_TOKEN = "terminal-secret"
SENIOR = {
    "valid": True,
    "token_id": "t-1",
    "source": "app",
    "id_number": "371402195203140022",
    "name": "张桂兰",
    "expires_at": "2026-11-23T12:00:00Z",
}
ANSWERS: dict[str, tuple[int, Any]] = {
    "eid1.senior": (200, SENIOR),
    "身份码:张桂兰:371402195203140022": (200, {"valid": False, "reason": "unknown"}),  # looks real, is forged
    "eid1.expired": (200, {"valid": False, "reason": "expired"}),
    "eid1.used": (200, {"valid": False, "reason": "used"}),
    "eid1.revoked": (200, {"valid": False, "reason": "revoked"}),
    "eid1.down": (503, {"detail": "maintenance"}),
    "eid1.halfanswer": (200, {"valid": True, "name": "张桂兰"}),
    "eid1.badid": (200, {**SENIOR, "id_number": "371402195203140023"}),
    "eid1.garbage": (200, "not an object"),
    "eid1.weird": (404, {"detail": "no"}),
}


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Handler.seen.append(body)
        if self.path != QR_VERIFY_PATH:
            code, answer = 404, {"detail": "not found"}
        elif self.headers.get("Authorization") != f"Bearer {TERMINAL_TOKEN}":
            code, answer = 401, {"detail": "unauthorised"}
        else:
            code, answer = ANSWERS.get(body.get("token"), (200, {"valid": False, "reason": "unknown"}))
        data = json.dumps(answer).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def platform() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Handler.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def verifier(platform: str) -> Iterator[QrIdentityVerifier]:
    client = PlatformClient(platform, "T-01", timeout=2.0, token=TERMINAL_TOKEN)
    yield QrIdentityVerifier(client)
    client.close()


def test_valid_token_from_a_qr_image(verifier: QrIdentityVerifier, caplog: pytest.LogCaptureFixture) -> None:
    img = qrcode.make(b"eid1.senior").get_image()
    assert isinstance(img, Image.Image)
    [code] = decode_qr(img)
    caplog.set_level(logging.DEBUG)
    result = verifier.verify(code.text)
    assert result.ok and result.identity is not None
    assert result.identity.id_number == "371402195203140022" and result.identity.name == "张桂兰"
    assert _Handler.seen == [{"terminal_id": "T-01", "token": "eid1.senior"}]
    assert "371402195203140022" not in caplog.text and "张桂兰" not in caplog.text
    assert "eid1.senior" not in caplog.text and "张桂兰" not in repr(result.identity)


def test_token_is_never_trusted_locally(verifier: QrIdentityVerifier) -> None:
    # A Chinese QR that carries a well-formed identity in clear: only the platform decides.
    img = qrcode.make("身份码:张桂兰:371402195203140022".encode()).get_image()
    assert isinstance(img, Image.Image)
    [code] = decode_qr(img)
    assert code.text == "身份码:张桂兰:371402195203140022"
    result = verifier.verify(code.text)
    assert result.identity is None and result.refusal is QrRefusal.UNKNOWN
    assert len(_Handler.seen) == 1


@pytest.mark.parametrize(
    ("token", "refusal"),
    [
        ("eid1.expired", QrRefusal.EXPIRED),
        ("eid1.used", QrRefusal.ALREADY_USED),
        ("eid1.revoked", QrRefusal.REVOKED),
        ("eid1.down", QrRefusal.PLATFORM_UNAVAILABLE),
        ("eid1.halfanswer", QrRefusal.INVALID_ANSWER),
        ("eid1.badid", QrRefusal.INVALID_ANSWER),
        ("eid1.garbage", QrRefusal.PLATFORM_UNAVAILABLE),
        ("eid1.weird", QrRefusal.UNKNOWN),
    ],
)
def test_platform_refusals(verifier: QrIdentityVerifier, token: str, refusal: QrRefusal) -> None:
    result = verifier.verify(token)
    assert not result.ok and result.refusal is refusal
    assert result.message()[0] and result.message()[1]


def test_malformed_tokens_are_not_sent(verifier: QrIdentityVerifier) -> None:
    for token in ["", " eid1.senior", "eid1.\x00senior", "x" * 3000]:
        assert verifier.verify(token).refusal is QrRefusal.MALFORMED
    assert _Handler.seen == []


def test_wrong_terminal_credentials_and_platform_down(platform: str) -> None:
    unauthorised = PlatformClient(platform, "T-01", token="wrong")
    assert QrIdentityVerifier(unauthorised).verify("eid1.senior").refusal is QrRefusal.PLATFORM_UNAVAILABLE
    unauthorised.close()
    down = PlatformClient("http://127.0.0.1:9", "T-01", timeout=1.0, token=TERMINAL_TOKEN)
    assert QrIdentityVerifier(down).verify("eid1.senior").refusal is QrRefusal.PLATFORM_UNAVAILABLE
    down.close()
