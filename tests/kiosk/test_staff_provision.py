"""The staff registry provisioning tool writes files the terminal accepts, never keys in clear output."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.staff_applet import StaffApplet
from kiosk.maintenance.staff_card import (
    Role,
    StaffCardAuthenticator,
    StaffRegistry,
    StaffRegistryError,
    verify_pin,
)
from terminal.staff_provision import add, main, revoke, staff_ids


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_generate_register_authenticate_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "secrets" / "staff.json"
    key_out = tmp_path / "S0042.key"
    _stdin(monkeypatch, "246810\n")
    args = ["add", "S0042", "--generate", "--key-out", str(key_out), "--role", "operator", "--pin-stdin"]
    assert main(["--registry", str(registry), *args]) == 0
    key = bytes.fromhex(key_out.read_text().strip())
    assert len(key) == 32
    for path in (registry, key_out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert key.hex() not in out and "S0042" in out and "246810" not in out
    stored = registry.read_text()
    assert "246810" not in stored and key.hex() in stored  # the PIN only as a scrypt hash
    entry = StaffRegistry.load(registry).entry("S0042")
    assert entry is not None and entry.role is Role.OPERATOR and entry.pin_hash is not None
    assert verify_pin("246810", entry.pin_hash) and not verify_pin("246811", entry.pin_hash)

    # A card personalised with that key unlocks (same applet and connection code as the terminal).
    readers = InProcessReaders()
    readers.insert(StaffApplet("S0042", key))
    with readers.connect(readers.name) as card:
        assert StaffCardAuthenticator(StaffRegistry.load(registry)).authenticate(card).staff_id == "S0042"

    # A key from the issuing desk, for a second card; list shows ids only.
    other = tmp_path / "S0007.key"
    other.write_text("ab" * 32 + "\n")
    _stdin(monkeypatch, "13579135\n")
    args = ["add", "S0007", "--key-file", str(other), "--role", "auditor", "--pin-stdin"]
    assert main(["--registry", str(registry), *args]) == 0
    _stdin(monkeypatch, "12345\n")  # too short
    assert main(["--registry", str(registry), "set-pin", "S0007", "--pin-stdin"]) == 2
    _stdin(monkeypatch, "97531975\n")
    assert main(["--registry", str(registry), "set-pin", "S0007", "--pin-stdin"]) == 0
    entry = StaffRegistry.load(registry).entry("S0007")
    assert entry is not None and entry.pin_hash is not None and verify_pin("97531975", entry.pin_hash)
    assert main(["--registry", str(registry), "list"]) == 0
    assert capsys.readouterr().out.split()[-2:] == ["S0007", "S0042"]

    assert revoke(registry, "S0042") and not revoke(registry, "S0042")
    assert staff_ids(registry) == ["S0007"]
    assert StaffRegistry.load(registry).key_for("S0042") is None


def test_refuses_bad_input_and_open_files(tmp_path: Path) -> None:
    registry = tmp_path / "staff.json"
    op = {"pin": "246810", "role": Role.OPERATOR}
    with pytest.raises(StaffRegistryError):
        add(registry, "S1", b"short", **op)
    with pytest.raises(StaffRegistryError):
        add(registry, "名字", b"k" * 32, **op)
    for pin in ("12345", "1234567890123", "12345a", "１２３４５６"):
        with pytest.raises(StaffRegistryError, match="digits"):
            add(registry, "S1", b"k" * 32, pin=pin, role=Role.OPERATOR)
    add(registry, "S1", b"k" * 32, **op)
    registry.chmod(0o644)
    with pytest.raises(StaffRegistryError, match="chmod 600"):
        add(registry, "S2", b"k" * 32, **op)
    bad = tmp_path / "bad.key"
    bad.write_text("not hex")
    assert main(["--registry", str(registry), "add", "S2", "--key-file", str(bad), "--role", "operator"]) == 2
    assert json.loads(registry.read_text())["staff"].keys() == {"S1"}
