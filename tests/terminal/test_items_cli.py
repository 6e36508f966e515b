"""The item author's command line, run as an author runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "terminal.items", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_check_passes_on_every_shipped_item() -> None:
    result = _run("check", str(REPO / "items"))
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(p.name for p in (REPO / "items").glob("*.json"))
    for name in names:
        assert f"✓ {name}: the package is well formed" in result.stdout
        assert f"✓ {name}: every rule is fired by a golden case" in result.stdout


def test_check_fails_on_a_broken_package_with_a_plain_message(tmp_path: Path) -> None:
    doc = json.loads((REPO / "items" / "senior-card.json").read_text("utf-8"))
    doc["catalogue"].pop("name")
    bad = tmp_path / "senior-card.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False, indent=2), "utf-8")
    result = _run("check", str(bad))
    assert result.returncode == 1
    assert "catalogue: 'name' is missing: add it" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_render_writes_the_previews(tmp_path: Path) -> None:
    result = _run("render", str(REPO / "items" / "senior-card.json"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for part in ("form", "receipt", "certificate"):
        png = tmp_path / f"senior-card-{part}.png"
        with Image.open(png) as img:
            assert img.width > 300 and img.height > 150
            # not blank: the preview has ink on it
            assert img.convert("L").getextrema()[0] < 100


def test_bump_raises_the_version_in_place(tmp_path: Path) -> None:
    pkg = tmp_path / "senior-card.json"
    shutil.copy(REPO / "items" / "senior-card.json", pkg)
    old = json.loads(pkg.read_text("utf-8"))["version"]
    result = _run("bump", str(pkg), "--part", "patch")
    assert result.returncode == 0, result.stderr
    new = json.loads(pkg.read_text("utf-8"))["version"]
    assert new != old and new.split(".")[:2] == old.split(".")[:2]
    assert _run("lint", str(pkg)).returncode == 0
