"""Citizen lookups on the real sandbox (127.0.0.1) through the real platform client: reference
photos, QR identity tokens and e-licences, by holder token, for enrolled signed terminals only."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.cases.platform_client import PlatformClient, PlatformUnauthorized, PlatformUnavailable
from kiosk.documents.elicence_platform import PlatformELicenceSource, canonical_licence
from kiosk.documents.extractors import BUSINESS_LICENCE, LEASE
from kiosk.identity.qr import QrIdentityVerifier, QrRefusal
from kiosk.review.warnings import hash_identifier
from sandbox_platform.citizens import MEDIA_DIR, holder_token
from sandbox_platform.server import SandboxServer
from tests.sandbox import sandbox_platform

SENIOR_ID = "371402195203140022"
BUSINESS_ID = "37140219880721003X"
EXPIRED_ID = "371428197911020016"
STRANGER_ID = "37140219700228001X"  # a valid number the registry does not know


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SandboxServer]:
    with sandbox_platform(tmp_path, access_log=True) as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> Iterator[PlatformClient]:
    with PlatformClient(server.url, "T1", signing_key=Ed25519PrivateKey.generate()) as c:
        c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
        yield c


def _elicence_source(client: PlatformClient) -> PlatformELicenceSource:
    assert client.enrolment is not None and client.enrolment.elicence_public_key is not None
    return PlatformELicenceSource(
        client, Ed25519PublicKey.from_public_bytes(client.enrolment.elicence_public_key)
    )


def _issue(server: SandboxServer, id_number: str, **extra: object) -> dict[str, str]:
    body = {"id_number": id_number, "name": "张桂兰", **extra}
    resp = requests.post(server.url + "/_sandbox/qr-tokens", json=body, timeout=5)
    resp.raise_for_status()
    answer: dict[str, str] = resp.json()
    return answer


# --------------------------------------------------------------------------- enrolment


def test_enrolment_hands_out_the_lookup_key_and_the_elicence_key(client: PlatformClient) -> None:
    info = client.enrolment
    assert info is not None
    assert info.lookup_key is not None and len(info.lookup_key) == 32
    assert client.lookup_key == info.lookup_key
    assert info.lookup_key_id and info.elicence_key_id
    assert info.elicence_public_key is not None and len(info.elicence_public_key) == 32
    # The sandbox's holder token is the terminal's hash_identifier (same normalisation).
    assert holder_token(info.lookup_key, "37140219880721003x") == hash_identifier(
        info.lookup_key, BUSINESS_ID
    )
    assert client.holder_token(BUSINESS_ID) == hash_identifier(info.lookup_key, BUSINESS_ID)


def test_lookups_before_enrolment_need_the_key(server: SandboxServer) -> None:
    with PlatformClient(server.url, "T0") as fresh, pytest.raises(PlatformUnavailable, match="lookup key"):
        fresh.reference_photo(SENIOR_ID)


# --------------------------------------------------------------------------- reference photos


def test_reference_photos_of_the_demo_citizens_are_seeded(client: PlatformClient) -> None:
    for id_number, photo in (
        (SENIOR_ID, "obama_card.jpg"),
        (BUSINESS_ID, "biden_card.jpg"),
        (EXPIRED_ID, "kit_card.jpg"),
    ):
        assert client.reference_photo(id_number) == (MEDIA_DIR / photo).read_bytes()
    assert client.reference_photo(STRANGER_ID) is None


def test_reference_photo_added_through_the_sandbox_hook(
    server: SandboxServer, client: PlatformClient
) -> None:
    jpeg = (MEDIA_DIR / "obama_live2.jpg").read_bytes()
    resp = requests.post(
        server.url + "/_sandbox/reference-photos",
        json={"id_number": STRANGER_ID, "jpeg_b64": base64.b64encode(jpeg).decode()},
        timeout=5,
    )
    assert resp.status_code == 200
    assert resp.json()["holder"] == client.holder_token(STRANGER_ID)
    assert client.reference_photo(STRANGER_ID) == jpeg
    not_jpeg = requests.post(
        server.url + "/_sandbox/reference-photos",
        json={"id_number": STRANGER_ID, "jpeg_b64": base64.b64encode(b"GIF89a...").decode()},
        timeout=5,
    )
    assert not_jpeg.status_code == 422 and "JPEG" in not_jpeg.json()["detail"]
    assert client.reference_photo(STRANGER_ID) == jpeg  # the bad upload lost nothing


def test_a_holder_that_is_not_a_token_is_refused(server: SandboxServer, client: PlatformClient) -> None:
    assert client.token is not None
    # Signed like the client would, but with the ID number where the holder token belongs.
    for path in (f"/api/v1/reference-photos/{SENIOR_ID}", f"/api/v1/elicences?holder={SENIOR_ID}"):
        prepared = client.transport._session.prepare_request(requests.Request("GET", server.url + path))
        client.transport._sign(prepared)
        assert client.transport._session.send(prepared, timeout=5).status_code == 422


def test_the_id_number_never_travels_in_clear(
    client: PlatformClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    client.reference_photo(BUSINESS_ID)
    client.elicences(BUSINESS_ID)
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) >= 2
    assert all(BUSINESS_ID not in line and BUSINESS_ID.lower() not in line for line in lines)
    assert any(client.holder_token(BUSINESS_ID) in line for line in lines)


# --------------------------------------------------------------------------- authorisation


def test_unknown_and_revoked_terminals_are_refused(server: SandboxServer, client: PlatformClient) -> None:
    assert client.lookup_key is not None
    with PlatformClient(
        server.url, "NOBODY", signing_key=Ed25519PrivateKey.generate(), lookup_key=client.lookup_key
    ) as stranger:
        with pytest.raises(PlatformUnauthorized):
            stranger.reference_photo(SENIOR_ID)
        with pytest.raises(PlatformUnauthorized):
            stranger.elicences(SENIOR_ID)
        with pytest.raises(PlatformUnauthorized):
            stranger.verify_qr_token(_issue(server, SENIOR_ID)["token"])
    token = _issue(server, SENIOR_ID)["token"]
    assert requests.post(server.url + "/_sandbox/terminals/T1/revoke", timeout=5).status_code == 204
    with pytest.raises(PlatformUnauthorized):
        client.reference_photo(SENIOR_ID)
    with pytest.raises(PlatformUnauthorized):
        client.elicences(SENIOR_ID)
    with pytest.raises(PlatformUnauthorized):
        client.verify_qr_token(token)
    # The refused check did not spend the token: another terminal can still use it.
    with PlatformClient(server.url, "T2", signing_key=Ed25519PrivateKey.generate()) as other:
        other.enrol(code=other.sandbox.issue_enrolment_code(other.terminal_id))
        assert other.verify_qr_token(token)["valid"] is True


def test_qr_check_for_another_terminal_id_is_forbidden(server: SandboxServer) -> None:
    with PlatformClient(server.url, "B1") as bearer:  # enrolled without a key: bearer token
        token = bearer.enrol(code=bearer.sandbox.issue_enrolment_code(bearer.terminal_id))
    resp = requests.post(
        server.url + "/api/v1/identity/qr/verify",
        json={"terminal_id": "SOMEONE-ELSE", "token": _issue(server, SENIOR_ID)["token"]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert resp.status_code == 403


# --------------------------------------------------------------------------- QR tokens


def test_qr_token_valid_once_then_used(server: SandboxServer, client: PlatformClient) -> None:
    issued = _issue(server, SENIOR_ID, source="app")
    answer = client.verify_qr_token(issued["token"])
    assert answer == {
        "valid": True,
        "token_id": issued["token_id"],
        "source": "app",
        "id_number": SENIOR_ID,
        "name": "张桂兰",
        "expires_at": issued["expires_at"],
    }
    assert client.verify_qr_token(issued["token"]) == {"valid": False, "reason": "used"}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"ttl_s": -1}, "expired"), ({"revoked": True}, "revoked")],
)
def test_qr_token_expired_or_revoked(
    server: SandboxServer, client: PlatformClient, extra: dict[str, object], reason: str
) -> None:
    assert client.verify_qr_token(_issue(server, SENIOR_ID, **extra)["token"]) == {
        "valid": False,
        "reason": reason,
    }


def test_qr_token_revoked_after_issue_unknown_and_malformed(
    server: SandboxServer, client: PlatformClient
) -> None:
    issued = _issue(server, SENIOR_ID)
    assert (
        requests.post(f"{server.url}/_sandbox/qr-tokens/{issued['token_id']}/revoke", timeout=5).status_code
        == 204
    )
    assert client.verify_qr_token(issued["token"])["reason"] == "revoked"
    assert client.verify_qr_token("EID1." + "A" * 43)["reason"] == "unknown"
    assert client.verify_qr_token("https://example.com/not-an-identity")["reason"] == "malformed"


def test_qr_identity_verifier_on_the_platform_client(server: SandboxServer, client: PlatformClient) -> None:
    verifier = QrIdentityVerifier(client)
    issued = _issue(server, BUSINESS_ID, name="李建国")
    first = verifier.verify(issued["token"])
    assert first.ok and first.identity is not None
    assert (first.identity.id_number, first.identity.name, first.identity.source) == (
        BUSINESS_ID,
        "李建国",
        "e-id",
    )
    assert verifier.verify(issued["token"]).refusal is QrRefusal.ALREADY_USED
    assert verifier.verify(_issue(server, BUSINESS_ID, ttl_s=0)["token"]).refusal is QrRefusal.EXPIRED
    server.stop()
    assert verifier.verify("EID1." + "B" * 43).refusal is QrRefusal.PLATFORM_UNAVAILABLE


# --------------------------------------------------------------------------- e-licences


def test_elicences_of_the_business_citizen_verify_and_carry_extractor_fields(client: PlatformClient) -> None:
    licences = _elicence_source(client).for_holder(BUSINESS_ID)
    by_type = {lic.material_type: lic for lic in licences}
    assert set(by_type) == {"business_licence", "lease"}
    business = by_type["business_licence"]
    assert business.title_zh == "营业执照" and business.issuer
    assert set(business.fields) <= {rule.key for rule in BUSINESS_LICENCE.fields}
    assert business.fields["representative"] == "李建国"
    assert set(by_type["lease"].fields) <= {rule.key for rule in LEASE.fields}
    assert by_type["lease"].fields["premises_address"] == "山东省德州市德城区新华路26号"
    senior = _elicence_source(client).for_holder(SENIOR_ID)
    assert [lic.material_type for lic in senior] == ["senior_card"]
    assert _elicence_source(client).for_holder(STRANGER_ID) == []


def test_tampered_elicence_is_dropped_with_a_warning_without_personal_data(
    server: SandboxServer, client: PlatformClient, caplog: pytest.LogCaptureFixture
) -> None:
    seed = {
        "id_number": EXPIRED_ID,
        "licence_id": "PX-1",
        "material_type": "pension_certificate",
        "title_zh": "养老保险参保证明",
        "title_en": "Pension enrolment certificate",
        "issued_at": "2020-01-01",
        "fields": {"name": "王晓明"},
    }
    for licence_id, tamper in (("PX-1", False), ("PX-2", True)):
        body = {**seed, "licence_id": licence_id, "tamper": tamper}
        assert requests.post(server.url + "/_sandbox/elicences", json=body, timeout=5).status_code == 200
    raw = client.elicences(EXPIRED_ID)
    assert sorted(e["licence"]["licence_id"] for e in raw) == ["PX-1", "PX-2"]  # the platform sends both
    caplog.set_level(logging.INFO, logger="kiosk")
    licences = _elicence_source(client).for_holder(EXPIRED_ID)
    assert [lic.licence_id for lic in licences] == ["PX-1"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("bad signature" in w for w in warnings)
    logged = " ".join(r.getMessage() for r in caplog.records)
    for secret in (EXPIRED_ID, "王晓明", "PX-2", client.holder_token(EXPIRED_ID)):
        assert secret not in logged


def test_elicence_under_another_key_or_for_another_holder_is_dropped(
    server: SandboxServer, client: PlatformClient
) -> None:
    stranger_key = Ed25519PrivateKey.generate()
    assert PlatformELicenceSource(client, stranger_key.public_key()).for_holder(BUSINESS_ID) == []
    # The platform files a licence (validly signed, for the senior) under the business citizen's token.
    source = _elicence_source(client)
    senior_entry = client.elicences(SENIOR_ID)[0]
    db = sqlite3.connect(str(server.data_dir / "citizens.sqlite3"))
    try:
        with db:
            db.execute(
                "INSERT INTO elicences (licence_id, holder, body, signature) VALUES (?, ?, ?, ?)",
                (
                    "MISFILED",
                    client.holder_token(BUSINESS_ID),
                    json.dumps(senior_entry["licence"], ensure_ascii=False),
                    senior_entry["signature"],
                ),
            )
    finally:
        db.close()
    found = source.for_holder(BUSINESS_ID)
    assert sorted(lic.material_type for lic in found) == ["business_licence", "lease"]
    # And the check really is the signature over the canonical form.
    public = source.verify_key
    assert public is not None
    body = senior_entry["licence"]
    public.verify(base64.b64decode(senior_entry["signature"]), canonical_licence(body))
    assert public.public_bytes(Encoding.Raw, PublicFormat.Raw) == client.enrolment.elicence_public_key  # type: ignore[union-attr]


def test_elicences_empty_when_offline_or_without_a_key(server: SandboxServer, client: PlatformClient) -> None:
    assert PlatformELicenceSource(client, None).for_holder(BUSINESS_ID) == []
    source = _elicence_source(client)
    assert len(source.for_holder(BUSINESS_ID)) == 2
    server.stop()
    assert source.for_holder(BUSINESS_ID) == []
    server.start()
    assert len(source.for_holder(BUSINESS_ID)) == 2


def test_registry_keys_survive_a_restart(tmp_path: Path) -> None:
    items = tmp_path / "items"
    items.mkdir()
    first = SandboxServer(tmp_path / "platform", items).start()
    try:
        with PlatformClient(first.url, "R1", signing_key=Ed25519PrivateKey.generate()) as c:
            c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
            before = c.enrolment
    finally:
        first.close()
    second = SandboxServer(tmp_path / "platform", items).start()
    try:
        with PlatformClient(second.url, "R1", signing_key=Ed25519PrivateKey.generate()) as c:
            c.enrol(code=c.sandbox.issue_enrolment_code(c.terminal_id))
            assert c.enrolment == before
            assert c.reference_photo(SENIOR_ID) is not None  # seeding twice did not break anything
    finally:
        second.close()
