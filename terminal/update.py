"""``hall-kiosk update …`` (also ``python -m terminal.update …``): the app's updates.

Commands (docs/operations.md, "Updates"):

- ``status``   what runs, what is available, the last result and the failed versions (JSON)
- ``check``    ask the platform's TUF repository for a newer release (records it, installs nothing)
- ``apply``    check, download (TUF-verified), unpack side by side, switch, restart the kiosk,
               wait for its health report and roll back when it does not come
- ``settle``   finish an interrupted update (the kiosk unit runs it before every start, as root)
- ``launch``   run the current release (the kiosk unit's ExecStart, under cage); the packaged
               app when no release was ever installed
- ``build``    make a release tarball from this source tree (for the platform to sign)

The releases root is ``--root`` (``$HALL_KIOSK_RELEASES``, default ``/opt/hall-kiosk``); the
health marker the terminal writes is ``--health-file`` (``$HALL_KIOSK_HEALTH_FILE``, default
``/var/lib/hall-kiosk/update-health.json``).
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import io
import json
import os
import shlex
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from kiosk.fleet.heartbeat import app_version
from kiosk.update.health import HEALTH_ENV
from kiosk.update.releases import ENTRY_SCRIPT, RELEASE_MANIFEST, ReleaseStore, version_key
from kiosk.update.report import DEFAULT_HEALTH, DEFAULT_ROOT, ROOT_ENV, status, store_from
from kiosk.update.source import ReleaseSource
from kiosk.update.updater import AppUpdater

DEFAULT_RESTART = "systemctl restart hall-kiosk.service"
SOURCE_TREE = Path(__file__).resolve().parents[1]
#: What a release carries: the app's packages and its entry script (the interpreter and the
#: third-party packages are the installed package's venv).
RELEASE_CONTENT = (
    "main.py",
    "kiosk",
    "terminal",
    "devices",
    "ui",
    "offline_cache",
    "sandbox_platform",
    "items",
)


def launch(store: ReleaseStore, args: list[str]) -> int:
    """Exec the current release's entry script with this interpreter (the package's venv)."""
    os.environ[HEALTH_ENV] = str(store.health_file)
    if os.access(store.root, os.W_OK):  # the unit's ExecStartPre settles as root; a dev box here
        store.settle()
    release = store.current_dir()
    if release is None:  # never updated: the packaged app (imported by name: no cycle with entry)
        entry = importlib.import_module("terminal.entry")
        return int(entry.main(args))
    script = str(release / ENTRY_SCRIPT)
    os.execv(sys.executable, [sys.executable, script, *args])
    return 1  # not reached


def build(version: str, out_dir: Path, source: Path = SOURCE_TREE) -> Path:
    """A reproducible release tarball of ``source`` (no caches, fixed times and owners)."""
    version_key(version)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"hall-kiosk-{version}.tar.gz"
    manifest = json.dumps({"version": version, "format": 1}, sort_keys=True).encode()
    with (
        open(out, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,  # no time in the header
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):

        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))

        add(RELEASE_MANIFEST, manifest)
        for top in RELEASE_CONTENT:
            path = source / top
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                rel = file.relative_to(source)
                if "__pycache__" in rel.parts or file.suffix in {".pyc", ".pyo"}:
                    continue
                add(rel.as_posix(), file.read_bytes(), 0o755 if os.access(file, os.X_OK) else 0o644)
    return out


def _source(args: argparse.Namespace, store: ReleaseStore) -> ReleaseSource:
    url, ca_bundle, trusted_root = args.url, None, None
    if args.config or os.environ.get("KIOSK_CONFIG"):
        from kiosk.config import load_config

        config = load_config(Path(args.config) if args.config else None)
        url = url or config.platform.url
        ca_bundle = config.platform.ca_bundle
        trusted_root = config.data_path() / "tuf" / "metadata" / "root.json"
    if args.trusted_root:
        trusted_root = Path(args.trusted_root)
    if not url:
        raise SystemExit("error: no platform URL (--url, or [platform] url in --config)")
    return ReleaseSource(url, store.root / "tuf", trusted_root=trusted_root, ca_bundle=ca_bundle)


def _restart(command: str) -> None:
    subprocess.run(shlex.split(command), check=False, timeout=120)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["launch"]:
        rest = argv[1:]
        return launch(store_from(None, None), rest[1:] if rest[:1] == ["--"] else rest)
    parser = argparse.ArgumentParser(prog="hall-kiosk update", description="The terminal's app updates")
    parser.add_argument("--root", help=f"releases root (${ROOT_ENV}, default {DEFAULT_ROOT})")
    parser.add_argument("--health-file", help=f"health marker (${HEALTH_ENV}, default {DEFAULT_HEALTH})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status")
    sub.add_parser("settle")
    for name in ("check", "apply"):
        p = sub.add_parser(name)
        p.add_argument("--config", help="terminal config (platform URL, CA, pinned TUF root)")
        p.add_argument("--url", help="platform base URL (overrides the config)")
        p.add_argument("--trusted-root", help="TUF root.json to trust (default: the terminal's pinned one)")
        if name == "apply":
            p.add_argument("--restart-cmd", default=DEFAULT_RESTART, help="how to restart the kiosk")
            p.add_argument("--deadline", type=float, default=180.0, help="seconds to wait for health")
    b = sub.add_parser("build")
    b.add_argument("--version", required=True)
    b.add_argument("--out", default="dist")
    args = parser.parse_args(argv)
    store = store_from(args.root, args.health_file)
    if args.command == "build":
        print(build(args.version, Path(args.out)))
        return 0
    if args.command == "status":
        print(json.dumps(status(store), indent=1, sort_keys=True))
        return 0
    if args.command == "settle":
        print(f"update: {store.settle()}")
        return 0
    source = _source(args, store)
    if args.command == "check":
        updater = AppUpdater(store, source, lambda: None, base_version=app_version())
        try:
            found = updater.check()
        except Exception as err:
            print(f"check failed: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
        print(f"running {updater.running_version()}; available: {found.version if found else 'none newer'}")
        return 0
    started = time.monotonic()

    def step(name: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {name}", flush=True)

    updater = AppUpdater(
        store,
        source,
        lambda: _restart(args.restart_cmd),
        base_version=app_version(),
        health_deadline_s=args.deadline,
        on_step=step,
    )
    result = updater.apply()
    print(f"update: {result.result} {result.version or ''} {result.detail}".rstrip())
    return 0 if result.result in {"up_to_date", "installed"} else 1


if __name__ == "__main__":
    sys.exit(main())
