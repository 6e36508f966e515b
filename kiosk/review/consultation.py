"""Guided consultation (智能咨询): a decision tree of plain questions that leads a citizen who does
not know an item's name to the right item, life event (一件事) or window.

The tree is data, published with the rule packages (``items/consultation/<id>.json``, a TUF target
``consultation/<id>.json`` listed under ``consultation`` in ``index.json``; format in
docs/rule-package.md, "Guided consultation").  It arrives from the platform (a trust boundary), so
:func:`load_tree` checks everything before a tree is shown, each failure a
:class:`TreeRejected` that says where and what to change:

* the shape: ``id``, ``version``, ``title``, ``start`` and ``nodes``; each node either a question
  (``question`` and 2 to :data:`MAX_OPTIONS` ``options``, each with a ``label`` and the ``next``
  node) or an answer (exactly one of ``item``, ``life_event`` or ``window``, and an optional
  ``note``); every text in Chinese and English;
* the wiring: ``start`` and every ``next`` name a node, every node is reachable from ``start``, no
  path comes back to a node it passed (no cycle), no path asks more than :data:`MAX_DEPTH`
  questions, at most :data:`MAX_NODES` nodes;
* the references (when the caller gives the catalogue): every ``item`` names an item the terminal
  offers, every ``life_event`` a life event its items declare.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.limits import PACKAGE_LIMITS, parse_json
from kiosk.review.catalogue_entry import Text

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_OPTIONS",
    "Answer",
    "ConsultationTree",
    "Option",
    "Question",
    "TreeRejected",
    "load_tree",
]

#: Questions on the longest path from the start to an answer (a citizen answers a few, not twenty).
MAX_DEPTH = 6
#: Options of one question (big buttons: more do not fit a screen).
MAX_OPTIONS = 6
MAX_NODES = 200
ANSWER_KINDS = ("item", "life_event", "window")


class TreeRejected(ValueError):
    """The consultation tree must not be used; the message says where and what to fix."""


@dataclass(frozen=True)
class Option:
    label: Text
    next: str


@dataclass(frozen=True)
class Question:
    id: str
    text: Text
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Answer:
    """Where the questions lead: ``kind`` item | life_event | window, and ``target`` the item id,
    the life event id, or the window's name (``window``)."""

    id: str
    kind: str
    target: str
    window: Text | None = None
    note: Text | None = None


@dataclass(frozen=True)
class ConsultationTree:
    id: str
    version: str
    title: Text
    start: str
    nodes: Mapping[str, Question | Answer]

    def node(self, node_id: str) -> Question | Answer:
        return self.nodes[node_id]

    def items(self) -> set[str]:
        return {n.target for n in self.nodes.values() if isinstance(n, Answer) and n.kind == "item"}

    def life_events(self) -> set[str]:
        return {n.target for n in self.nodes.values() if isinstance(n, Answer) and n.kind == "life_event"}


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, Mapping):
        raise TreeRejected(f"{where}: needs a text with a Chinese (zh) and an English (en) version")
    for lang in ("zh", "en"):
        if not isinstance(value.get(lang), str) or not value[lang].strip():
            raise TreeRejected(
                f"{where}: the {'Chinese' if lang == 'zh' else 'English'} text ({lang}) is empty"
            )
    return Text(value["zh"], value["en"])


