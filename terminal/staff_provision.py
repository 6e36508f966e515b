"""Provision the staff registry (staff id → per-card key) on a terminal.

Run on the terminal as the kiosk user (docs/operations.md, "Staff cards")::

    python -m terminal.staff_provision add S0042 --role operator --key-file /media/usb/S0042.key
    python -m terminal.staff_provision set-pin S0042
    python -m terminal.staff_provision revoke S0042
    python -m terminal.staff_provision list

The key is the card's 32-byte HMAC key, generated when the card is personalised at the
issuing desk and handed to the installer in a file (64 hex digits); it is never given on
the command line (shell history, ``ps``) and never printed.  ``add --generate`` makes a
fresh key for a new card instead and writes it to ``--key-out`` (0600) for the
personalisation station.

Each staff member also has a PIN (the second factor, 6 to 12 digits) and a role (operator,
technician or auditor: what they may do in maintenance mode).  The PIN is asked for twice at the
terminal (``getpass``: not echoed, not in shell history) or read from one line of standard input
with ``--pin-stdin`` (for scripted provisioning); only its scrypt hash is stored.  ``set-pin``
changes it.  The registry is written atomically with mode 0600 beside the terminal's other secrets (``<data_dir>/secrets/staff.json`` unless
``maintenance.staff_registry`` says otherwise); the config file only names its path.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from pathlib import Path

from kiosk.cases.crypto import write_private
from kiosk.config import ConfigError, load_config
from kiosk.maintenance.staff_card import KEY_MIN_BYTES, Role, StaffRegistry, StaffRegistryError, hash_pin

KEY_BYTES = 32


def registry_path(explicit: str | None = None) -> Path:
    if explicit:
        return Path(explicit)
    config = load_config()
    if config.maintenance.staff_registry:
        return Path(config.maintenance.staff_registry)
    return config.data_path() / "secrets" / "staff.json"


def _read(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    StaffRegistry.load(path)  # refuses a malformed or too widely readable file
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): dict(v) for k, v in data["staff"].items()}


def _write(path: Path, staff: dict[str, dict[str, str]]) -> None:
    body = json.dumps({"version": 2, "staff": dict(sorted(staff.items()))}, indent=2) + "\n"
    StaffRegistry.from_mapping(json.loads(body))  # never write a file the terminal would refuse
    write_private(path, body.encode("utf-8"))


def add(path: Path, staff_id: str, key: bytes, *, pin: str, role: Role) -> None:
    """Register (or replace) a staff card with its PIN and role."""
    if not staff_id.isascii() or not 1 <= len(staff_id) <= 32 or not staff_id.isprintable():
        raise StaffRegistryError("staff id must be 1..32 printable ASCII characters")
    if len(key) < KEY_MIN_BYTES:
        raise StaffRegistryError(f"card key shorter than {KEY_MIN_BYTES} bytes")
    staff = _read(path)
    staff[staff_id] = {"key": key.hex(), "pin": hash_pin(pin), "role": role.value}
    _write(path, staff)


def set_pin(path: Path, staff_id: str, pin: str) -> None:
    staff = _read(path)
    if staff_id not in staff:
        raise StaffRegistryError(f"{staff_id} is not registered")
    staff[staff_id]["pin"] = hash_pin(pin)
    staff[staff_id].setdefault("role", Role.TECHNICIAN.value)
    for other in staff.values():  # a version 1 file: every entry needs a PIN in version 2
        if "pin" not in other:
            raise StaffRegistryError("the registry has cards without a PIN: add them again with a PIN")
    _write(path, staff)


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass("PIN (6-12 digits): ")
    if getpass.getpass("PIN again: ") != first:
        raise StaffRegistryError("the two PINs differ")
    return first


def revoke(path: Path, staff_id: str) -> bool:
    staff = _read(path)
    if staff.pop(staff_id, None) is None:
        return False
    _write(path, staff)
    return True


def staff_ids(path: Path) -> list[str]:
    return sorted(_read(path))


def _key_from_file(key_file: Path) -> bytes:
    text = key_file.read_text(encoding="ascii").strip()
    try:
        return bytes.fromhex(text)
    except ValueError as err:
        raise StaffRegistryError(f"{key_file} does not hold a hex key") from err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m terminal.staff_provision", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--registry", help="staff registry file (default: from the terminal config)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_add = sub.add_parser("add", help="register a staff card (or replace its key)")
    p_add.add_argument("staff_id")
    src = p_add.add_mutually_exclusive_group(required=True)
    src.add_argument("--key-file", type=Path, help="file with the card's key (64 hex digits)")
    src.add_argument("--generate", action="store_true", help="make a fresh key for a new card")
    p_add.add_argument("--key-out", type=Path, help="with --generate: write the key here (0600)")
    p_add.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the staff may do")
    p_add.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    p_pin = sub.add_parser("set-pin", help="change a staff member's PIN")
    p_pin.add_argument("staff_id")
    p_pin.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    p_rev = sub.add_parser("revoke", help="remove a staff card: it unlocks nothing from now on")
    p_rev.add_argument("staff_id")
    sub.add_parser("list", help="registered staff ids (never keys)")
    args = parser.parse_args(argv)
    try:
        path = registry_path(args.registry)
        if args.command == "add":
            if args.generate:
                if args.key_out is None:
                    parser.error("--generate needs --key-out (the key for the personalisation station)")
                key = secrets.token_bytes(KEY_BYTES)
                write_private(args.key_out, key.hex().encode("ascii") + b"\n")
            else:
                key = _key_from_file(args.key_file)
            add(path, args.staff_id, key, pin=_read_pin(args.pin_stdin), role=Role(args.role))
            print(f"registered {args.staff_id} ({args.role}) in {path}")
        elif args.command == "set-pin":
            set_pin(path, args.staff_id, _read_pin(args.pin_stdin))
            print(f"PIN of {args.staff_id} changed")
        elif args.command == "revoke":
            print(
                f"revoked {args.staff_id}"
                if revoke(path, args.staff_id)
                else f"{args.staff_id} was not registered"
            )
        else:
            for staff_id in staff_ids(path):
                print(staff_id)
    except (StaffRegistryError, ConfigError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
