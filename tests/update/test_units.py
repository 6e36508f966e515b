"""The kiosk unit settles an update before each start and runs the current release through the
launcher; the nightly update unit and the releases root are packaged."""

from __future__ import annotations

from pathlib import Path

from kiosk.update.report import DEFAULT_HEALTH, DEFAULT_ROOT

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "packaging" / "systemd"


def _settings(name: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (SYSTEMD / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_the_kiosk_unit_settles_as_root_then_launches_the_current_release() -> None:
    unit = _settings("hall-kiosk.service")
    pre, seal = unit["ExecStartPre"]  # the release settled first, then a first-boot config sealed
    assert pre.startswith("+") and pre.endswith("/opt/venvs/hall-kiosk/bin/hall-kiosk update settle")
    assert seal.startswith("+") and seal.endswith("-m terminal.provision_seal")
    [start] = unit["ExecStart"]
    assert start.endswith("-- /opt/venvs/hall-kiosk/bin/hall-kiosk launch")
    env = unit["Environment"]
    assert f"HALL_KIOSK_RELEASES={DEFAULT_ROOT}" in env
    assert f"HALL_KIOSK_HEALTH_FILE={DEFAULT_HEALTH}" in env
    assert DEFAULT_HEALTH.startswith(unit["ReadWritePaths"][0].split()[0])  # the kiosk can write it


def test_the_update_runs_at_night_as_root_and_is_packaged() -> None:
    service = _settings("hall-kiosk-update.service")
    assert service["Type"] == ["oneshot"] and "User" not in service
    assert service["ExecStart"][0].endswith("hall-kiosk update apply --config /etc/hall-kiosk/terminal.toml")
    timer = _settings("hall-kiosk-update.timer")
    assert timer["OnCalendar"] == ["*-*-* 02:30:00"] and timer["Persistent"] == ["false"]
    install = (REPO / "debian" / "hall-kiosk.install").read_text()
    assert "hall-kiosk-update.service" in install and "hall-kiosk-update.timer" in install
    assert "hall-kiosk-update.timer" in (REPO / "debian" / "rules").read_text()
    assert (
        f"d {DEFAULT_ROOT} 0755 root root"
        in (REPO / "packaging" / "tmpfiles" / "hall-kiosk.conf").read_text()
    )
