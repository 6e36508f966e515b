"""The staff registry provisioning tool writes files the terminal accepts, never keys in clear output."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from devices.smartcard.inprocess import InProcessReaders
from devices.smartcard.staff_applet import StaffApplet
from kiosk.maintenance.staff_card import StaffCardAuthenticator, StaffRegistry, StaffRegistryError
from terminal.staff_provision import add, main, revoke, staff_ids


def test_generate_register_authenticate_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = tmp_path / "secrets" / "staff.json"
    key_out = tmp_path / "S0042.key"
    assert main(["--registry", str(registry), "add", "S0042", "--generate", "--key-out", str(key_out)]) == 0
    key = bytes.fromhex(key_out.read_text().strip())
    assert len(key) == 32
    for path in (registry, key_out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = capsys.readouterr().out
    assert key.hex() not in out and "S0042" in out

    # A card personalised with that key unlocks (same applet and connection code as the terminal).
    readers = InProcessReaders()
    readers.insert(StaffApplet("S0042", key))
    with readers.connect(readers.name) as card:
        assert StaffCardAuthenticator(StaffRegistry.load(registry)).authenticate(card).staff_id == "S0042"

    # A key from the issuing desk, for a second card; list shows ids only.
    other = tmp_path / "S0007.key"
    other.write_text("ab" * 32 + "\n")
    assert main(["--registry", str(registry), "add", "S0007", "--key-file", str(other)]) == 0
    assert main(["--registry", str(registry), "list"]) == 0
    assert capsys.readouterr().out.split()[-2:] == ["S0007", "S0042"]

    assert revoke(registry, "S0042") and not revoke(registry, "S0042")
    assert staff_ids(registry) == ["S0007"]
    assert StaffRegistry.load(registry).key_for("S0042") is None


def test_refuses_bad_input_and_open_files(tmp_path: Path) -> None:
    registry = tmp_path / "staff.json"
    with pytest.raises(StaffRegistryError):
        add(registry, "S1", b"short")
    with pytest.raises(StaffRegistryError):
        add(registry, "名字", b"k" * 32)
    add(registry, "S1", b"k" * 32)
    registry.chmod(0o644)
    with pytest.raises(StaffRegistryError, match="chmod 600"):
        add(registry, "S2", b"k" * 32)
    bad = tmp_path / "bad.key"
    bad.write_text("not hex")
    assert main(["--registry", str(registry), "add", "S2", "--key-file", str(bad)]) == 2
    assert json.loads(registry.read_text())["staff"].keys() == {"S1"}
