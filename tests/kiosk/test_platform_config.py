"""Platform settings: https outside the demo profile, the enrolment code and the CA bundle."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, Profile, TerminalConfig, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "terminal.example.toml"


def _devices() -> str:
    """The example config's device sections (a production config must name every device)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = text.split("\n[")
    return "".join("\n[" + s for s in sections if s.startswith("devices."))


def _write(tmp_path: Path, url: str, profile: str = "production") -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(
        f'profile = "{profile}"\n[platform]\nurl = "{url}"\nenrolment_code = "one-time-42"\n'
        'ca_bundle = "/etc/kiosk/platform-ca.pem"\n' + _devices(),
        encoding="utf-8",
    )
    return path


def test_production_needs_https(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="https"):
        load_config(_write(tmp_path, "http://platform.example.gov.cn"))
    config = load_config(_write(tmp_path, "https://platform.example.gov.cn"))
    assert config.profile is Profile.PRODUCTION
    assert config.platform.enrolment_code == "one-time-42"
    assert config.platform.ca_bundle == "/etc/kiosk/platform-ca.pem"


def test_the_demo_profile_may_use_a_local_http_sandbox(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, "http://127.0.0.1:8765", profile="demo")).profile is Profile.DEMO
    assert TerminalConfig().platform.enrolment_code is None
