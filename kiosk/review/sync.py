"""Sync rule packages and warning lists from the platform as TUF-signed targets.

python-tuf's ``ngclient.Updater`` does the trust work: it refreshes root → timestamp →
snapshot → targets metadata, checks signatures against the trusted root in ``metadata_dir``,
refuses older versions than it has seen (rollback), expired metadata (freeze), and target
files whose length or hashes differ from the signed targets metadata (tampering).  On top of
that, :class:`RuleSync` validates each package (:func:`kiosk.review.items.load_package`), runs its
golden cases, and only then stores and activates it (``Store.activate`` is atomic).  Whatever
fails, the last good version stays active, so a failed sync never stops the terminal serving.

Trust anchor: ``metadata_dir/root.json``.  In the demo it is fetched once from the sandbox at
enrolment and pinned (:func:`provision_root`, trust on first use).  A production terminal must
not do that: the provisioning step writes the platform's root metadata (verified out of band,
e.g. shipped in the signed OS image or checked against a fingerprint read from the platform's
key ceremony record) before the terminal first goes online; root rotations later arrive
through TUF itself (``N.root.json`` signed by the previous root).

Offline age: each successful verification of a package's active version records the time in
the store's ``meta`` table under ``rulesync.verified_at.<item_id>`` (epoch seconds), read with
:func:`last_verified_at`.  The review turns a package whose last verification is older than its
``max_offline_days`` into manual review (``package_stale``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import ssl
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH
from tuf.api import exceptions as tuf_errors
from tuf.api.exceptions import RepositoryError
from tuf.ngclient import Updater  # type: ignore[attr-defined]
from tuf.ngclient.fetcher import FetcherInterface

from kiosk.review.consultation import load_tree
from kiosk.review.engine import ReviewEngine, run_golden_cases
from kiosk.review.items import ItemPackage, load_package
from kiosk.review.warnings import WarningList, load_warning_list
from offline_cache.store import Store

__all__ = [
    "INDEX_TARGET",
    "LAST_SYNC_OK_META",
    "VERIFIED_AT_META_PREFIX",
    "RuleSync",
    "SyncReport",
    "last_verified_at",
    "provision_root",
]

log = logging.getLogger(__name__)

INDEX_TARGET = "index.json"
#: meta key prefix: ``rulesync.verified_at.<item_id>`` → epoch seconds (str).
VERIFIED_AT_META_PREFIX = "rulesync.verified_at."
#: meta key: time of the last sync in which TUF refresh and every target succeeded.
LAST_SYNC_OK_META = "rulesync.last_ok_at"


@dataclass(frozen=True)
class SyncReport:
    """What one sync did.  ``ok`` is False when the TUF refresh itself failed (nothing changed)."""

    ok: bool
    error: str | None = None
    #: item id / list name → "activated" | "unchanged" | "rejected: ..."
    results: tuple[tuple[str, str], ...] = ()
    #: packages newly activated by this sync (the caller swaps them into its in-memory catalogue)
    activated: tuple[ItemPackage, ...] = ()
    #: warning lists stored by this sync
    warning_lists: tuple[WarningList, ...] = field(default=())
    #: consultation trees (智能咨询) well formed as fetched, as (target path, body); the catalogue
    #: checks their answers against its items before it stores one (kiosk.session.catalogue)
    consultation: tuple[tuple[str, bytes], ...] = field(default=())

    @property
    def result_map(self) -> dict[str, str]:
        return dict(self.results)


def last_verified_at(store: Store, item_id: str) -> float | None:
    """When the active version of ``item_id`` was last confirmed by a verified sync (epoch s)."""
    value = store.meta.get(VERIFIED_AT_META_PREFIX + item_id)
    return None if value is None else float(value)


def ca_file(ca_bundle: str | None) -> str:
    """The one CA store of every platform client: the configured ``platform.ca_bundle``, else the
    bundle the API client (requests) uses by default, so rule sync and the API trust the same CAs."""
    return ca_bundle or DEFAULT_CA_BUNDLE_PATH


class CaBundleFetcher(FetcherInterface):
    """TUF downloads over urllib3 with the platform's CA bundle, certificates and host names
    checked, redirects refused (like the API client), ``timeout_s`` per connect and per read."""

    def __init__(self, ca_bundle: str | None = None, timeout_s: float = 30.0) -> None:
        self.ca_file = ca_file(ca_bundle)
        self._pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=self.ca_file)
        self._timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)

    def close(self) -> None:
        """Close the pooled connections (a long-lived process builds and closes terminals)."""
        self._pool.clear()

    def _fetch(self, url: str) -> Iterator[bytes]:
        try:
            response = self._pool.request(
                "GET", url, preload_content=False, timeout=self._timeout, redirect=False, retries=False
            )
        except urllib3.exceptions.TimeoutError as err:
            raise tuf_errors.SlowRetrievalError from err
        except urllib3.exceptions.HTTPError as err:  # TLS, connection refused, ...
            raise tuf_errors.DownloadError(f"cannot fetch {url}: {err}") from err
        if response.status >= 300:  # a redirect is a failure, never followed
            response.close()
            raise tuf_errors.DownloadHTTPError(f"HTTP {response.status}", response.status)
        return self._chunks(response)

    @staticmethod
    def _chunks(response: urllib3.BaseHTTPResponse) -> Iterator[bytes]:
        try:
            yield from response.stream(64 * 1024)
        except urllib3.exceptions.TimeoutError as err:
            raise tuf_errors.SlowRetrievalError from err
        except urllib3.exceptions.HTTPError as err:
            raise tuf_errors.DownloadError(str(err)) from err
        finally:
            response.release_conn()


def provision_root(
    base_url: str, metadata_dir: Path, *, timeout_s: float = 10.0, ca_bundle: str | None = None
) -> bool:
    """DEMO ONLY (trust on first use): pin the platform's ``1.root.json`` as ``root.json``.

    Does nothing when a root is already pinned (returns False).  A real terminal gets its root
    from a provisioning step instead (see the module docstring)."""
    metadata_dir = Path(metadata_dir)
    target = metadata_dir / "root.json"
    if target.exists():
        return False
    url = f"{base_url.rstrip('/')}/tuf/metadata/1.root.json"
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url}")
    context = ssl.create_default_context(cafile=ca_file(ca_bundle))
    with urllib.request.urlopen(url, timeout=timeout_s, context=context) as resp:
        body: bytes = resp.read()
    json.loads(body)  # at least JSON; the Updater verifies its self-signature when loading it
    metadata_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(target)
    log.warning("pinned the platform's TUF root on first use (demo provisioning)")
    return True


class RuleSync:
    """``RuleSync(store, base_url, metadata_dir, targets_dir).sync() -> SyncReport``."""

    def __init__(
        self,
        store: Store,
        base_url: str,
        metadata_dir: Path,
        targets_dir: Path,
        *,
        engine: ReviewEngine | None = None,
        clock: Callable[[], float] = time.time,
        ca_bundle: str | None = None,
    ) -> None:
        self.store = store
        #: The platform's CA bundle (``platform.ca_bundle``), the same the API client trusts.
        self.fetcher = CaBundleFetcher(ca_bundle)
        self.base_url = base_url.rstrip("/")
        self.metadata_dir = Path(metadata_dir)
        self.targets_dir = Path(targets_dir)
        self.engine = engine or ReviewEngine()
        self._clock = clock

    def close(self) -> None:
        self.fetcher.close()

    def _updater(self) -> Updater:
        self.targets_dir.mkdir(parents=True, exist_ok=True)
        return Updater(
            metadata_dir=str(self.metadata_dir),
            metadata_base_url=f"{self.base_url}/tuf/metadata/",
            target_dir=str(self.targets_dir),
            target_base_url=f"{self.base_url}/tuf/targets/",
            bootstrap=None,  # trust anchor: metadata_dir/root.json (pinned at provisioning)
            fetcher=self.fetcher,
        )

    def _fetch(self, updater: Updater, path: str) -> bytes:
        info = updater.get_targetinfo(path)
        if info is None:
            raise RepositoryError(f"target {path!r} is not in the signed targets metadata")
        cached = updater.find_cached_target(info)
        local = cached if cached is not None else updater.download_target(info)
        return Path(local).read_bytes()

    def sync(self) -> SyncReport:
        """One sync.  Never raises for network or trust failures: see ``SyncReport.ok/error``."""
        now = self._clock()
        try:
            updater = self._updater()
            updater.refresh()
            index = json.loads(self._fetch(updater, INDEX_TARGET))
            package_paths = [str(p) for p in index.get("packages", [])]
            list_paths = [str(p) for p in index.get("warning_lists", [])]
            tree_paths = [str(p) for p in index.get("consultation", [])]
        except Exception as err:  # tuf raises RepositoryError/DownloadError; also OSError, ValueError
            log.warning(
                "rule sync failed, keeping the last verified packages: %s: %s", type(err).__name__, err
            )
            self.store.audit_trail.append("rulesync_failed", {"error": type(err).__name__})
            return SyncReport(ok=False, error=f"{type(err).__name__}: {err}")

        results: list[tuple[str, str]] = []
        activated: list[ItemPackage] = []
        lists: list[WarningList] = []
        all_ok = True
        for path in package_paths:
            name = Path(path).stem
            try:
                body = self._fetch(updater, path)
                pkg = load_package(body)
                active = self.store.packages.active(pkg.id)
                if active is not None and active.sha256 == pkg.sha256:
                    self.store.meta.set(VERIFIED_AT_META_PREFIX + pkg.id, repr(now))
                    results.append((pkg.id, "unchanged"))
                    continue
                failures = run_golden_cases(pkg, self.engine)
                if failures:
                    raise ValueError(f"{len(failures)} golden case(s) failed: {failures[0].case}")
            except Exception as err:
                all_ok = False
                log.warning("package %s rejected, the last good version keeps serving: %s", name, err)
                self.store.audit_trail.append("package_rejected", {"item": name, "error": type(err).__name__})
                results.append((name, f"rejected: {type(err).__name__}: {err}"))
                continue
            self.store.packages.put(pkg.id, pkg.version, pkg.sha256, body)
            self.store.packages.activate(pkg.id, pkg.version)
            self.store.meta.set(VERIFIED_AT_META_PREFIX + pkg.id, repr(now))
            self.store.audit_trail.append(
                "package_activated", {"item": pkg.id, "version": pkg.version, "sha256": pkg.sha256}
            )
            activated.append(pkg)
            results.append((pkg.id, "activated"))
        for path in list_paths:
            name = Path(path).stem
            try:
                body = self._fetch(updater, path)
                wl = load_warning_list(body)
            except Exception as err:
                all_ok = False
                log.warning("warning list %s rejected: %s", name, err)
                results.append((name, f"rejected: {type(err).__name__}: {err}"))
                continue
            self.store.warning_lists.put(wl.name, wl.version, _sha256(body), body, now)
            lists.append(wl)
            results.append((wl.name, "activated"))
        trees: list[tuple[str, bytes]] = []
        for path in tree_paths:
            try:
                body = self._fetch(updater, path)
                load_tree(body)  # the shape; the answers are checked against the catalogue later
            except Exception as err:
                all_ok = False
                log.warning("consultation tree %s rejected: %s", path, err)
                results.append((path, f"rejected: {type(err).__name__}: {err}"))
                continue
            trees.append((path, body))
        if all_ok:
            self.store.meta.set(LAST_SYNC_OK_META, repr(now))
        self.store.audit_trail.append("rulesync", {"result": dict(results)})
        return SyncReport(
            ok=True,
            results=tuple(results),
            activated=tuple(activated),
            warning_lists=tuple(lists),
            consultation=tuple(trees),
        )


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
