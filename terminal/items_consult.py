"""The item author's command for consultation trees (智能咨询): ``items/consultation/*.json``.

``python -m terminal.items lint|check items/`` checks the trees beside the packages; a tree file
given by itself (``lint items/consultation/guide.json``) is checked against the packages of the
folder above its ``consultation/`` folder.  Each answer must name an item of those packages or a
life event they declare (see docs/rule-package.md, "Guided consultation").
"""

from __future__ import annotations

from pathlib import Path

from kiosk.review.consultation import Question, TreeRejected, load_tree
from kiosk.review.items import PackageRejected, load_package
from kiosk.review.search import life_events

TREE_DIR = "consultation"


def is_tree(path: Path) -> bool:
    return path.parent.name == TREE_DIR and path.suffix == ".json"


def trees_of(paths: list[Path]) -> list[Path]:
    """The tree files among ``paths``, and those in the ``consultation/`` folder of each folder."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted((p / TREE_DIR).glob("*.json")))
        elif is_tree(p):
            found.append(p)
    return found


def lint_trees(trees: list[Path]) -> tuple[bool, list[str]]:
    """(any tree needs work, report lines) for the trees, each against its catalogue's items."""
    out: list[str] = []
    bad = False
    for tree_path in trees:
        items: set[str] = set()
        packages = []
        for pkg_path in sorted(tree_path.parent.parent.glob("*.json")):
            try:
                pkg = load_package(pkg_path.read_bytes())
            except PackageRejected:
                continue  # the package's own lint reports it
            items.add(pkg.id)
            packages.append(pkg)
        events = {e.id for e in life_events(packages)}
        try:
            tree = load_tree(tree_path.read_bytes(), items, events)
        except TreeRejected as err:
            bad = True
            out.append(f"✗ {tree_path.name}: the consultation tree needs work")
            out.append(f"    {err}")
            continue
        questions = sum(isinstance(n, Question) for n in tree.nodes.values())
        out.append(
            f"✓ {tree_path.name}: the consultation tree is well formed "
            f"({questions} questions leading to {len(tree.items())} items and {len(tree.life_events())} life events)"
        )
    return bad, out
