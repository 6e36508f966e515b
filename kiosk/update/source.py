"""App releases from the platform's TUF repository (the same one as the rule packages).

The platform lists its releases in the signed target ``releases/index.json``::

    {"releases": [{"version": "1.4.0", "target": "releases/hall-kiosk-1.4.0.tar.gz"}]}

and each tarball is a target of its own, so python-tuf's ``Updater`` checks everything before a
byte is unpacked: root → timestamp → snapshot → targets signatures against the pinned root,
versions never going back (rollback) and expiry (freeze) of the metadata, and the tarball's
length and hashes (tampering).  The updater keeps its own TUF metadata directory (it runs as
another user than the terminal), bootstrapped from the root the terminal pinned at provisioning.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from tuf.api.exceptions import RepositoryError
from tuf.ngclient import Updater  # type: ignore[attr-defined]

from kiosk.review.sync import CaBundleFetcher
from kiosk.update.releases import version_key

RELEASE_INDEX = "releases/index.json"
#: A release tarball over this is refused before it is downloaded.
MAX_ARTEFACT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Release:
    version: str
    target: str
    length: int = 0


class ReleaseSource:
    def __init__(
        self,
        base_url: str,
        tuf_dir: Path,
        *,
        trusted_root: Path | None = None,
        ca_bundle: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.metadata_dir = Path(tuf_dir) / "metadata"
        self.targets_dir = Path(tuf_dir) / "targets"
        self.trusted_root = trusted_root
        self.fetcher = CaBundleFetcher(ca_bundle)
        self._updater: Updater | None = None

    def _refreshed(self) -> Updater:
        if self._updater is not None:
            return self._updater
        self.metadata_dir.mkdir(parents=True, exist_ok=True)
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        pinned = self.metadata_dir / "root.json"
        if not pinned.exists():
            if self.trusted_root is None or not self.trusted_root.exists():
                raise RepositoryError("no trusted TUF root: provision the terminal first")
            shutil.copyfile(self.trusted_root, pinned)
        updater = Updater(
            metadata_dir=str(self.metadata_dir),
            metadata_base_url=f"{self.base_url}/tuf/metadata/",
            target_dir=str(self.targets_dir),
            target_base_url=f"{self.base_url}/tuf/targets/",
            bootstrap=None,  # the trust anchor: metadata_dir/root.json
            fetcher=self.fetcher,
        )
        updater.refresh()
        self._updater = updater
        return updater

    def _download(self, path: str, max_bytes: int) -> Path:
        updater = self._refreshed()
        info = updater.get_targetinfo(path)
        if info is None:
            raise RepositoryError(f"target {path!r} is not in the signed targets metadata")
        if info.length > max_bytes:
            raise RepositoryError(f"target {path!r} is {info.length} bytes (limit {max_bytes})")
        cached = updater.find_cached_target(info)
        return Path(cached if cached is not None else updater.download_target(info))

    def releases(self) -> list[Release]:
        """The platform's releases, oldest first (malformed entries are skipped)."""
        index = json.loads(self._download(RELEASE_INDEX, 1024 * 1024).read_bytes())
        found = []
        for entry in index.get("releases", []) if isinstance(index, dict) else []:
            try:
                version, target = str(entry["version"]), str(entry["target"])
                version_key(version)
            except (KeyError, TypeError, ValueError):
                continue
            found.append(Release(version, target))
        return sorted(found, key=lambda r: version_key(r.version))

    def download(self, release: Release) -> Path:
        """The verified tarball (length, hashes, signatures), in the TUF targets directory."""
        return self._download(release.target, MAX_ARTEFACT_BYTES)
