"""PIV card application (NIST SP 800-73-4): AID, data objects, APDUs, BER-TLV.

What the terminal and the personalisation command use of a PIV card (any PIV-compatible card:
YubiKey 5, NXP/Infineon PIV applets, government PIV cards):

* ``00 A4 04 00 <PIV AID>``: SELECT the PIV application (answers the application property template);
* ``00 CB 3F FF 5C 03 <tag>``: GET DATA of a data object, e.g. the CHUID (``5FC102``) or the
  X.509 certificate for PIV Authentication (``5FC105``, key reference ``9A``); the object is
  ``53 L { 70 L <certificate DER>, 71 01 <certinfo>, FE 00 }``; long answers come in 61xx pieces;
* ``00 20 00 80 08 <PIN padded with FF>``: VERIFY the PIV Card Application PIN (6 to 8 digits);
  without data it asks for the state: ``90 00`` verified, ``63 Cx`` x tries left, ``69 83`` blocked;
* ``00 87 11 9A 7C { 82 00, 81 20 <challenge> }``: GENERAL AUTHENTICATE: the card signs the
  32-byte challenge with its PIV Authentication key (ECC P-256, algorithm ``11``) and answers
  ``7C { 82 <ECDSA signature, DER> }``; the key wants the PIN verified first (``69 82`` without);
* personalisation (management key ``9B`` authenticated first, AES-192 algorithm ``0A``):
  ``00 47 00 9A AC { 80 11 }`` GENERATE ASYMMETRIC KEY PAIR (the private key never leaves the
  card; answers ``7F49 { 86 <EC point> }``), ``00 DB 3F FF`` PUT DATA (command chaining, CLA
  ``10``, for objects longer than one short APDU) and ``00 24 00 80`` CHANGE REFERENCE DATA (the
  PIN).  The management key check is ``00 87 0A 9B 7C { 81 00 }`` → ``7C { 81 <16-byte
  challenge> }``, then ``00 87 0A 9B 7C { 82 <challenge encrypted under the key> }``.
"""

from __future__ import annotations

from devices.smartcard.apdu import CommandApdu

PIV_AID = bytes.fromhex("A000000308000010000100")
TAG_CHUID = 0x5FC102
TAG_AUTH_CERT = 0x5FC105
KEY_AUTH = 0x9A
KEY_MANAGEMENT = 0x9B
ALG_ECC_P256 = 0x11
ALG_AES192 = 0x0A
PIN_REFERENCE = 0x80
INS_SELECT = 0xA4
INS_GET_DATA = 0xCB
INS_VERIFY = 0x20
INS_CHANGE_REFERENCE = 0x24
INS_GENERAL_AUTHENTICATE = 0x87
INS_GENERATE = 0x47
INS_PUT_DATA = 0xDB
INS_GET_RESPONSE = 0xC0
CLA_CHAIN = 0x10
CHALLENGE_BYTES = 32
PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 8
#: The factory management key of PIV cards (SP 800-73 test cards, YubiKey): replace it when issuing.
DEFAULT_MANAGEMENT_KEY = bytes.fromhex("010203040506070801020304050607080102030405060708")
DEFAULT_PIN = "123456"
SW_PIN_BLOCKED = 0x6983
SW_SECURITY_NOT_SATISFIED = 0x6982


def tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return bytes((0x82, n >> 8, n & 0xFF))
    raise ValueError("TLV value too long")


def tlv(tag: int, value: bytes) -> bytes:
    return tag_bytes(tag) + encode_length(len(value)) + value


def parse_tlv(data: bytes) -> list[tuple[int, bytes]]:
    """The BER-TLV objects at the top level of ``data``; ValueError when malformed."""
    out: list[tuple[int, bytes]] = []
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):  # padding between objects
            i += 1
            continue
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while True:
                if i >= len(data):
                    raise ValueError("truncated tag")
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        if i >= len(data):
            raise ValueError("truncated length")
        first = data[i]
        i += 1
        if first < 0x80:
            length = first
        elif first in (0x81, 0x82):
            n = first & 0x7F
            if i + n > len(data):
                raise ValueError("truncated length")
            length = int.from_bytes(data[i : i + n], "big")
            i += n
        else:
            raise ValueError(f"unsupported length byte {first:02X}")
        if i + length > len(data):
            raise ValueError("truncated value")
        out.append((tag, data[i : i + length]))
        i += length
    return out


def find_tlv(data: bytes, tag: int) -> bytes | None:
    for t, value in parse_tlv(data):
        if t == tag:
            return value
    return None


