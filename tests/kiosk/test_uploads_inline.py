"""Attachments of at most one chunk in one request (``content`` in the create), against a real
sandbox on 127.0.0.1; requests are counted on the wire by a recording TCP proxy."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.cases.outbox import Backoff, OutboxDrainer
from kiosk.cases.platform_client import PlatformClient, PlatformRejected
from kiosk.cases.uploads import CHUNK_BYTES, AttachmentUploader, FieldKeyring
from offline_cache.store import NewAttachment, Store, StoredAttachment
from sandbox_platform import outbox_api
from sandbox_platform.server import SandboxServer
from tests.kiosk.recording_proxy import RecordingProxy
from tests.kiosk.test_uploads import PAYLOAD, _image

_REQUEST_LINE = re.compile(rb"(GET|PUT|POST) (/api/v1/uploads\S*) HTTP/1\.1\r\n")


def upload_requests(proxy: RecordingProxy) -> list[str]:
    """The upload requests the terminal sent so far ("METHOD path"), and forget them."""
    found = [f"{m.decode()} {p.decode()}" for m, p in _REQUEST_LINE.findall(bytes(proxy.sent))]
    proxy.sent.clear()
    return found


@pytest.fixture
def client(proxy: RecordingProxy) -> Iterator[PlatformClient]:
    c = PlatformClient(proxy.url, "UP2", timeout=5.0, signing_key=Ed25519PrivateKey.generate())
    c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
    yield c
    c.close()


def _stored(store: Store, name: str, body: bytes) -> StoredAttachment:
    case_id = str(uuid.uuid4())
    attachment = NewAttachment(str(uuid.uuid4()), name, "image/png", body)
    store.cases.add(case_id, "x", PAYLOAD, 1.0, attachments=[attachment])
    stored = store.attachments.get(attachment.attachment_id)
    assert stored is not None
    return stored


def _spec(stored: StoredAttachment, wire: bytes, **changes: Any) -> dict[str, Any]:
    spec = {
        "case_id": stored.case_id,
        "name": stored.name,
        "media_type": stored.media_type,
        "size": len(wire),
        "sha256": hashlib.sha256(wire).hexdigest(),
        "plaintext_sha256": stored.sha256,
        "encryption": "none",
        "content": base64.b64encode(wire).decode("ascii"),
    }
    return {**spec, **changes}


def _uploads_of_case(server: SandboxServer, case_id: str) -> list[tuple[str, str]]:
    state = server.app.state.outbox
    with state.lock:
        rows = state._conn.execute(
            "SELECT upload_id, state FROM uploads WHERE case_id = ?", (case_id,)
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"sha256": "0" * 64}, 422),  # the bytes are not the announced ones
        ({"plaintext_sha256": "0" * 64}, 422),
        ({"size": 1001}, 400),  # shorter than announced
        ({"content": base64.b64encode(b"x" * 999).decode()}, 400),
        ({"content": "not base64!"}, 400),
        ({"encryption": "aes-256-gcm"}, 422),  # said to be sealed, does not open
    ],
)
def test_inline_content_that_fails_the_checks_is_refused_and_nothing_is_stored(
    store: Store, client: PlatformClient, server: SandboxServer, change: dict[str, Any], status: int
) -> None:
    FieldKeyring(store, client, secrets.token_bytes(32), terminal_id="UP2").cipher()  # a key is agreed
    body = _image(1000)
    stored = _stored(store, "signature", body)
    with pytest.raises(PlatformRejected) as info:
        client.create_upload(stored.attachment_id, _spec(stored, body, **change))
    assert info.value.status == status
    assert info.value.reason  # a clear reason
    assert _uploads_of_case(server, stored.case_id) == []
    assert server.app.state.outbox.attachment(stored.case_id, "signature") is None
    with pytest.raises(PlatformRejected) as info:
        client.upload_case(stored.case_id, "x", PAYLOAD, attachments=AttachmentUploader.refs_of([stored]))
    assert info.value.status == 422 and "not uploaded completely" in (info.value.reason or "")
    # The right bytes under the same key are taken afterwards.
    session = client.create_upload(stored.attachment_id, _spec(stored, body))
    assert session.complete


def test_an_inline_create_answers_complete_and_the_case_is_accepted(
    store: Store, client: PlatformClient, server: SandboxServer
) -> None:
    keyring = FieldKeyring(store, client, secrets.token_bytes(32), terminal_id="UP2")
    body = _image(5000)
    stored = _stored(store, "face", body)
    wire = keyring.cipher().seal_deterministic(body, stored.case_id)
    spec = _spec(stored, wire, encryption="aes-256-gcm")
    session = client.create_upload(stored.attachment_id, spec)
    assert session.complete and session.offset == session.size == len(wire)
    got = server.app.state.outbox.attachment(stored.case_id, "face")
    assert got is not None and got[1] == body  # opened and kept in clear, as complete does
    # A repeat is the same complete session; the same key with another spec is refused.
    assert client.create_upload(stored.attachment_id, spec) == session
    with pytest.raises(PlatformRejected) as info:
        client.create_upload(stored.attachment_id, {**spec, "name": "signature"})
    assert info.value.status == 422
    ack = client.upload_case(stored.case_id, "x", PAYLOAD, attachments=AttachmentUploader.refs_of([stored]))
    assert ack.platform_ref


def test_a_small_attachment_is_one_request_a_large_one_is_chunked(
    store: Store, client: PlatformClient, proxy: RecordingProxy, server: SandboxServer
) -> None:
    uploader = AttachmentUploader(store, client)
    upload_requests(proxy)
    small = _stored(store, "signature", _image(CHUNK_BYTES))  # exactly one chunk
    uploader.upload(small)
    assert upload_requests(proxy) == ["POST /api/v1/uploads"]
    large = _stored(store, "material:lease:0", _image(CHUNK_BYTES + 1))
    uploader.upload(large)
    put = f"PUT /api/v1/uploads/{large.attachment_id}"
    assert upload_requests(proxy) == [
        "POST /api/v1/uploads",
        put,
        put,
        f"POST /api/v1/uploads/{large.attachment_id}/complete",
    ]
    for stored, body in ((small, _image(CHUNK_BYTES)), (large, _image(CHUNK_BYTES + 1))):
        got = server.app.state.outbox.attachment(stored.case_id, stored.name)
        assert got is not None and got[1] == body
        again = store.attachments.get(stored.attachment_id)
        assert again is not None and again.uploaded_at is not None


def test_a_session_opened_by_the_chunked_path_is_finished_inline(
    store: Store, client: PlatformClient, proxy: RecordingProxy, server: SandboxServer
) -> None:
    body = _image(3000)
    stored = _stored(store, "signature", body)
    spec = _spec(stored, body)
    del spec["content"]
    assert not client.create_upload(stored.attachment_id, spec).complete  # e.g. an older build, then a crash
    upload_requests(proxy)
    AttachmentUploader(store, client).upload(stored)
    assert upload_requests(proxy) == ["POST /api/v1/uploads"]
    got = server.app.state.outbox.attachment(stored.case_id, "signature")
    assert got is not None and got[1] == body


def test_a_platform_that_ignores_the_content_gets_put_and_complete(
    store: Store,
    client: PlatformClient,
    proxy: RecordingProxy,
    server: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_api.UploadCreate, "inline", lambda self: None)  # an older platform
    body = _image(2000)
    stored = _stored(store, "signature", body)
    upload_requests(proxy)
    AttachmentUploader(store, client).upload(stored)
    assert upload_requests(proxy) == [
        "POST /api/v1/uploads",
        f"PUT /api/v1/uploads/{stored.attachment_id}",
        f"POST /api/v1/uploads/{stored.attachment_id}/complete",
    ]
    got = server.app.state.outbox.attachment(stored.case_id, "signature")
    assert got is not None and got[1] == body


def test_a_retried_inline_create_after_a_lost_answer_uploads_once(
    store: Store, client: PlatformClient, proxy: RecordingProxy, server: SandboxServer
) -> None:
    keyring = FieldKeyring(store, client, secrets.token_bytes(32), terminal_id="UP2")
    keyring.cipher()
    body = _image(4000)
    stored = _stored(store, "signature", body)
    drainer = OutboxDrainer(
        store, client, cipher=keyring.cipher, backoff=Backoff(base_s=0.0, max_s=0.0, jitter=0.0)
    )
    client.sandbox.set_faults(drop_after_processing=True)  # the platform completes it, the answer is lost
    upload_requests(proxy)
    report = drainer.drain_once()
    assert (report.sent, report.retried) == (0, 1)
    assert upload_requests(proxy) == ["POST /api/v1/uploads"]
    assert _uploads_of_case(server, stored.case_id) == [(stored.attachment_id, "complete")]
    pending = store.attachments.get(stored.attachment_id)
    assert pending is not None and pending.uploaded_at is None
    client.sandbox.set_faults()
    assert drainer.drain_once().sent == 1
    assert upload_requests(proxy) == ["POST /api/v1/uploads"]  # the replay answers complete
    assert _uploads_of_case(server, stored.case_id) == [(stored.attachment_id, "complete")]
    done = store.attachments.get(stored.attachment_id)
    assert done is not None and done.uploaded_at is not None
    got = server.app.state.outbox.attachment(stored.case_id, "signature")
    assert got is not None and got[1] == body
    received = [c for c in client.sandbox.received_cases() if c["case_id"] == stored.case_id]
    assert len(received) == 1
