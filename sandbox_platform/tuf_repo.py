"""A TUF repository for the sandbox platform: rule packages and warning lists as signed targets.

The terminal (``kiosk.review.sync``) fetches them with python-tuf's ``ngclient.Updater``, which
checks signatures, versions (rollback), expiry (freeze) and target hashes/lengths (tampering).

Layout served (``consistent_snapshot`` off, so file names are stable):

- ``/tuf/metadata/{N}.root.json`` and ``/tuf/metadata/root.json``
- ``/tuf/metadata/timestamp.json``, ``snapshot.json``, ``targets.json``
- ``/tuf/targets/index.json`` – ``{"packages": [paths], "warning_lists": [paths], "consultation": [paths]}``
- ``/tuf/targets/packages/<item_id>.json`` – ``items/<item_id>.json`` byte for byte
- ``/tuf/targets/warning_lists/<name>.json`` – ``items/warning_lists/<name>.json``
- ``/tuf/targets/releases/index.json`` – ``{"releases": [{"version", "target"}]}``, the app releases
- ``/tuf/targets/releases/hall-kiosk-<version>.tar.gz`` – ``data_dir/releases/`` byte for byte
  (:meth:`TufRepository.publish_release`; the terminal's updater is ``kiosk.update``)
- ``/tuf/targets/consultation/<id>.json`` – ``items/consultation/<id>.json`` (智能咨询 tree)

Keys: one Ed25519 key per top-level role, generated on first start into
``data_dir/tuf_keys/<role>.pem`` (PKCS#8, unencrypted) and reused afterwards.  **Sandbox only:**
the real platform keeps the root key (and ideally targets) offline / in an HSM, signs root with
a threshold of keys held by different people, and only timestamp/snapshot keys are online.

The methods under "test hooks" (and the ``/_sandbox/tuf/...`` routes) exist so tests can replay
old metadata, expire it or alter a target on the server.  They are not part of any real platform.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from fastapi import APIRouter, HTTPException, Request, Response, status
from securesystemslib.signer import CryptoSigner, Signer  # type: ignore[attr-defined]
from tuf.api.metadata import (  # type: ignore[attr-defined]
    SPECIFICATION_VERSION,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

log = logging.getLogger(__name__)

ROLES = ("root", "timestamp", "snapshot", "targets")
INDEX_TARGET = "index.json"
RELEASE_INDEX_TARGET = "releases/index.json"
RELEASE_PREFIX = "hall-kiosk-"
RELEASE_SUFFIX = ".tar.gz"
#: How long freshly signed metadata stays valid (short for timestamp, as TUF recommends).
LIFETIMES = {
    "root": dt.timedelta(days=365),
    "targets": dt.timedelta(days=30),
    "snapshot": dt.timedelta(days=7),
    "timestamp": dt.timedelta(days=1),
}

_SERIALIZER = JSONSerializer(compact=False)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _load_or_create_signer(path: Path) -> CryptoSigner:
    if path.exists():
        key = load_pem_private_key(path.read_bytes(), password=None)
        return CryptoSigner(key)
    signer = CryptoSigner.generate_ed25519()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(signer.private_bytes)
    path.chmod(0o600)
    return signer


class TufRepository:
    """Builds, signs and serves the sandbox's TUF metadata and targets (in memory)."""

    def __init__(self, data_dir: Path, items_dir: Path) -> None:
        self.items_dir = Path(items_dir)
        self.releases_dir = Path(data_dir) / "releases"
        key_dir = Path(data_dir) / "tuf_keys"
        self._lock = threading.Lock()
        self.signers: dict[str, Signer] = {r: _load_or_create_signer(key_dir / f"{r}.pem") for r in ROLES}
        self.root = Metadata(Root(expires=_now() + LIFETIMES["root"], consistent_snapshot=False))
        for role in ROLES:
            self.root.signed.add_key(self.signers[role].public_key, role)
        self.root.sign(self.signers["root"])
        self.targets = Metadata(Targets(version=1, expires=_now()))
        self.snapshot = Metadata(Snapshot(version=1, expires=_now()))
        self.timestamp = Metadata(Timestamp(version=1, expires=_now()))
        self.root_versions: dict[int, bytes] = {1: self.root.to_bytes(_SERIALIZER)}
        self.metadata: dict[str, bytes] = {}
        self.target_files: dict[str, bytes] = {}
        self._signed_once = False
        self.publish()

    # ------------------------------------------------------------------ publishing

    def _scan(self) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        for path in sorted(self.items_dir.glob("*.json")):
            files[f"packages/{path.name}"] = path.read_bytes()
        for path in sorted((self.items_dir / "warning_lists").glob("*.json")):
            files[f"warning_lists/{path.name}"] = path.read_bytes()
        for path in sorted((self.items_dir / "consultation").glob("*.json")):
            files[f"consultation/{path.name}"] = path.read_bytes()
        index = {
            "consultation": sorted(p for p in files if p.startswith("consultation/")),
            "packages": sorted(p for p in files if p.startswith("packages/")),
            "warning_lists": sorted(p for p in files if p.startswith("warning_lists/")),
        }
        files[INDEX_TARGET] = json.dumps(index, sort_keys=True).encode()
        releases = []
        for path in sorted(self.releases_dir.glob(f"{RELEASE_PREFIX}*{RELEASE_SUFFIX}")):
            target = f"releases/{path.name}"
            files[target] = path.read_bytes()
            version = path.name[len(RELEASE_PREFIX) : -len(RELEASE_SUFFIX)]
            releases.append({"version": version, "target": target})
        if releases:
            files[RELEASE_INDEX_TARGET] = json.dumps({"releases": releases}, sort_keys=True).encode()
        return files

    def publish_release(self, version: str, tarball: bytes) -> str:
        """Add an app release (a tarball made by ``python -m terminal.update build``) and sign new
        metadata; returns its target path."""
        if not version or not all(part.isdigit() for part in version.split(".")):
            raise ValueError(f"not a release version: {version!r}")
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        (self.releases_dir / f"{RELEASE_PREFIX}{version}{RELEASE_SUFFIX}").write_bytes(tarball)
        self.publish()
        return f"releases/{RELEASE_PREFIX}{version}{RELEASE_SUFFIX}"

    def publish(self) -> None:
        """Re-read ``items_dir`` and sign new targets, snapshot and timestamp (versions + 1)."""
        with self._lock:
            files = self._scan()
            self.targets.signed.targets = {
                path: TargetFile.from_data(path, body) for path, body in files.items()
            }
            self.target_files = files
            self._sign_targets()
            self._sign_snapshot()
            self._sign_timestamp()
            self._signed_once = True
        log.info("sandbox TUF: published %d targets (targets v%d)", len(files), self.targets.signed.version)

    def _sign_targets(self) -> None:
        if self._signed_once:
            self.targets.signed.version += 1
        self.targets.signed.expires = _now() + LIFETIMES["targets"]
        self.targets.signatures.clear()
        self.targets.sign(self.signers["targets"])
        self.metadata["targets.json"] = self.targets.to_bytes(_SERIALIZER)

    def _sign_snapshot(self) -> None:
        self.snapshot.signed.meta["targets.json"] = MetaFile(version=self.targets.signed.version)
        if self._signed_once:
            self.snapshot.signed.version += 1
        self.snapshot.signed.expires = _now() + LIFETIMES["snapshot"]
        self.snapshot.signatures.clear()
        self.snapshot.sign(self.signers["snapshot"])
        self.metadata["snapshot.json"] = self.snapshot.to_bytes(_SERIALIZER)

    def _sign_timestamp(self, expires: dt.datetime | None = None) -> None:
        self.timestamp.signed.snapshot_meta = MetaFile(version=self.snapshot.signed.version)
        if self._signed_once:
            self.timestamp.signed.version += 1
        self.timestamp.signed.expires = expires or _now() + LIFETIMES["timestamp"]
        self.timestamp.signatures.clear()
        self.timestamp.sign(self.signers["timestamp"])
        self.metadata["timestamp.json"] = self.timestamp.to_bytes(_SERIALIZER)

    # ------------------------------------------------------------------ serving

    def get_metadata(self, name: str) -> bytes | None:
        with self._lock:
            if name == "root.json":
                return self.root_versions[max(self.root_versions)]
            head, _, rest = name.partition(".")
            if rest == "root.json" and head.isdigit():
                return self.root_versions.get(int(head))
            return self.metadata.get(name)

    def get_target(self, path: str) -> bytes | None:
        with self._lock:
            return self.target_files.get(path)

    # ------------------------------------------------------------------ test hooks (sandbox only)

    def saved_metadata(self) -> dict[str, bytes]:
        """TEST HOOK: a copy of the currently served metadata, to replay later."""
        with self._lock:
            return dict(self.metadata)

    def replay_metadata(self, saved: dict[str, bytes]) -> None:
        """TEST HOOK: serve old (validly signed) metadata again, as a rollback attacker would."""
        with self._lock:
            self.metadata.update(saved)

    def expire_timestamp(self) -> None:
        """TEST HOOK: sign a new timestamp that expired an hour ago (a freeze attack)."""
        with self._lock:
            self._sign_timestamp(expires=_now() - dt.timedelta(hours=1))

    def replace_target(self, path: str, body: bytes) -> None:
        """TEST HOOK: alter a target file on the server without signing anything (tampering)."""
        with self._lock:
            if path not in self.target_files:
                raise KeyError(path)
            self.target_files[path] = body


