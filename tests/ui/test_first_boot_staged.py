"""First boot on a packaged install, end to end against the sandbox platform on the simulators:
the kiosk's user cannot write the config's folder (/etc/hall-kiosk 0750 root:hall-kiosk), so the
first-boot backend provisions into the staged config in its data directory, "restart" ends the
process (systemd restarts the service) instead of exec'ing the terminal, and the root step before
the next start (terminal/provision_seal.py) seals it where the terminal then starts from."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import qrcode

from bench.provision import Hall
from kiosk.config import Profile, load_config
from terminal import first_boot
from terminal.first_boot import FirstBoot, unprovisioned
from terminal.provision import enrolment_qr_text
from terminal.provision_seal import seal, staged_path
from tests.ui.test_first_boot import _hall_flags, the_hall

pytestmark = pytest.mark.slow
__all__ = ["the_hall"]


def test_a_kiosk_user_without_etc_stages_and_root_seals(
    the_hall: Hall, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, config = tmp_path / "data", tmp_path / "etc" / "terminal.toml"
    data.mkdir()
    config.parent.mkdir()
    real_access = os.access
    # the tests run as root: the kiosk user's permissions at the unit boundary
    monkeypatch.setattr(first_boot.os, "access", lambda p, m: Path(p) != config.parent and real_access(p, m))
    qr_text = enrolment_qr_text(
        the_hall.url, "DZ-FIRST-0002", the_hall.code("DZ-FIRST-0002"), the_hall.root_sha256()
    )
    qr_image = tmp_path / "qr.png"
    qrcode.make(qr_text).save(qr_image)
    ended: list[str] = []
    backend = FirstBoot(
        config,
        data,
        _hall_flags(the_hall, data, config, qr_image),
        restart=lambda: ended.append("exec"),
        end=lambda: ended.append("end"),
    )
    assert backend.write_target() == staged_path(data)
    lines: list[str] = []
    outcome = backend.provision(backend.parse_qr(qr_text), lines.append)
    assert outcome.status in (0, 1), lines
    assert any(str(staged_path(data)) in line for line in lines)
    assert not config.exists() and unprovisioned(config)
    backend.restart()
    assert ended == ["end"]  # not exec'd into a terminal that would find no config

    assert "sealed" in seal(config, data, "daemon")
    assert not unprovisioned(config) and not staged_path(data).exists()
    assert load_config(config).profile is Profile.PRODUCTION
    backend.restart()
    assert ended == ["end", "exec"]
