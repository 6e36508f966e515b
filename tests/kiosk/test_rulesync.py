"""TUF-signed rule sync against a real sandbox platform on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.review.engine import ReviewEngine
from kiosk.review.items import load_package
from kiosk.review.sync import (
    LAST_SYNC_OK_META,
    RuleSync,
    SyncReport,
    last_verified_at,
    provision_root,
)
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer
from sandbox_platform.tuf_repo import TufRepository

ITEMS = Path(__file__).resolve().parents[2] / "items"
PACKAGES = {p.stem for p in (Path(__file__).resolve().parents[2] / "items").glob("*.json")}
LISTS = {"abnormal_operation", "dishonest_entities", "dishonest_persons", "market_access_negative"}


@dataclass
class Env:
    server: SandboxServer
    items: Path
    store: Store
    sync: RuleSync
    clock: list[float]

    @property
    def repo(self) -> TufRepository:
        repo: TufRepository = self.server.app.state.tuf
        return repo

    def bump(self, item_id: str, version: str, *, break_golden: bool = False) -> None:
        """Publish a new version of a package on the platform (signed)."""
        path = self.items / f"{item_id}.json"
        doc = json.loads(path.read_bytes())
        doc["version"] = version
        if break_golden:
            case = doc["golden_cases"][0]
            case["expected_decision"] = "reject" if case["expected_decision"] != "reject" else "approve"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), "utf-8")
        self.repo.publish()


@pytest.fixture(scope="module")
def engine() -> Iterator[ReviewEngine]:
    eng = ReviewEngine()
    yield eng
    eng.close()


@pytest.fixture
def env(tmp_path: Path, engine: ReviewEngine) -> Iterator[Env]:
    items = tmp_path / "platform_items"
    shutil.copytree(ITEMS, items, ignore=shutil.ignore_patterns("tools"))
    server = SandboxServer(tmp_path / "platform", items).start()
    terminal = tmp_path / "terminal"
    assert provision_root(server.url, terminal / "tuf" / "metadata") is True
    store = Store(terminal / "kiosk.sqlite3")
    clock = [1_800_000_000.0]
    sync = RuleSync(
        store,
        server.url,
        terminal / "tuf" / "metadata",
        terminal / "tuf" / "targets",
        engine=engine,
        clock=lambda: clock[0],
    )
    try:
        yield Env(server, items, store, sync, clock)
    finally:
        store.close()
        server.close()


def _active(store: Store) -> dict[str, str]:
    return {p.item_id: p.version for p in store.packages.active_all()}


def _initial(env: Env) -> SyncReport:
    report = env.sync.sync()
    assert report.ok, report.error
    assert _active(env.store) == dict.fromkeys(PACKAGES, "1.0.0")
    return report


def test_first_sync_activates_signed_packages_and_lists(env: Env) -> None:
    report = _initial(env)
    assert report.result_map == {**dict.fromkeys(PACKAGES, "activated"), **dict.fromkeys(LISTS, "activated")}
    assert {p.id for p in report.activated} == PACKAGES
    assert {w.name for w in env.store.warning_lists.all()} == LISTS
    # the stored bodies are the platform's files byte for byte and load as packages
    for stored in env.store.packages.active_all():
        assert stored.body == (env.items / f"{stored.item_id}.json").read_bytes()
        assert load_package(stored.body).sha256 == stored.sha256
    assert last_verified_at(env.store, "senior-card") == env.clock[0]
    assert env.store.meta.get(LAST_SYNC_OK_META) == repr(env.clock[0])

    env.clock[0] += 3600
    again = env.sync.sync()
    assert again.ok
    assert {again.result_map[p] for p in PACKAGES} == {"unchanged"}
    assert again.activated == ()
    assert last_verified_at(env.store, "senior-card") == env.clock[0]


def test_provision_root_pins_once(env: Env) -> None:
    pinned = env.sync.metadata_dir / "root.json"
    before = pinned.read_bytes()
    assert provision_root(env.server.url, env.sync.metadata_dir) is False
    assert pinned.read_bytes() == before


def test_new_version_is_activated(env: Env) -> None:
    _initial(env)
    env.bump("senior-card", "1.1.0")
    report = env.sync.sync()
    assert report.ok
    assert report.result_map["senior-card"] == "activated"
    assert _active(env.store)["senior-card"] == "1.1.0"
    assert env.store.packages.versions("senior-card") == ["1.0.0", "1.1.0"]


def test_failed_golden_case_is_not_activated_and_old_version_keeps_serving(env: Env) -> None:
    _initial(env)
    verified = last_verified_at(env.store, "senior-card")
    env.clock[0] += 60
    env.bump("senior-card", "1.1.0", break_golden=True)
    report = env.sync.sync()
    assert report.ok
    assert report.result_map["senior-card"].startswith("rejected: ValueError: 1 golden case(s) failed")
    assert _active(env.store)["senior-card"] == "1.0.0"
    assert last_verified_at(env.store, "senior-card") == verified  # not re-verified
    assert env.store.meta.get(LAST_SYNC_OK_META) != repr(env.clock[0])


def test_rollback_replayed_old_timestamp_is_rejected(env: Env) -> None:
    _initial(env)
    old = env.repo.saved_metadata()  # validly signed timestamp/snapshot/targets, version N
    env.bump("senior-card", "1.1.0")
    assert env.sync.sync().ok
    assert _active(env.store)["senior-card"] == "1.1.0"

    env.repo.replay_metadata(old)  # the attacker (or a stale mirror) serves version N again
    report = env.sync.sync()
    assert not report.ok
    assert report.error is not None and "BadVersionNumberError" in report.error
    assert _active(env.store)["senior-card"] == "1.1.0"  # nothing rolled back


def test_rollback_replayed_old_snapshot_is_rejected(env: Env) -> None:
    _initial(env)
    old_snapshot = env.repo.saved_metadata()["snapshot.json"]
    env.bump("senior-card", "1.1.0")
    assert env.sync.sync().ok
    env.bump("senior-card", "1.2.0")  # fresh timestamp, announcing a newer snapshot ...
    env.repo.replay_metadata({"snapshot.json": old_snapshot})  # ... but an old snapshot is served
    report = env.sync.sync()
    assert not report.ok
    assert report.error is not None and "BadVersionNumberError" in report.error
    assert _active(env.store)["senior-card"] == "1.1.0"


def test_freeze_expired_timestamp_is_rejected_and_last_good_keeps_serving(env: Env) -> None:
    _initial(env)
    env.bump("senior-card", "1.1.0")  # a new version exists ...
    env.repo.expire_timestamp()  # ... but the platform serves expired metadata
    report = env.sync.sync()
    assert not report.ok
    assert report.error is not None and "ExpiredMetadataError" in report.error
    assert _active(env.store) == dict.fromkeys(PACKAGES, "1.0.0")


def test_tampered_target_is_rejected_and_last_good_keeps_serving(env: Env) -> None:
    _initial(env)
    env.bump("senior-card", "1.1.0")
    path = "packages/senior-card.json"
    body = env.repo.get_target(path)
    assert body is not None
    doc = json.loads(body)
    doc["catalogue"]["fee_yuan"] = 999  # altered on the server after signing
    env.repo.replace_target(path, json.dumps(doc, ensure_ascii=False, indent=2).encode())
    report = env.sync.sync()
    assert report.ok  # metadata fine; the one target fails its signed hashes/length
    assert report.result_map["senior-card"].startswith("rejected:")
    assert "Mismatch" in report.result_map["senior-card"]
    assert report.result_map["resident-pension"] == "unchanged"
    assert _active(env.store)["senior-card"] == "1.0.0"
    assert load_package(env.store.packages.active("senior-card").body).catalogue.fee_yuan == 0  # type: ignore[union-attr]


def test_platform_down_keeps_last_good(env: Env) -> None:
    _initial(env)
    env.server.stop()
    report = env.sync.sync()
    assert not report.ok
    assert report.error is not None
    assert _active(env.store) == dict.fromkeys(PACKAGES, "1.0.0")


def test_untrusted_root_is_refused(env: Env, tmp_path: Path) -> None:
    """A terminal pinned to another platform's root refuses this platform's metadata."""
    other_items = tmp_path / "other_items"
    other_items.mkdir()
    other = TufRepository(tmp_path / "other_platform", other_items)
    meta = tmp_path / "other_terminal" / "metadata"
    meta.mkdir(parents=True)
    (meta / "root.json").write_bytes(other.get_metadata("root.json") or b"")
    store = Store(tmp_path / "other_terminal" / "kiosk.sqlite3")
    try:
        report = RuleSync(store, env.server.url, meta, tmp_path / "other_terminal" / "targets").sync()
        assert not report.ok
        assert report.error is not None and "UnsignedMetadataError" in report.error
        assert store.packages.active_all() == []
    finally:
        store.close()
