"""First boot on a packaged install: the config the kiosk user staged, sealed into /etc by root.

The first-boot screen runs as the kiosk's user, which cannot write ``/etc/hall-kiosk`` (0750
root:hall-kiosk, packaging/tmpfiles).  It writes the config it provisioned to
``<data dir>/config.toml`` instead (its own directory), and "restart" ends the service's process.
Before the next start systemd runs :func:`seal` as root (``ExecStartPre=+`` in
packaging/systemd/hall-kiosk.service): a staged config that is a regular file of the kiosk's user
and a valid terminal config moves to ``/etc/hall-kiosk/terminal.toml`` root:hall-kiosk 0640,
and the terminal starts from there.  Once /etc has a config a staged file is never read again:
it is deleted at every start, so the kiosk user controls its config only between its own
first-boot enrolment and the next start.  No polkit rule and no privileged D-Bus call is needed.

    python -m terminal.provision_seal [--config PATH] [--data-dir DIR] [--user NAME]
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

STAGED_NAME = "config.toml"
MAX_BYTES = 256 * 1024


def staged_path(data_dir: Path) -> Path:
    return data_dir / STAGED_NAME


def _read_staged(path: Path, uid: int | None) -> bytes | str:
    """The staged file's bytes, or why it is refused (a symlink, not a regular file, another owner)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return "none"
    except OSError as err:  # ELOOP: a symlink
        return f"refused ({err.strerror})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "refused (not a regular file)"
        if uid is not None and st.st_uid not in (uid, 0):
            return f"refused (owned by uid {st.st_uid})"
        if st.st_size > MAX_BYTES:
            return "refused (too large)"
        return os.read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)


def seal(config_path: Path, data_dir: Path, user: str = "hall-kiosk") -> str:
    """Move a valid staged config to ``config_path`` (root:user 0640).  The line to log."""
    staged = staged_path(data_dir)
    if config_path.exists():
        if staged.exists() or staged.is_symlink():
            staged.unlink()
            return f"{config_path} exists: staged {staged} ignored and removed"
        return f"{config_path} exists"
    uid = gid = None
    if os.geteuid() == 0:
        import grp
        import pwd

        try:
            uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(user).gr_gid
        except KeyError:
            return f"no user {user}: nothing sealed"
    data = _read_staged(staged, uid)
    if isinstance(data, str):
        return f"staged config {staged}: {data}"
    from kiosk.config import ConfigError, load_config

    tmp = config_path.with_name(f".{config_path.name}.sealing")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        load_config(tmp)
    except (ConfigError, ValueError) as err:
        tmp.unlink()
        return f"staged config {staged}: refused (invalid: {err})"
    if gid is not None:
        os.chown(tmp, 0, gid)
    tmp.chmod(0o640)
    os.replace(tmp, config_path)
    staged.unlink()
    return f"staged config sealed into {config_path}"


def main(argv: Sequence[str] | None = None) -> int:
    from terminal.provision import DEFAULT_CONFIG, DEFAULT_DATA

    p = argparse.ArgumentParser(description="seal the first-boot screen's staged config into /etc")
    p.add_argument("--config", type=Path, default=Path(os.environ.get("KIOSK_CONFIG") or DEFAULT_CONFIG))
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("KIOSK_DATA_DIR") or DEFAULT_DATA))
    p.add_argument("--user", default="hall-kiosk")
    args = p.parse_args(argv)
    print(seal(args.config, args.data_dir, args.user))
    return 0  # never keeps the kiosk from starting: without a config it shows the first-boot screen


if __name__ == "__main__":
    sys.exit(main())
