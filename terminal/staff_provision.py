"""Personalise a staff PIV card at the hall's issuing desk (docs/operations.md, "Staff cards").

::

    python -m terminal.staff_provision [--config FILE] issue S0042 \\
        --ca-key /media/issuer/staff-issuer-ca.key --ca-cert /media/issuer/staff-issuer-ca.pem \\
        [--reader "Virtual PCD 00 00"] [--hall HALL] [--pin-stdin] [--management-key-file FILE]
    python -m terminal.staff_provision [--config FILE] readers

``issue`` takes a PIV card (a blank YubiKey 5 or any PIV card with its factory management key,
or the key in ``--management-key-file``, 48 hex digits, AES-192) on the PC/SC reader, has it
generate its PIV Authentication key (9A, ECC P-256), issues the certificate from the hall's
issuer CA (the CA key never goes to a terminal), writes the certificate and a CHUID to the card and
sets the PIN (6 to 8 digits, asked for twice and never echoed, or one line of standard input with
``--pin-stdin``) from the factory PIN (``--old-pin-stdin`` reads that too when it is not 123456).
It prints the staff id and the certificate serial (what revocation names), never the PIN.

Who may do what is not written on the card or on a terminal: the hall's staff registry on the
platform gives the staff id its role and lists revoked serials, and every terminal of the hall
fetches it signed.  The reader defaults to the terminal config's ``[devices.staff_card] reader``
(``--config``, else ``$KIOSK_CONFIG``, else the first reader pcscd lists).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from devices.base import DeviceError
from devices.smartcard import piv
from kiosk.config import ConfigError, load_config
from terminal.staff_issuer import DEFAULT_DAYS, personalise


class ProvisionError(Exception):
    pass


def _read_pin(from_stdin: bool, prompt: str = "PIN (6-8 digits)") -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} again: ") != first:
        raise ProvisionError("the two PINs differ")
    return first


def _load_ca(key_path: Path, cert_path: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    try:
        key = load_pem_private_key(key_path.read_bytes(), None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError, TypeError) as err:
        raise ProvisionError(f"cannot load the issuer CA: {err}") from err
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise ProvisionError("the issuer CA key is not an EC key matching the CA certificate")
    return key, cert


def _reader(explicit: str | None, config_path: Path | None) -> str | None:
    if explicit:
        return explicit
    try:
        config = load_config(config_path) if config_path else load_config()
    except ConfigError:
        if config_path:
            raise
        return None
    from devices.smartcard.kind import STAFF_CARD

    return config.devices.section(STAFF_CARD).reader or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m terminal.staff_provision", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--config", type=Path, help="terminal config (its [devices.staff_card] reader)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_issue = sub.add_parser("issue", help="personalise a PIV card for a staff member")
    p_issue.add_argument("staff_id")
    p_issue.add_argument("--ca-key", type=Path, required=True, help="the hall's issuer CA key (PEM)")
    p_issue.add_argument("--ca-cert", type=Path, required=True, help="the hall's issuer CA certificate (PEM)")
    p_issue.add_argument("--hall", default="", help="the hall id in the UPN (default: the CA's O or CN)")
    p_issue.add_argument("--reader", help="PC/SC reader (default: the config's, else the first one)")
    p_issue.add_argument("--days", type=int, default=DEFAULT_DAYS, help="certificate validity in days")
    p_issue.add_argument("--pin-stdin", action="store_true", help="read the new PIN from standard input")
    p_issue.add_argument("--old-pin-stdin", action="store_true", help="read the card's current PIN first")
    p_issue.add_argument("--management-key-file", type=Path, help="the card's management key (hex)")
    sub.add_parser("readers", help="the PC/SC readers pcscd sees")
    args = parser.parse_args(argv)
    from devices.smartcard.pcsc import PcscReaders

    try:
        reader = _reader(getattr(args, "reader", None), args.config)
        with PcscReaders() as readers:
            if args.command == "readers":
                for name in readers.readers():
                    print(name)
                return 0
            names = readers.readers()
            reader = reader or (names[0] if names else None)
            if reader is None:
                raise ProvisionError("no PC/SC reader (is pcscd running and the reader plugged in?)")
            ca_key, ca_cert = _load_ca(args.ca_key, args.ca_cert)
            hall = args.hall or _hall_of(ca_cert)
            mgmt = piv.DEFAULT_MANAGEMENT_KEY
            if args.management_key_file:
                mgmt = bytes.fromhex(args.management_key_file.read_text(encoding="ascii").strip())
            old_pin = sys.stdin.readline().strip() if args.old_pin_stdin else piv.DEFAULT_PIN
            pin = _read_pin(args.pin_stdin)
            if not piv.pin_ok(pin):
                raise ProvisionError(f"a PIV PIN is {piv.PIN_MIN_DIGITS} to {piv.PIN_MAX_DIGITS} digits")
            with readers.connect(reader) as card:
                cert = personalise(
                    card,
                    ca_key,
                    ca_cert,
                    args.staff_id,
                    hall,
                    pin,
                    management_key=mgmt,
                    old_pin=old_pin,
                    days=args.days,
                )
    except (ProvisionError, ConfigError, DeviceError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"issued {args.staff_id}@{hall} on {reader}: certificate serial {cert.serial_number:x}")
    return 0


def _hall_of(ca: x509.Certificate) -> str:
    for oid in (x509.NameOID.ORGANIZATION_NAME, x509.NameOID.COMMON_NAME):
        values = ca.subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value).split(" ")[0]
    return "HALL"


if __name__ == "__main__":
    sys.exit(main())
