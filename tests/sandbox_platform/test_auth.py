"""The sandbox platform's trust boundary: authentication before bodies, finite fresh timestamps,
no replays, one-time enrolment codes, and each terminal sees only its own resources."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.platform_client import (
    PlatformClient,
    PlatformRejected,
    PlatformUnauthorized,
    signed_message,
)
from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path, "x") as srv:
        yield srv


def _enrolled(
    server: SandboxServer, terminal_id: str, key: Ed25519PrivateKey | None = None
) -> PlatformClient:
    client = PlatformClient(
        server.url, terminal_id, timeout=5.0, signing_key=key or Ed25519PrivateKey.generate()
    )
    client.enrol(code=server.enrolment_code(terminal_id))
    return client


def _signed_headers(
    key: Ed25519PrivateKey, method: str, path: str, body: bytes, ts: str | None = None
) -> dict[str, str]:
    ts = ts if ts is not None else f"{time.time():.6f}"
    signature = base64.b64encode(key.sign(signed_message(method, path, ts, body))).decode()
    return {
        "X-Terminal-Id": "A1",
        "X-Timestamp": ts,
        "X-Signature": signature,
        "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
    }


def _raw_head(port: int, head: str) -> tuple[socket.socket, bytes]:
    """Send only the request head; return the socket and what the server answered before any body."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(head.encode("latin-1"))
    sock.settimeout(3)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(4096)
        if not chunk:
            break
        answer += chunk
    return sock, answer


# --------------------------------------------------------------------------- bodies


def test_a_huge_put_with_a_fake_signature_is_refused_before_its_body_is_read(server: SandboxServer) -> None:
    _enrolled(server, "A1").close()
    fake = base64.b64encode(b"\0" * 64).decode()
    for length in (600 * 1024 * 1024, 4 * 1024 * 1024):
        head = (
            f"PUT /api/v1/uploads/{uuid.uuid4()} HTTP/1.1\r\nHost: x\r\nX-Terminal-Id: A1\r\n"
            f"X-Timestamp: {time.time():.3f}\r\nX-Signature: {fake}\r\nX-Content-SHA256: {'0' * 64}\r\n"
            f"Content-Range: bytes 0-{length - 1}/{length}\r\nContent-Length: {length}\r\n\r\n"
        )
        sock, answer = _raw_head(server.port, head)  # not one body byte sent
        sock.close()
        status = answer.split(b" ", 2)[1]
        assert status == (b"413" if length > 8 * 1024 * 1024 else b"401"), answer


def test_a_chunked_body_over_the_cap_is_cut_off(server: SandboxServer) -> None:
    client = _enrolled(server, "A1")
    assert client.signing_key is not None

    def endless() -> Iterator[bytes]:
        for _ in range(200):  # 12.8 MB, over the 8 MiB cap
            yield b"\0" * 65536

    path = f"/api/v1/uploads/{uuid.uuid4()}"
    headers = _signed_headers(client.signing_key, "PUT", path, b"")
    try:
        answer = requests.put(server.url + path, data=endless(), headers=headers, timeout=10)
        assert answer.status_code in (401, 413)
    except requests.ConnectionError:
        pass  # the platform hung up on the body: also refused
    client.close()


def test_a_body_that_is_not_the_signed_one_is_refused(server: SandboxServer) -> None:
    key = Ed25519PrivateKey.generate()
    _enrolled(server, "A1", key).close()
    headers = _signed_headers(key, "POST", "/api/v1/terminals/A1/heartbeat", b'{"device_status":{}}')
    tampered = b'{"device_status":{"x":1}}'
    answer = requests.post(
        server.url + "/api/v1/terminals/A1/heartbeat", data=tampered, headers=headers, timeout=5
    )
    assert answer.status_code == 401 and "X-Content-SHA256" in answer.json()["detail"]


# --------------------------------------------------------------------------- timestamps and replays


@pytest.mark.parametrize("stamp", ["nan", "NaN", "inf", "-inf", "1e400"])
def test_a_timestamp_that_is_not_a_finite_number_is_refused(server: SandboxServer, stamp: str) -> None:
    key = Ed25519PrivateKey.generate()
    _enrolled(server, "A1", key).close()
    headers = _signed_headers(key, "GET", "/api/v1/packages", b"", ts=stamp)
    answer = requests.get(server.url + "/api/v1/packages", headers=headers, timeout=5)
    assert answer.status_code == 401 and "X-Timestamp" in answer.json()["detail"]