def pad_pin(pin: str) -> bytes:
    """The PIN as VERIFY wants it: ASCII digits padded to 8 bytes with FF."""
    if not pin_ok(pin):
        raise ValueError(f"a PIV PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
    return pin.encode("ascii").ljust(PIN_MAX_DIGITS, b"\xff")


def pin_ok(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS


def select_apdu() -> CommandApdu:
    return CommandApdu(0x00, INS_SELECT, 0x04, 0x00, PIV_AID, 256)


def get_data_apdu(tag: int) -> CommandApdu:
    return CommandApdu(0x00, INS_GET_DATA, 0x3F, 0xFF, tlv(0x5C, tag_bytes(tag)), 256)


def verify_apdu(pin: str | None) -> CommandApdu:
    """VERIFY with the PIN, or (None) the question "verified? tries left?"."""
    return CommandApdu(0x00, INS_VERIFY, 0x00, PIN_REFERENCE, b"" if pin is None else pad_pin(pin))


def logout_apdu() -> CommandApdu:
    """VERIFY with P1 = FF: reset the PIN's security status (SP 800-73-4 §3.2.1)."""
    return CommandApdu(0x00, INS_VERIFY, 0xFF, PIN_REFERENCE)


def change_pin_apdu(old: str, new: str) -> CommandApdu:
    return CommandApdu(0x00, INS_CHANGE_REFERENCE, 0x00, PIN_REFERENCE, pad_pin(old) + pad_pin(new))


def sign_apdu(challenge: bytes) -> CommandApdu:
    """GENERAL AUTHENTICATE: sign ``challenge`` with the PIV Authentication key (9A, ECC P-256)."""
    body = tlv(0x7C, tlv(0x82, b"") + tlv(0x81, challenge))
    return CommandApdu(0x00, INS_GENERAL_AUTHENTICATE, ALG_ECC_P256, KEY_AUTH, body, 256)


def signature_from(answer: bytes) -> bytes:
    """The signature in a GENERAL AUTHENTICATE answer ``7C { 82 <signature> }``."""
    template = find_tlv(answer, 0x7C)
    signature = None if template is None else find_tlv(template, 0x82)
    if not signature:
        raise ValueError("GENERAL AUTHENTICATE answer without a signature")
    return signature


def management_challenge_apdu() -> CommandApdu:
    return CommandApdu(
        0x00, INS_GENERAL_AUTHENTICATE, ALG_AES192, KEY_MANAGEMENT, tlv(0x7C, tlv(0x81, b"")), 256
    )


def management_response_apdu(encrypted: bytes) -> CommandApdu:
    return CommandApdu(
        0x00, INS_GENERAL_AUTHENTICATE, ALG_AES192, KEY_MANAGEMENT, tlv(0x7C, tlv(0x82, encrypted))
    )


def generate_apdu() -> CommandApdu:
    return CommandApdu(0x00, INS_GENERATE, 0x00, KEY_AUTH, tlv(0xAC, tlv(0x80, bytes((ALG_ECC_P256,)))), 256)


def put_data_apdus(tag: int, value: bytes) -> list[CommandApdu]:
    """PUT DATA of ``value`` (the object's 53 content) as a command chain of short APDUs."""
    body = tlv(0x5C, tag_bytes(tag)) + tlv(0x53, value)
    parts = [body[i : i + 255] for i in range(0, len(body), 255)]
    return [
        CommandApdu(CLA_CHAIN if n < len(parts) - 1 else 0x00, INS_PUT_DATA, 0x3F, 0xFF, part)
        for n, part in enumerate(parts)
    ]


def cert_object(der: bytes) -> bytes:
    """The content of the certificate data object (inside its 53 wrapper)."""
    return tlv(0x70, der) + tlv(0x71, b"\x00") + tlv(0xFE, b"")


def cert_from_object(data: bytes) -> bytes:
    """The certificate DER from a GET DATA answer ``53 { 70 <cert>, 71, FE }``."""
    inner = find_tlv(data, 0x53)
    cert = None if inner is None else find_tlv(inner, 0x70)
    if not cert:
        raise ValueError("no certificate in the data object")
    if find_tlv(inner or b"", 0x71) not in (None, b"\x00"):
        raise ValueError("compressed certificates are not supported")
    return cert


def chuid_object(guid: bytes, expiry: str) -> bytes:
    """A CHUID: FASC-N (all-nines, as for non-federal issuers), GUID, expiry YYYYMMDD, no signature."""
    fascn = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
    return (
        tlv(0x30, fascn)
        + tlv(0x34, guid)
        + tlv(0x35, expiry.encode("ascii"))
        + tlv(0x3E, b"")
        + tlv(0xFE, b"")
    )


def chuid_guid(data: bytes) -> bytes | None:
    inner = find_tlv(data, 0x53)
    return None if inner is None else find_tlv(inner, 0x34)


def ec_point_from_generate(answer: bytes) -> bytes:
    """The EC public point in a GENERATE answer ``7F49 { 86 <04 X Y> }``."""
    template = find_tlv(answer, 0x7F49)
    point = None if template is None else find_tlv(template, 0x86)
    if not point or point[0] != 0x04:
        raise ValueError("GENERATE answer without an uncompressed EC point")
    return point
