"""Signed requests (Ed25519): the sandbox accepts the enrolled key and refuses everything else."""

from __future__ import annotations

import base64
import hashlib
import stat
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.crypto import load_or_create_terminal_key
from kiosk.cases.platform_client import PlatformClient, PlatformUnauthorized, signed_message
from sandbox_platform.server import SandboxServer


@pytest.fixture
def key(tmp_path: Path) -> Ed25519PrivateKey:
    return load_or_create_terminal_key(tmp_path / "terminal" / "signing.pem")


def test_key_file_is_private_and_stable(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    path = tmp_path / "terminal" / "signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_terminal_key(path)
    assert again.public_key() == key.public_key()


def test_signed_requests_work_and_bearer_alone_does_not(
    server: SandboxServer, key: Ed25519PrivateKey
) -> None:
    with PlatformClient(server.url, "S1", signing_key=key) as client:
        token = client.enrol(code=client.sandbox.issue_enrolment_code(client.terminal_id))
        case_id = str(uuid.uuid4())
        ack = client.upload_case(case_id, "x", b"payload")
        assert ack.case_id == case_id
        assert client.case_status(case_id)["case_id"] == case_id
        assert [p.item_id for p in client.list_packages()] == ["x"]
    # Once a key is enrolled, the token alone is refused.
    with PlatformClient(server.url, "S1", token=token) as bearer, pytest.raises(PlatformUnauthorized):
        bearer.list_packages()


def test_wrong_key_unknown_terminal_and_tampering_are_refused(
    server: SandboxServer, key: Ed25519PrivateKey
) -> None:
    with PlatformClient(server.url, "S1", signing_key=key) as client:
        client.enrol(code=client.sandbox.issue_enrolment_code(client.terminal_id))
    with (
        PlatformClient(server.url, "S1", signing_key=Ed25519PrivateKey.generate()) as other,
        pytest.raises(PlatformUnauthorized),
    ):
        other.list_packages()
    with (
        PlatformClient(server.url, "NOBODY", signing_key=key) as unknown,
        pytest.raises(PlatformUnauthorized),
    ):
        unknown.list_packages()
    # A valid signature over another body, a stale timestamp: refused.
    ts = f"{time.time():.3f}"
    sig = base64.b64encode(key.sign(signed_message("GET", "/api/v1/packages", ts, b""))).decode()
    empty = hashlib.sha256(b"").hexdigest()
    headers = {"X-Terminal-Id": "S1", "X-Timestamp": ts, "X-Signature": sig, "X-Content-SHA256": empty}
    assert requests.get(server.url + "/api/v1/packages", headers=headers, timeout=5).status_code == 200
    assert requests.get(server.url + "/api/v1/warning-lists", headers=headers, timeout=5).status_code == 401
    stale = "1000.000"
    sig = base64.b64encode(key.sign(signed_message("GET", "/api/v1/packages", stale, b""))).decode()
    headers = {"X-Terminal-Id": "S1", "X-Timestamp": stale, "X-Signature": sig, "X-Content-SHA256": empty}
    assert requests.get(server.url + "/api/v1/packages", headers=headers, timeout=5).status_code == 401


def test_revoked_terminal_is_refused_and_cannot_re_enrol(
    server: SandboxServer, key: Ed25519PrivateKey
) -> None:
    with PlatformClient(server.url, "S1", signing_key=key) as client:
        client.enrol(code=client.sandbox.issue_enrolment_code(client.terminal_id))
        client.list_packages()
        assert requests.post(server.url + "/_sandbox/terminals/S1/revoke", timeout=5).status_code == 204
        with pytest.raises(PlatformUnauthorized):
            client.upload_case(str(uuid.uuid4()), "x", b"payload")
        with pytest.raises(PlatformUnauthorized):
            client.enrol(code=client.sandbox.issue_enrolment_code(client.terminal_id))
    assert requests.post(server.url + "/_sandbox/terminals/NOBODY/revoke", timeout=5).status_code == 404