def tuf_router(repo: TufRepository) -> APIRouter:
    """Routes ``/tuf/metadata/{name}``, ``/tuf/targets/{path}`` and the test hooks."""
    router = APIRouter()

    @router.get("/tuf/metadata/{name}", response_class=Response, tags=["tuf"])
    def tuf_metadata(name: str) -> Response:
        body = repo.get_metadata(name)
        if body is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no metadata {name!r}")
        return Response(body, media_type="application/json")

    @router.get("/tuf/targets/{path:path}", response_class=Response, tags=["tuf"])
    def tuf_target(path: str) -> Response:
        body = repo.get_target(path)
        if body is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no target {path!r}")
        return Response(body, media_type="application/octet-stream")

    @router.post("/_sandbox/tuf/publish", status_code=status.HTTP_204_NO_CONTENT, tags=["sandbox"])
    def tuf_publish() -> Response:
        """TEST HOOK: re-read the items directory and sign new metadata."""
        repo.publish()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/_sandbox/tuf/releases/{version}", status_code=status.HTTP_204_NO_CONTENT, tags=["sandbox"])
    async def tuf_release(version: str, request: Request) -> Response:
        """Publish an app release: the body is its tarball (`python -m terminal.update build`)."""
        try:
            repo.publish_release(version, await request.body())
        except ValueError as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(err)) from err
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.post("/_sandbox/tuf/expire-timestamp", status_code=status.HTTP_204_NO_CONTENT, tags=["sandbox"])
    def tuf_expire() -> Response:
        """TEST HOOK: serve an expired timestamp."""
        repo.expire_timestamp()
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return router


__all__ = ["INDEX_TARGET", "RELEASE_INDEX_TARGET", "SPECIFICATION_VERSION", "TufRepository", "tuf_router"]
