"""The consultation tree (智能咨询): the shipped tree, the loader's refusals in plain words, and the
tree served by the sandbox's TUF repository, synced, checked against the catalogue and cached."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.review.consultation import MAX_DEPTH, Answer, Question, TreeRejected, load_tree
from kiosk.review.engine import ReviewEngine
from kiosk.review.items import load_packages
from kiosk.review.search import life_events
from kiosk.review.sync import RuleSync, provision_root
from kiosk.session.catalogue import CONSULTATION_META, Catalogue
from offline_cache.store import Store
from sandbox_platform.server import SandboxServer

ITEMS = Path(__file__).resolve().parents[2] / "items"
TREE = ITEMS / "consultation" / "guide.json"


@pytest.fixture(scope="module")
def catalogue_ids() -> tuple[set[str], set[str]]:
    packages = load_packages(ITEMS)
    return set(packages), {e.id for e in life_events(packages.values())}


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(TREE.read_text("utf-8"))
    return doc


def _load(doc: dict[str, Any], ids: tuple[set[str], set[str]] | None = None) -> Any:
    body = json.dumps(doc, ensure_ascii=False).encode()
    return load_tree(body, *ids) if ids else load_tree(body)


def test_shipped_tree_reaches_items_and_every_life_event(catalogue_ids: tuple[set[str], set[str]]) -> None:
    tree = load_tree(TREE.read_bytes(), *catalogue_ids)
    items, events = catalogue_ids
    assert tree.items() <= items and len(tree.items()) >= 15
    assert tree.life_events() == events  # every life event can be found by questions
    assert isinstance(tree.node(tree.start), Question)
    windows = [n for n in tree.nodes.values() if isinstance(n, Answer) and n.kind == "window"]
    assert windows and all(w.window is not None for w in windows)


def test_answer_naming_a_missing_item_is_refused(catalogue_ids: tuple[set[str], set[str]]) -> None:
    doc = _doc()
    doc["nodes"]["a-senior-card"] = {"item": "senior-cards"}
    with pytest.raises(
        TreeRejected, match="node 'a-senior-card': item 'senior-cards' is not in the catalogue"
    ):
        _load(doc, catalogue_ids)
    _load(doc)  # the shape alone is fine: the reference is the catalogue's business
    doc["nodes"]["a-birth"] = {"life_event": "births"}
    doc["nodes"]["a-senior-card"] = {"item": "senior-card"}
    with pytest.raises(TreeRejected, match="no item declares the life event 'births'"):
        _load(doc, catalogue_ids)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["nodes"]["q-old"]["options"][0].update(next="a-nowhere"),
            "leads to 'a-nowhere', which is not a node",
        ),
        (
            lambda d: d["nodes"]["q-old"]["options"][0].update(next="q-topic"),
            "go round in a circle: q-topic → q-old → q-topic",
        ),
        (
            lambda d: d["nodes"].update({"a-orphan": {"item": "senior-card"}}),
            "no answer leads to node(s) 'a-orphan'",
        ),
        (
            lambda d: d["nodes"]["q-old"]["options"].__delitem__(slice(1, None)),
            "node 'q-old': a question needs 2 to 6 options",
        ),
        (
            lambda d: d["nodes"]["a-birth"].update(item="senior-card"),
            "exactly one answer: item, life_event or window (it has item, life_event)",
        ),
        (
            lambda d: d["nodes"]["q-old"]["question"].update(en=" "),
            "node 'q-old', question: the English text (en) is empty",
        ),
        (lambda d: d.update(start="a-birth"), "start 'a-birth' must be a question"),
        (lambda d: d.update(start="q-nothing"), "start 'q-nothing' is not a node of the tree"),
        (lambda d: d.update(colour="red"), "unknown key(s) at the top: colour"),
        (lambda d: d["nodes"]["q-old"].update(item="senior-card"), "has both a question and an answer"),
    ],
)
def test_malformed_trees_are_refused_with_where_and_what(change: Any, message: str) -> None:
    doc = copy.deepcopy(_doc())
    change(doc)
    with pytest.raises(TreeRejected, match=re.escape(message)):
        _load(doc)


def test_depth_is_bounded() -> None:
    def chain(n: int) -> dict[str, Any]:
        nodes: dict[str, Any] = {
            "end": {"item": "senior-card"},
            "win": {"window": {"zh": "1号窗口", "en": "window 1"}},
        }
        for i in range(n):
            nxt = f"q{i + 1}" if i + 1 < n else "end"
            nodes[f"q{i}"] = {
                "question": {"zh": f"问题{i}", "en": f"Question {i}"},
                "options": [
                    {"label": {"zh": "是", "en": "Yes"}, "next": nxt},
                    {"label": {"zh": "否", "en": "No"}, "next": "win"},
                ],
            }
        return {
            "id": "t",
            "version": "1",
            "title": {"zh": "咨询", "en": "Help"},
            "start": "q0",
            "nodes": nodes,
        }

    assert len([n for n in _load(chain(MAX_DEPTH)).nodes.values() if isinstance(n, Question)]) == MAX_DEPTH
    with pytest.raises(
        TreeRejected, match=f"may have to answer {MAX_DEPTH + 1} questions; at most {MAX_DEPTH}"
    ):
        _load(chain(MAX_DEPTH + 1))


def test_not_json_is_refused() -> None:
    with pytest.raises(TreeRejected, match="not JSON"):
        load_tree(b"{nodes:")


# ------------------------------------------------------------------ served, synced, cached


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[tuple[SandboxServer, Path, Catalogue]]:
    items = tmp_path / "platform_items"
    shutil.copytree(ITEMS, items, ignore=shutil.ignore_patterns("tools"))
    server = SandboxServer(tmp_path / "platform", items).start()
    terminal = tmp_path / "terminal"
    provision_root(server.url, terminal / "tuf" / "metadata")
    store = Store(terminal / "kiosk.sqlite3")
    engine = ReviewEngine()
    sync = RuleSync(
        store, server.url, terminal / "tuf" / "metadata", terminal / "tuf" / "targets", engine=engine
    )
    try:
        yield server, items, Catalogue(store, sync)
    finally:
        engine.close()
        store.close()
        server.close()


def test_tree_is_synced_with_the_packages_checked_and_cached(
    platform: tuple[SandboxServer, Path, Catalogue],
) -> None:
    server, items, catalogue = platform
    result = catalogue.sync()
    assert result["consultation/guide.json"] == "activated"
    tree = catalogue.consultation()
    assert tree is not None and tree.id == "guide"
    assert catalogue.store.meta.get(CONSULTATION_META) == TREE.read_text("utf-8")
    assert catalogue.sync()["consultation/guide.json"] == "unchanged"

    # the platform publishes a tree whose answer names an item this catalogue does not hold
    doc = _doc()
    doc["version"] = "1.1.0"
    doc["nodes"]["a-senior-card"] = {"item": "senior-card-v2"}
    (items / "consultation" / "guide.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    server.app.state.tuf.publish()
    result = catalogue.sync()
    assert result["consultation/guide.json"].startswith("rejected: TreeRejected: node 'a-senior-card'")
    assert catalogue.consultation() == tree  # the last good tree keeps serving
    assert catalogue.store.meta.get(CONSULTATION_META) == TREE.read_text("utf-8")

    # a malformed tree never gets past the sync's shape check
    (items / "consultation" / "guide.json").write_text('{"id": "guide"}', "utf-8")
    server.app.state.tuf.publish()
    assert catalogue.sync()["consultation/guide.json"].startswith(
        "rejected: TreeRejected: 'nodes' is missing"
    )

    # a restart with the network down serves the cached tree
    offline = Catalogue(catalogue.store)
    offline.load_cached()
    cached = offline.consultation()
    assert cached is not None and cached.version == "1.0.0"
