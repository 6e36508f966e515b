"""The platform's citizen lookups inside a whole terminal (demo profile: simulators on ptys/TCP,
the real sandbox on 127.0.0.1, the real face model): the face check falls back to the platform's
reference photo when the card photo cannot be decoded, identity by e-ID QR code on the scanner,
and the e-licence source built from the platform client."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtWidgets import QLabel

from devices.idcard.photo import VendorPhotoDecoder
from kiosk.config import SessionConfig, TerminalConfig
from kiosk.i18n import tr
from kiosk.identity.face import FaceResult
from kiosk.identity.qr import QrRefusal, QrVerification
from kiosk.session.events import QrRefused
from kiosk.session.machine import Step
from terminal.runtime import DEMO_CITIZENS, Terminal, build_terminal
from tests.conftest import Factory

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SENIOR, BUSINESS, EXPIRED = DEMO_CITIZENS
SENIOR_ID = "371402195203140022"
BUSINESS_ID = "37140219880721003X"


@pytest.fixture
def terminal(tmp_path: Path, face_verifier: Any) -> Iterator[Terminal]:
    config = TerminalConfig(data_dir=str(tmp_path), session=SessionConfig(card_timeout_s=10.0))
    built = build_terminal(config, tmp_path / "work", face=face_verifier)
    yield built
    built.close()


def _present_card(terminal: Terminal, card: str, live: tuple[str, ...], item: str) -> None:
    bench = terminal.bench
    assert bench is not None
    service = terminal.session
    service.start()
    service.choose_item(item)
    bench.present_face(live)
    bench.idcard.insert(card)
    assert service.card.read() is not None
    assert service.step is Step.FACE_CHECK


def _issue_qr(terminal: Terminal, id_number: str, name: str) -> str:
    resp = requests.post(
        terminal.sandbox.url + "/_sandbox/qr-tokens", json={"id_number": id_number, "name": name}, timeout=5
    )
    resp.raise_for_status()
    token: str = resp.json()["token"]
    return token


def _submit(terminal: Terminal, extra: dict[str, str] | None = None) -> dict[str, Any]:
    """From the form to a stored case (senior-card: no materials); the case payload as stored."""
    service = terminal.session
    values = {f.key: f.value for f in service.form.fields()}
    values.update(extra or {})
    assert service.form.submit(values) == {}
    assert service.step is Step.REVIEW
    service.review.run()
    assert service.step is Step.CONFIRM_SIGN
    result = service.submission.submit(b"\x89PNG signature")
    assert result is not None
    stored = terminal.store.cases.get(result.case_id)
    assert stored is not None
    payload: dict[str, Any] = json.loads(stored.payload)
    return payload


def _audit(terminal: Terminal, event: str) -> list[dict[str, Any]]:
    return [dict(r.details) for r in terminal.store.audit_trail.records() if r.event == event]


def test_undecodable_card_photo_falls_back_to_the_platform_reference(terminal: Terminal) -> None:
    service = terminal.session
    service.card.photo_decoder = VendorPhotoDecoder(None)  # production without the vendor library
    _present_card(terminal, SENIOR.key, SENIOR.live_images, SENIOR.item_id)
    assert service.data.identity.card_photo is None

    result = service.face.check()
    assert isinstance(result, FaceResult) and result.matched
    assert service.step is Step.FORM
    assert service.data.identity.face_reference == "platform_reference"
    assert _audit(terminal, "reference_photo")[-1]["found"] is True

    evidence = _submit(terminal)["identity_evidence"]
    assert evidence["face_reference"] == "platform_reference"
    assert evidence["identity_source"] == "card"
    assert evidence["face_matched"] is True and evidence["staff_assisted"] is False


def test_platform_reference_still_catches_an_impostor(terminal: Terminal) -> None:
    terminal.session.card.photo_decoder = VendorPhotoDecoder(None)
    # The business citizen's card, but Obama in front of the camera.
    _present_card(terminal, BUSINESS.key, SENIOR.live_images, BUSINESS.item_id)
    result = terminal.session.face.check()
    assert result is not None and not result.matched
    assert terminal.session.data.identity.face_reference == "platform_reference"
    assert terminal.session.step is Step.FACE_CHECK  # tries again (then staff after the last attempt)


def test_no_card_photo_and_no_platform_photo_goes_to_staff_with_the_reason(terminal: Terminal) -> None:
    terminal.session.card.photo_decoder = VendorPhotoDecoder(None)
    # A valid card whose holder the platform's registry has no photo of.
    _present_card(terminal, "fingerprint", SENIOR.live_images, SENIOR.item_id)
    assert terminal.session.face.check() is None
    data = terminal.session.data
    assert terminal.session.step is Step.STAFF_ASSIST
    assert data.identity.staff_assisted_identity and data.identity.face_reference is None
    assert data.identity.staff_assist_reason == "staff.no_reference_photo"
    assert tr("staff.no_reference_photo", "en").startswith("The card photo cannot be read")
    assert _audit(terminal, "reference_photo")[-1]["found"] is False
    assert _audit(terminal, "face_check")[-1]["reason"] == "no_reference_photo"


def test_platform_down_and_no_card_photo_goes_to_staff(terminal: Terminal) -> None:
    terminal.session.card.photo_decoder = VendorPhotoDecoder(None)
    _present_card(terminal, SENIOR.key, SENIOR.live_images, SENIOR.item_id)
    terminal.sandbox.stop()
    assert terminal.session.face.check() is None
    assert terminal.session.step is Step.STAFF_ASSIST
    assert _audit(terminal, "reference_photo")[-1]["error"] == "PlatformUnavailable"


def test_decodable_card_photo_is_used_without_asking_the_platform(terminal: Terminal) -> None:
    _present_card(terminal, SENIOR.key, SENIOR.live_images, SENIOR.item_id)
    result = terminal.session.face.check()
    assert result is not None and result.matched
    assert terminal.session.data.identity.face_reference == "card_photo"
    assert _audit(terminal, "reference_photo") == []


def test_identity_by_qr_code_then_face_against_the_reference_photo(terminal: Terminal) -> None:
    service, bench = terminal.session, terminal.bench
    assert bench is not None and service.card.qr_available
    refused: list[Any] = []
    service.subscribe(lambda e: refused.append(e.verification) if isinstance(e, QrRefused) else None)
    token = _issue_qr(terminal, SENIOR_ID, "张桂兰")

    service.start()
    service.choose_item(SENIOR.item_id)
    bench.present_face(SENIOR.live_images)
    bench.scanner.scan(token)
    verification = service.card.identify_by_qr(timeout_s=5.0)
    assert verification is not None and verification.ok
    assert service.step is Step.FACE_CHECK
    assert service.data.identity.identity_source == "qr"
    assert service.data.identity.card.text.id_number == SENIOR_ID
    assert service.data.identity.card.text.birth_date.isoformat() == "1952-03-14"
    assert service.data.identity.card.text.sex == "2"

    result = service.face.check()
    assert result is not None and result.matched
    assert service.data.identity.face_reference == "platform_reference"
    fields = {f.key: f for f in service.form.fields()}
    assert fields["name"].value == "张桂兰" and fields["name"].readonly
    assert fields["address"].value == "" and not fields["address"].readonly  # typed by the citizen
    payload = _submit(terminal, {"address": "山东省德州市德城区新湖大街1号"})
    assert payload["identity_evidence"]["identity_source"] == "qr"
    assert payload["identity_evidence"]["face_reference"] == "platform_reference"
    assert payload["applicant"]["address"] == "山东省德州市德城区新湖大街1号"
    assert payload["decision"]["outcome"] == "approve"

    # The same code again (next session): one-time use, the citizen is told and stays on the card step.
    service.cancel()
    service.start()
    service.choose_item(SENIOR.item_id)
    bench.scanner.scan(token)
    again = service.card.identify_by_qr(timeout_s=5.0)
    assert again is not None and again.refusal is QrRefusal.ALREADY_USED
    assert service.step is Step.READ_CARD
    assert [v.refusal for v in refused] == [QrRefusal.ALREADY_USED]
    assert _audit(terminal, "qr_identity")[-1]["refused"] == "used"


def test_qr_wait_times_out_quietly_without_a_code(terminal: Terminal) -> None:
    service = terminal.session
    service.start()
    service.choose_item(SENIOR.item_id)
    t0 = time.monotonic()
    assert service.card.identify_by_qr(timeout_s=1.0) is None
    assert time.monotonic() - t0 < 5
    assert service.step is Step.READ_CARD


def test_elicence_source_is_built_from_the_platform_and_keys_are_kept(terminal: Terminal) -> None:
    source = terminal.session.materials.elicences
    assert source is not None
    licences = source.for_holder(BUSINESS_ID)
    assert sorted(lic.material_type for lic in licences) == ["business_licence", "lease"]
    secrets_dir = terminal.workdir / "secrets"
    for name in ("lookup.key", "elicence-verify.pub"):
        assert (secrets_dir / name).exists(), name
    assert stat.S_IMODE((secrets_dir / "lookup.key").stat().st_mode) == 0o600
    assert terminal.client.lookup_key == (secrets_dir / "lookup.key").read_bytes()


def test_read_card_screen_offers_the_qr_code(kiosk: Factory) -> None:
    terminal, ui, driver = kiosk()
    bench = terminal.bench
    assert bench is not None
    token = _issue_qr(terminal, SENIOR_ID, "张桂兰")
    driver.begin(SENIOR.item_id)
    button = driver.find("useQr")
    assert button.isVisible() and button.text() == tr("card.use_qr")
    bench.present_face(SENIOR.live_images)
    driver.click("useQr")
    bench.scanner.scan(token)
    driver.wait_step(Step.FORM, timeout=60)
    assert terminal.session.data.identity.identity_source == "qr"

    terminal.session.cancel()
    driver.wait_step(Step.ATTRACT)
    driver.begin(SENIOR.item_id)
    driver.click("useQr")
    bench.scanner.scan(token)  # already used
    expected = QrVerification(None, QrRefusal.ALREADY_USED).message()[0]
    driver.wait_until(
        lambda: any(w.text() == expected for w in ui.window.findChildren(QLabel) if w.isVisible()),
        10.0,
        "the refusal on the card screen",
    )
    assert ui.window.current_step() is Step.READ_CARD
