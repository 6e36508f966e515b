"""The sandbox's TUF repository: served over HTTP, signed with persistent keys, test hooks."""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Root, Snapshot, Targets, Timestamp

from sandbox_platform.server import SandboxServer
from sandbox_platform.tuf_repo import INDEX_TARGET, TufRepository

ITEMS = Path(__file__).resolve().parents[2] / "items"


@pytest.fixture
def items(tmp_path: Path) -> Path:
    dest = tmp_path / "items"
    shutil.copytree(ITEMS, dest, ignore=shutil.ignore_patterns("tools"))
    return dest


@pytest.fixture
def server(tmp_path: Path, items: Path) -> Iterator[SandboxServer]:
    srv = SandboxServer(tmp_path / "platform", items).start()
    yield srv
    srv.close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as resp:
        body: bytes = resp.read()
    return body


def test_metadata_is_served_and_verifies_against_root(server: SandboxServer) -> None:
    base = f"{server.url}/tuf/metadata"
    root = Metadata[Root].from_bytes(_get(f"{base}/1.root.json"))
    assert _get(f"{base}/root.json") == _get(f"{base}/1.root.json")
    assert root.signed.consistent_snapshot is False
    root.verify_delegate("root", root)
    timestamp = Metadata[Timestamp].from_bytes(_get(f"{base}/timestamp.json"))
    snapshot = Metadata[Snapshot].from_bytes(_get(f"{base}/snapshot.json"))
    targets = Metadata[Targets].from_bytes(_get(f"{base}/targets.json"))
    root.verify_delegate("timestamp", timestamp)
    root.verify_delegate("snapshot", snapshot)
    root.verify_delegate("targets", targets)
    assert timestamp.signed.snapshot_meta.version == snapshot.signed.version
    assert snapshot.signed.meta["targets.json"].version == targets.signed.version
    # one key per role, four roles
    assert len({k for r in root.signed.roles.values() for k in r.keyids}) == 4


def test_targets_are_the_items_files_byte_for_byte(server: SandboxServer, items: Path) -> None:
    targets = Metadata[Targets].from_bytes(_get(f"{server.url}/tuf/metadata/targets.json")).signed.targets
    index = json.loads(_get(f"{server.url}/tuf/targets/{INDEX_TARGET}"))
    assert index["packages"] == sorted(f"packages/{p.name}" for p in items.glob("*.json"))
    assert len(index["warning_lists"]) == 4
    for path in index["packages"]:
        body = _get(f"{server.url}/tuf/targets/{path}")
        assert body == (items / Path(path).name).read_bytes()
        assert targets[path].hashes["sha256"] == hashlib.sha256(body).hexdigest()
        assert targets[path].length == len(body)
    for path in index["warning_lists"]:
        assert _get(f"{server.url}/tuf/targets/{path}") == (items / path).read_bytes()


def test_unknown_names_are_404(server: SandboxServer) -> None:
    for url in ("/tuf/metadata/2.root.json", "/tuf/metadata/nope.json", "/tuf/targets/packages/nope.json"):
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(server.url + url)
        assert info.value.code == 404
        info.value.close()


def test_tuf_routes_stay_out_of_the_published_openapi(server: SandboxServer) -> None:
    paths = json.loads(_get(f"{server.url}/openapi.json"))["paths"]
    assert not [p for p in paths if p.startswith(("/tuf", "/_sandbox/tuf"))]


def test_keys_persist_in_the_data_dir(tmp_path: Path, items: Path) -> None:
    first = TufRepository(tmp_path / "data", items)
    keys = sorted((tmp_path / "data" / "tuf_keys").iterdir())
    assert [k.name for k in keys] == ["root.pem", "snapshot.pem", "targets.pem", "timestamp.pem"]
    assert all(k.stat().st_mode & 0o077 == 0 for k in keys)
    again = TufRepository(tmp_path / "data", items)
    assert first.root.signed.keys.keys() == again.root.signed.keys.keys()
    other = TufRepository(tmp_path / "elsewhere", items)
    assert first.root.signed.keys.keys().isdisjoint(other.root.signed.keys.keys())


def test_publish_hook_bumps_versions_and_picks_up_changes(server: SandboxServer, items: Path) -> None:
    repo: TufRepository = server.app.state.tuf
    before = {n: Metadata.from_bytes(b).signed.version for n, b in repo.saved_metadata().items()}
    doc = json.loads((items / "senior-card.json").read_bytes())
    doc["version"] = "1.1.0"
    (items / "senior-card.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    req = urllib.request.Request(f"{server.url}/_sandbox/tuf/publish", method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 204
    after = {n: Metadata.from_bytes(b).signed.version for n, b in repo.saved_metadata().items()}
    assert after == {n: v + 1 for n, v in before.items()}
    assert json.loads(_get(f"{server.url}/tuf/targets/packages/senior-card.json"))["version"] == "1.1.0"


def test_expire_and_replace_hooks(server: SandboxServer) -> None:
    repo: TufRepository = server.app.state.tuf
    req = urllib.request.Request(f"{server.url}/_sandbox/tuf/expire-timestamp", method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 204
    timestamp = Metadata[Timestamp].from_bytes(_get(f"{server.url}/tuf/metadata/timestamp.json"))
    assert timestamp.signed.is_expired()
    repo.replace_target("packages/senior-card.json", b"{}")
    assert _get(f"{server.url}/tuf/targets/packages/senior-card.json") == b"{}"
    with pytest.raises(KeyError):
        repo.replace_target("packages/nope.json", b"{}")