def test_a_refused_timestamp_says_why_and_by_how_much(server: SandboxServer) -> None:
    key = Ed25519PrivateKey.generate()
    _enrolled(server, "A1", key).close()
    headers = _signed_headers(key, "GET", "/api/v1/packages", b"", ts=f"{time.time() - 900:.3f}")
    answer = requests.get(server.url + "/api/v1/packages", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert "too far from the platform's clock (-900 s" in answer.json()["detail"]


def test_an_identical_signed_request_is_not_accepted_twice(server: SandboxServer) -> None:
    key = Ed25519PrivateKey.generate()
    _enrolled(server, "A1", key).close()
    headers = _signed_headers(key, "GET", "/api/v1/packages", b"")
    assert requests.get(server.url + "/api/v1/packages", headers=headers, timeout=5).status_code == 200
    again = requests.get(server.url + "/api/v1/packages", headers=headers, timeout=5)
    assert again.status_code == 401 and "replayed" in again.json()["detail"]


# --------------------------------------------------------------------------- enrolment


def test_enrolment_needs_a_one_time_code_for_that_terminal(server: SandboxServer) -> None:
    with PlatformClient(server.url, "A1", signing_key=Ed25519PrivateKey.generate()) as client:
        with pytest.raises(PlatformUnauthorized) as none:
            client.enrol()
        assert none.value.reason is not None and "one-time code" in none.value.reason
        with pytest.raises(PlatformUnauthorized):
            client.enrol(code=server.enrolment_code("B2"))  # another terminal's code
        code = server.enrolment_code("A1")
        assert client.enrol(code=code)
        assert client.enrolment is not None and client.enrolment.lookup_key
    with (
        PlatformClient(server.url, "A1", signing_key=Ed25519PrivateKey.generate()) as thief,
        pytest.raises(PlatformUnauthorized),
    ):
        thief.enrol(code=code)  # spent


def test_nobody_can_take_over_an_enrolled_terminal(server: SandboxServer) -> None:
    key = Ed25519PrivateKey.generate()
    real = _enrolled(server, "A1", key)
    with (
        PlatformClient(server.url, "A1", signing_key=Ed25519PrivateKey.generate()) as thief,
        pytest.raises(PlatformUnauthorized),
    ):
        thief.enrol()
    with PlatformClient(server.url, "A1") as bearer, pytest.raises(PlatformUnauthorized):
        bearer.enrol()
    # The real terminal still works and re-enrols with its own key, no code needed.
    assert real.list_packages()
    assert real.enrol()
    assert real.list_packages()
    real.close()
    # A new code from the platform (a replaced terminal) does hand the id to a new key.
    with PlatformClient(server.url, "A1", signing_key=Ed25519PrivateKey.generate()) as replacement:
        replacement.enrol(code=server.enrolment_code("A1"))
        assert replacement.list_packages()
    with PlatformClient(server.url, "A1", signing_key=key) as old, pytest.raises(PlatformUnauthorized):
        old.list_packages()


def test_an_expired_code_is_refused(server: SandboxServer) -> None:
    code = server.enrolment_code("A1", ttl_s=0.05)
    time.sleep(0.1)
    with PlatformClient(server.url, "A1") as client, pytest.raises(PlatformUnauthorized):
        client.enrol(code=code)


# --------------------------------------------------------------------------- per-terminal resources


def _upload_certificate(client: PlatformClient, case_id: str, pdf: bytes) -> None:
    digest = hashlib.sha256(pdf).hexdigest()
    spec = {
        "case_id": case_id,
        "name": "certificate",
        "media_type": "application/pdf",
        "size": len(pdf),
        "sha256": digest,
        "plaintext_sha256": digest,
        "encryption": "none",
    }
    session = client.create_upload(str(uuid.uuid4()), spec)
    client.put_chunk(session.upload_id, 0, pdf, len(pdf))
    assert client.complete_upload(session.upload_id).complete


def test_a_terminal_sees_only_its_own_cases_certificates_and_uploads(server: SandboxServer) -> None:
    owner, other = _enrolled(server, "A1"), _enrolled(server, "B2")
    case_id = str(uuid.uuid4())
    owner.upload_case(case_id, "x", b"payload")
    pdf = b"%PDF-1.7 certificate for a citizen"
    _upload_certificate(owner, case_id, pdf)
    assert owner.case_status(case_id)["case_id"] == case_id
    assert owner.certificate(case_id) == pdf
    with pytest.raises(PlatformRejected) as status:
        other.case_status(case_id)
    assert status.value.status == 404
    with pytest.raises(PlatformRejected) as certificate:
        other.certificate(case_id)
    assert certificate.value.status == 404
    session = owner.create_upload(
        str(uuid.uuid4()),
        {
            "case_id": case_id,
            "name": "face",
            "media_type": "image/jpeg",
            "size": 3,
            "sha256": hashlib.sha256(b"abc").hexdigest(),
            "plaintext_sha256": hashlib.sha256(b"abc").hexdigest(),
        },
    )
    with pytest.raises(PlatformRejected) as upload:
        other.upload_offset(session.upload_id)
    assert upload.value.status == 404
    owner.close()
    other.close()


def test_another_terminal_cannot_replay_a_case_to_read_its_receipt(server: SandboxServer) -> None:
    owner, other = _enrolled(server, "A1"), _enrolled(server, "B2")
    case_id = str(uuid.uuid4())
    owner.upload_case(case_id, "x", b"payload")
    body = {
        "case_id": case_id,
        "item_id": "x",
        "terminal_id": "A1",
        "payload_b64": base64.b64encode(b"payload").decode(),
        "payload_sha256": hashlib.sha256(b"payload").hexdigest(),
    }
    with pytest.raises(PlatformUnauthorized) as info:
        other.transport.request("POST", "/api/v1/cases", json_body=body, headers={"Idempotency-Key": case_id})
    assert info.value.status == 403
    owner.close()
    other.close()


def test_a_replay_is_refused_after_the_platform_restarts(tmp_path: Path) -> None:
    """The replay cache is in the platform's SQLite file, not in the process."""
    items = tmp_path / "items"
    items.mkdir()
    key = Ed25519PrivateKey.generate()
    first = SandboxServer(tmp_path / "platform", items).start()
    try:
        _enrolled(first, "A1", key).close()
        headers = _signed_headers(key, "GET", "/api/v1/packages", b"")
        assert requests.get(first.url + "/api/v1/packages", headers=headers, timeout=5).status_code == 200
    finally:
        first.close()
    again = SandboxServer(tmp_path / "platform", items).start()
    try:
        answer = requests.get(again.url + "/api/v1/packages", headers=headers, timeout=5)
        assert answer.status_code == 401 and "replayed" in answer.json()["detail"]
        fresh = _signed_headers(key, "GET", "/api/v1/packages", b"")  # a new request still passes
        assert requests.get(again.url + "/api/v1/packages", headers=fresh, timeout=5).status_code == 200
    finally:
        again.close()
