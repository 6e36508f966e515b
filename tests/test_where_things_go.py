"""docs/architecture.md "Where things go" names places that exist in the tree."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Places the section describes as they will be, while other work creates them.  Once one exists
#: the test says so: take it off this list and it is checked like the others.
PLANNED: frozenset[str] = frozenset()


def _section() -> str:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    match = re.search(r"^## Where things go\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match is not None, "docs/architecture.md has no 'Where things go' section"
    return match.group(1)


def _places(section: str) -> list[str]:
    """Backticked tokens that are paths (a slash or a file suffix)."""
    tokens = re.findall(r"`([^`\s]+)`", section)
    return [t for t in tokens if "/" in t or re.search(r"\.(py|json|md|po|toml)$", t)]


def test_the_section_answers_each_kind_of_change() -> None:
    section = _section()
    for change in ("device kind", "service item", "screen", "platform endpoint", "language"):
        assert re.search(rf"^- \*\*A new {change}\*\*", section, re.M), change


def test_every_named_place_exists() -> None:
    places = _places(_section())
    assert len(places) >= 10
    for place in places:
        if place in PLANNED:
            assert not (REPO / place).exists(), f"{place} exists now: take it off PLANNED"
            continue
        pattern = re.sub(r"<[^>]+>", "*", place).rstrip("/")
        assert list(REPO.glob(pattern)), f"docs/architecture.md names {place}, which is not in the tree"


def test_named_python_objects_exist() -> None:
    """The classes and functions the section names are in the modules it names."""
    section = _section()
    for name, module in (
        ("DeviceKind", "devices/device_kind.py"),
        ("Devices", "kiosk/session/values.py"),
        ("Screen", "ui/screens/base.py"),
        ("all_screens", "ui/screens/__init__.py"),
        ("Step", "kiosk/session/machine.py"),
    ):
        assert f"`{name}`" in section
        assert re.search(rf"^(class|def) {name}\b", (REPO / module).read_text(encoding="utf-8"), re.M), name