def _string(doc: Mapping[str, Any], key: str, where: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TreeRejected(f"{where}: '{key}' is missing or empty")
    return value


def _node(node_id: str, raw: Any) -> Question | Answer:
    where = f"node {node_id!r}"
    if not isinstance(raw, Mapping):
        raise TreeRejected(f"{where}: is not an object")
    kinds = [k for k in ANSWER_KINDS if k in raw]
    if "question" in raw:
        if kinds:
            raise TreeRejected(f"{where}: has both a question and an answer ({kinds[0]}); split it in two")
        options = raw.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
            raise TreeRejected(f"{where}: a question needs 2 to {MAX_OPTIONS} options")
        parsed = []
        for n, opt in enumerate(options, start=1):
            if not isinstance(opt, Mapping):
                raise TreeRejected(f"{where}, option {n}: is not an object")
            parsed.append(
                Option(
                    _text(opt.get("label"), f"{where}, option {n}, label"),
                    _string(opt, "next", f"{where}, option {n}"),
                )
            )
        return Question(node_id, _text(raw["question"], f"{where}, question"), tuple(parsed))
    if len(kinds) != 1:
        raise TreeRejected(
            f"{where}: needs a question, or exactly one answer: item, life_event or window"
            + (f" (it has {', '.join(kinds)})" if kinds else "")
        )
    kind = kinds[0]
    note = _text(raw["note"], f"{where}, note") if "note" in raw else None
    if kind == "window":
        window = _text(raw["window"], f"{where}, window")
        return Answer(node_id, kind, window.zh, window=window, note=note)
    return Answer(node_id, kind, _string(raw, kind, where), note=note)


def _check_wiring(tree: ConsultationTree) -> None:
    """Every ``next`` exists, every node is reachable, no cycle, at most MAX_DEPTH questions deep."""
    for node in tree.nodes.values():
        if isinstance(node, Question):
            for n, opt in enumerate(node.options, start=1):
                if opt.next not in tree.nodes:
                    raise TreeRejected(
                        f"node {node.id!r}, option {n}: leads to {opt.next!r}, which is not a node of the tree"
                    )
    depth: dict[str, int] = {}  # questions from this node to its deepest answer
    on_path: list[str] = []

    def walk(node_id: str) -> int:
        if node_id in on_path:
            loop = " → ".join([*on_path[on_path.index(node_id) :], node_id])
            raise TreeRejected(f"the questions go round in a circle: {loop}")
        if node_id in depth:
            return depth[node_id]
        node = tree.nodes[node_id]
        if isinstance(node, Answer):
            depth[node_id] = 0
            return 0
        on_path.append(node_id)
        d = 1 + max(walk(opt.next) for opt in node.options)
        on_path.pop()
        depth[node_id] = d
        return d

    deepest = walk(tree.start)
    if deepest > MAX_DEPTH:
        raise TreeRejected(
            f"a citizen may have to answer {deepest} questions; at most {MAX_DEPTH} are allowed"
        )
    unreachable = sorted(set(tree.nodes) - set(depth))
    if unreachable:
        raise TreeRejected(
            f"no answer leads to node(s) {', '.join(map(repr, unreachable))}: link or delete them"
        )


def check_references(tree: ConsultationTree, items: Collection[str], life_events: Collection[str]) -> None:
    """Every answer names an item the catalogue holds or a life event its items declare."""
    for node in tree.nodes.values():
        if not isinstance(node, Answer):
            continue
        if node.kind == "item" and node.target not in items:
            raise TreeRejected(f"node {node.id!r}: item {node.target!r} is not in the catalogue")
        if node.kind == "life_event" and node.target not in life_events:
            raise TreeRejected(
                f"node {node.id!r}: no item declares the life event {node.target!r} (catalogue.life_events)"
            )


def load_tree(
    body: bytes,
    items: Collection[str] | None = None,
    life_events: Collection[str] | None = None,
) -> ConsultationTree:
    """Parse and check one tree; with ``items`` and ``life_events`` (the catalogue's ids) its answers
    are checked against them too.  Raises :class:`TreeRejected`."""
    try:
        doc = parse_json(body, PACKAGE_LIMITS, "consultation tree")
    except ValueError as err:
        raise TreeRejected(f"not JSON: {err}") from err
    if not isinstance(doc, dict):
        raise TreeRejected("the tree is not a JSON object")
    unknown = sorted(set(doc) - {"id", "version", "title", "start", "nodes", "$comment"})
    if unknown:
        raise TreeRejected(f"unknown key(s) at the top: {', '.join(unknown)}")
    raw_nodes = doc.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        raise TreeRejected("'nodes' is missing: give the questions and answers, keyed by their id")
    if len(raw_nodes) > MAX_NODES:
        raise TreeRejected(f"the tree has {len(raw_nodes)} nodes (limit {MAX_NODES})")
    start = _string(doc, "start", "the tree")
    if start not in raw_nodes:
        raise TreeRejected(f"start {start!r} is not a node of the tree")
    tree = ConsultationTree(
        id=_string(doc, "id", "the tree"),
        version=_string(doc, "version", "the tree"),
        title=_text(doc.get("title"), "title"),
        start=start,
        nodes={str(k): _node(str(k), v) for k, v in raw_nodes.items()},
    )
    if not isinstance(tree.nodes[start], Question):
        raise TreeRejected(f"start {start!r} must be a question")
    _check_wiring(tree)
    if items is not None or life_events is not None:
        check_references(tree, items or (), life_events or ())
    return tree
