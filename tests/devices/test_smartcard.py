"""pyscard driver against the real pcscd + vpcd with a virtual card (packaging/pcsc scripts)."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding

from devices.base import DeviceNotFound, DeviceStatus, MediaError, RequiredAction
from devices.smartcard import piv
from devices.smartcard.apdu import CardStatusError, CommandApdu, ResponseApdu, check, describe_sw
from devices.smartcard.pcsc import CardEventKind, PcscReaders
from devices.smartcard.piv import get_data_apdu, select_apdu, sign_apdu, verify_apdu
from devices.smartcard.piv_applet import PivApplet
from devices.smartcard.testbed import PcscdTestbed
from devices.smartcard.vcard import VPCD_PORT, VirtualCard
from terminal.staff_issuer import issue_certificate, make_ca

READER0 = "Virtual PCD 00 00"


@pytest.fixture
def readers(pcscd: PcscdTestbed) -> Iterator[PcscReaders]:
    with PcscReaders() as r:
        yield r


@pytest.fixture
def card(pcscd: PcscdTestbed) -> Iterator[tuple[VirtualCard, x509.Certificate]]:
    ca_key, ca_cert = make_ca("HALL-T")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue_certificate(ca_key, ca_cert, "S0042", "HALL-T", key.public_key())
    vcard = VirtualCard(PivApplet.personalised(cert.public_bytes(Encoding.DER), key, pin="482916"))
    try:
        yield vcard, cert
    finally:
        vcard.remove()
        _wait_reader_empty()


def _wait_reader_empty() -> None:
    """pcscd polls vpcd for presence (~0.4 s): let it see the removal before the next test."""
    with PcscReaders() as r:
        deadline = time.monotonic() + 5.0
        while r.status() is not DeviceStatus.NO_MEDIA:
            assert time.monotonic() < deadline, "reader still shows a card"
            time.sleep(0.05)


def _insert(vcard: VirtualCard, pcscd: PcscdTestbed, readers: PcscReaders) -> None:
    assert readers.wait_for_event(0.0, READER0) is None  # settle the known state: empty
    vcard.insert(netns=pcscd.netns)
    event = readers.wait_for_event(5.0, READER0)
    assert event is not None and event.kind is CardEventKind.INSERTED


# --- pure APDU layer -------------------------------------------------------------------


def test_command_apdu_cases_round_trip() -> None:
    cases = [
        CommandApdu(0x00, 0xA4, 0x04, 0x00),
        CommandApdu(0x80, 0xCA, 0x01, 0x00, b"", 8),
        CommandApdu(0x00, 0xA4, 0x04, 0x00, b"\x01\x02\x03"),
        CommandApdu(0x00, 0x88, 0x00, 0x00, b"x" * 16, 256),
    ]
    assert cases[3].to_bytes()[-1] == 0x00  # Le 256 coded as 00
    for apdu in cases:
        assert CommandApdu.parse(apdu.to_bytes()) == apdu
    with pytest.raises(ValueError):
        CommandApdu.parse(b"\x00\xa4\x04\x00\x05\x01")


def test_status_words_map_to_actions() -> None:
    assert describe_sw(0x6A82)[1] is RequiredAction.NONE
    assert describe_sw(0x63C2)[0] == "verification failed, 2 tries left"
    assert describe_sw(0x6983)[1] is RequiredAction.CLEAR_BY_STAFF
    with pytest.raises(CardStatusError) as info:
        check(ResponseApdu(b"", 0x69, 0x85), "X")
    assert info.value.sw == 0x6985 and info.value.action is RequiredAction.RETRY
    assert check(ResponseApdu(b"ok", 0x90, 0x00), "X") == b"ok"


# --- real pcscd ------------------------------------------------------------------------


def test_readers_listed_and_empty(readers: PcscReaders) -> None:
    assert READER0 in readers.readers()
    assert readers.status() is DeviceStatus.NO_MEDIA


def test_vpcd_port_not_reachable_outside_namespace(pcscd: PcscdTestbed) -> None:
    with socket.socket() as s:
        s.settimeout(1.0)
        with pytest.raises(OSError):
            s.connect(("127.0.0.1", VPCD_PORT))


def test_insert_read_certificate_sign_remove(
    pcscd: PcscdTestbed, readers: PcscReaders, card: tuple[VirtualCard, x509.Certificate]
) -> None:
    vcard, cert = card
    assert readers.wait_for_event(0.2, READER0) is None
    vcard.insert(netns=pcscd.netns)
    event = readers.wait_for_event(5.0, READER0)
    assert event is not None and event.kind is CardEventKind.INSERTED
    assert event.atr == vcard.atr
    assert readers.status() is DeviceStatus.READY
    with readers.connect(READER0) as conn:
        assert conn.atr == vcard.atr
        check(conn.transmit(select_apdu()), "select")
        before = vcard.apdu_count
        der = piv.cert_from_object(check(conn.transmit(get_data_apdu(piv.TAG_AUTH_CERT)), "cert"))
        assert vcard.apdu_count - before >= 2  # longer than one answer: 61xx, then GET RESPONSE
        assert x509.load_der_x509_certificate(der) == cert
        check(conn.transmit(verify_apdu("482916")), "verify")
        challenge = secrets.token_bytes(32)
        signature = piv.signature_from(check(conn.transmit(sign_apdu(challenge)), "sign"))
        public_key = cert.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        public_key.verify(signature, challenge, ec.ECDSA(Prehashed(hashes.SHA256())))
    vcard.remove()
    event = readers.wait_for_event(5.0, READER0)
    assert event is not None and event.kind is CardEventKind.REMOVED and event.atr == b""
    assert readers.wait_for_event(0.3, READER0) is None


def test_card_errors_are_typed(
    pcscd: PcscdTestbed, readers: PcscReaders, card: tuple[VirtualCard, x509.Certificate]
) -> None:
    vcard, _ = card
    _insert(vcard, pcscd, readers)
    with readers.connect(READER0) as conn:
        resp = conn.transmit(get_data_apdu(piv.TAG_AUTH_CERT))  # before SELECT
        assert resp.sw == 0x6D00
        check(conn.transmit(select_apdu()), "select")
        with pytest.raises(CardStatusError) as info:
            check(conn.transmit(sign_apdu(b"short")), "auth")
        assert info.value.sw == 0x6982 and info.value.action is RequiredAction.RETRY  # PIN first
        assert conn.transmit(verify_apdu("000000")).sw == 0x63C2  # two tries left
        assert conn.transmit(CommandApdu(0x00, 0x2A, 0, 0)).sw == 0x6D00
        assert conn.transmit(CommandApdu(0xA0, 0xA4, 4, 0, b"\x01")).sw == 0x6E00
        assert conn.transmit(CommandApdu(0x00, 0xA4, 4, 0, b"\xa0\x00\x00\x00\x03")).sw == 0x6A82


def test_card_pulled_mid_session_is_media_error(
    pcscd: PcscdTestbed, readers: PcscReaders, card: tuple[VirtualCard, x509.Certificate]
) -> None:
    vcard, _ = card
    _insert(vcard, pcscd, readers)
    with readers.connect(READER0) as conn:
        check(conn.transmit(select_apdu()), "select")
        vcard.remove()
        event = readers.wait_for_event(5.0, READER0)
        assert event is not None and event.kind is CardEventKind.REMOVED
        with pytest.raises(MediaError) as info:
            conn.transmit(get_data_apdu(piv.TAG_CHUID))
        assert info.value.action is RequiredAction.RETRY


def test_apdu_round_trip_is_fast_with_quickack(
    pcscd: PcscdTestbed, readers: PcscReaders, card: tuple[VirtualCard, x509.Certificate]
) -> None:
    vcard, _ = card
    _insert(vcard, pcscd, readers)
    with readers.connect(READER0) as conn:
        check(conn.transmit(select_apdu()), "select")
        start = time.perf_counter()
        for _ in range(20):
            check(conn.transmit(select_apdu()), "select")
        per_apdu_ms = (time.perf_counter() - start) * 1000 / 20
    assert per_apdu_ms < 20, f"{per_apdu_ms:.1f} ms per APDU: delayed ACKs (TCP_QUICKACK not effective?)"


def test_daemon_gone_is_device_not_found(pcscd: PcscdTestbed) -> None:
    pcscd.stop(remove=False)
    try:
        with pytest.raises(DeviceNotFound):
            PcscReaders()
    finally:
        pcscd.start()
    with PcscReaders() as r:
        assert READER0 in r.readers()
