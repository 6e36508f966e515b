"""First boot on a packaged install (terminal/provision_seal.py, terminal/first_boot.py): the kiosk's
user cannot write /etc/hall-kiosk, so the first-boot screen stages its config in the data directory
and root seals it into /etc before the next start; what the kiosk user could slip in (a symlink to
a root-only file, another user's file, an invalid config, a second config after provisioning) is
refused."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import load_config
from terminal.provision_seal import main, seal, staged_path

USER = "daemon"  # a system user with a group of the same name, like hall-kiosk
GOOD = '[ui]\nlanguage = "en"\n'

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="sealing chowns to root (it runs as root)")


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    etc, data = tmp_path / "etc", tmp_path / "data"
    etc.mkdir()
    data.mkdir()
    yield etc / "terminal.toml", data


@needs_root
def test_a_staged_config_is_sealed_root_owned_group_readable(dirs: tuple[Path, Path]) -> None:
    config, data = dirs
    staged_path(data).write_text(GOOD, encoding="utf-8")
    os.chown(staged_path(data), pwd.getpwnam(USER).pw_uid, grp.getgrnam(USER).gr_gid)
    assert "sealed" in seal(config, data, USER)
    st = config.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, grp.getgrnam(USER).gr_gid, 0o640)
    assert load_config(config).ui.language == "en"
    assert not staged_path(data).exists()
    assert [p.name for p in config.parent.iterdir()] == ["terminal.toml"]  # no temporary left


@needs_root
def test_a_symlink_to_a_root_only_file_is_not_copied(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    config, data = dirs
    secret = tmp_path / "shadow"
    secret.write_text('[ui]\nlanguage = "en"\n# root only\n', encoding="utf-8")
    secret.chmod(0o600)
    staged_path(data).symlink_to(secret)
    assert "refused" in seal(config, data, USER)
    assert not config.exists()


@needs_root
def test_another_users_file_a_fifo_and_an_invalid_config_are_refused(dirs: tuple[Path, Path]) -> None:
    config, data = dirs
    staged = staged_path(data)
    staged.write_text(GOOD, encoding="utf-8")
    os.chown(staged, 54321, 54321)
    assert "owned by uid 54321" in seal(config, data, USER)
    staged.unlink()
    os.mkfifo(staged)
    assert "not a regular file" in seal(config, data, USER)
    staged.unlink()
    staged.write_text("ui = 5\n", encoding="utf-8")
    line = seal(config, data, USER)
    assert "invalid" in line and not config.exists() and staged.exists()  # kept for the installer
    assert [p.name for p in config.parent.iterdir()] == []


def test_once_provisioned_a_staged_config_is_removed_unread(dirs: tuple[Path, Path]) -> None:
    config, data = dirs
    config.write_text(GOOD, encoding="utf-8")
    staged_path(data).write_text('[ui]\nlanguage = "zh_CN"\n', encoding="utf-8")
    assert "ignored and removed" in seal(config, data, USER)
    assert not staged_path(data).exists() and load_config(config).ui.language == "en"
    assert seal(config, data, USER).endswith("exists")


def test_the_command_never_fails_the_start(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config, data = dirs
    assert main(["--config", str(config), "--data-dir", str(data), "--user", USER]) == 0
    assert "none" in capsys.readouterr().out and not config.exists()
