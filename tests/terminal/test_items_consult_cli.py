"""The author's command checks the consultation tree beside the packages, in plain words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.terminal.test_items_cli import REPO, _run


def test_check_covers_the_shipped_tree() -> None:
    result = _run("lint", str(REPO / "items" / "consultation" / "guide.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "✓ guide.json: the consultation tree is well formed (9 questions leading to 18 items" in result.stdout
    )


def test_tree_naming_an_item_the_folder_lacks_fails(tmp_path: Path) -> None:
    shutil.copy(REPO / "items" / "senior-card.json", tmp_path)
    (tmp_path / "consultation").mkdir()
    shutil.copy(REPO / "items" / "consultation" / "guide.json", tmp_path / "consultation")
    result = _run("lint", str(tmp_path))
    assert result.returncode == 1
    assert "✗ guide.json: the consultation tree needs work" in result.stdout
    assert "node 'a-birth': no item declares the life event 'birth'" in result.stdout
    assert "✓ senior-card.json: the package is well formed" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    doc = json.loads((tmp_path / "consultation" / "guide.json").read_text("utf-8"))
    doc["nodes"] = {
        "q": {
            "question": {"zh": "多大年纪？", "en": "How old are you?"},
            "options": [
                {"label": {"zh": "60岁以上", "en": "Over 60"}, "next": "a"},
                {"label": {"zh": "60岁以下", "en": "Under 60"}, "next": "q"},
            ],
        },
        "a": {"item": "senior-card"},
    }
    doc["start"] = "q"
    (tmp_path / "consultation" / "guide.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    result = _run("lint", str(tmp_path))
    assert result.returncode == 1
    assert "the questions go round in a circle: q → q" in result.stdout
