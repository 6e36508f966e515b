"""The Debian package deletes QtWebEngine from the venv's PySide6 (packaging/prune/): nothing the
terminal imports or loads as a Qt plugin may need a deleted file, and the on-screen keyboard (Qt
Virtual Keyboard, shipped in PySide6-Addons beside QtWebEngine) still types in a pruned copy."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import PySide6
import pytest

REPO = Path(__file__).resolve().parents[2]
PRUNE = REPO / "packaging" / "prune" / "prune-venv.sh"
LIST = REPO / "packaging" / "prune" / "qtwebengine.txt"
PYSIDE = Path(PySide6.__file__).resolve().parent
#: Plugins Qt loads by itself on the terminal: platforms (offscreen, wayland, xcb), the keyboard's
#: input context, image formats, the Wayland shell integration, Qt Quick's QML modules the
#: keyboard's panel uses.
PLUGIN_DIRS = (
    "Qt/plugins/platforms",
    "Qt/plugins/platforminputcontexts",
    "Qt/plugins/imageformats",
    "Qt/plugins/wayland-shell-integration",
    "Qt/qml/QtQuick/VirtualKeyboard",
    "Qt/qml/QtQuick/Controls",
    "Qt/qml/QtQuick/Layouts",
)


def _pruned(root: Path) -> set[Path]:
    out: set[Path] = set()
    for line in LIST.read_text().splitlines():
        glob = line.strip()
        if not glob or glob.startswith("#"):
            continue
        for hit in root.glob(glob):
            out.add(hit)
            if hit.is_dir():
                out.update(hit.rglob("*"))
    return {p.resolve() for p in out}


def _imported_qt_modules() -> set[str]:
    """Every ``PySide6.QtX`` the terminal's code imports (ui/, terminal/, kiosk/, devices/, main.py)."""
    mods: set[str] = set()
    files = [
        REPO / "main.py",
        *(p for d in ("ui", "terminal", "kiosk", "devices") for p in (REPO / d).rglob("*.py")),
    ]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("PySide6"):
                parts = node.module.split(".")
                if len(parts) > 1:
                    mods.add(parts[1])
                else:
                    mods.update(a.name for a in node.names)
            elif isinstance(node, ast.Import):
                mods.update(a.name.split(".")[1] for a in node.names if a.name.startswith("PySide6."))
    return mods


def _loaded_libraries(binaries: list[Path]) -> set[Path]:
    """The shared libraries the dynamic loader resolves for ``binaries`` (ldd: transitive)."""
    found: set[Path] = set()
    for binary in binaries:
        out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if "=>" in line and "/" in line.split("=>", 1)[1]:
                found.add(Path(line.split("=>", 1)[1].split("(")[0].strip()).resolve())
    return found


def test_the_package_build_prunes_and_installs_mediapipe_on_x86_64_only() -> None:
    rules = (REPO / "debian" / "rules").read_text()
    assert "packaging/prune/prune-venv.sh" in rules
    mediapipe = next(line for line in rules.splitlines() if '"mediapipe==' in line)
    assert "uname -m" in mediapipe and "x86_64" in mediapipe


def test_nothing_the_terminal_imports_or_loads_is_deleted() -> None:
    pruned = _pruned(PYSIDE)
    assert PYSIDE / "Qt" / "lib" / "libQt6WebEngineCore.so.6" in pruned  # the list does match the wheel
    modules = _imported_qt_modules()
    assert {"QtCore", "QtWidgets", "QtQuickWidgets"} <= modules
    assert not any("WebEngine" in m for m in modules)
    binaries = [PYSIDE / f"{m}.abi3.so" for m in sorted(modules)]
    binaries += [p for d in PLUGIN_DIRS for p in (PYSIDE / d).rglob("*.so")]
    assert all(b.exists() for b in binaries)
    assert not pruned & {b.resolve() for b in binaries}
    loaded = _loaded_libraries(binaries)
    assert PYSIDE / "Qt" / "lib" / "libQt6VirtualKeyboard.so.6" in loaded
    assert not pruned & loaded, sorted(str(p) for p in pruned & loaded)


@pytest.mark.slow
def test_the_on_screen_keyboard_still_types_in_a_pruned_copy(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    # hard links (same file system as the venv when it allows, else a copy): cheap, and deleting
    # a link leaves the shared venv untouched
    try:
        subprocess.run(["cp", "-al", str(PYSIDE), str(site)], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        shutil.copytree(PYSIDE, site / "PySide6", symlinks=True)
    pruned = subprocess.run([str(PRUNE), str(site)], capture_output=True, text=True, check=True)
    assert "QtWebEngine removed" in pruned.stdout
    assert not list((site / "PySide6").rglob("*WebEngine*"))
    assert (PYSIDE / "Qt" / "lib" / "libQt6WebEngineCore.so.6").exists()  # the venv itself untouched
    run = REPO / "tests" / "ui" / "keyboard_typing_run.py"
    boot = (
        "import runpy, sys; sys.path.insert(0, sys.argv[1]); import PySide6;"
        "assert PySide6.__file__.startswith(sys.argv[1]), PySide6.__file__;"
        "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "QT_QPA_PLATFORM": "offscreen",
        "QT_IM_MODULE": "qtvirtualkeyboard",
    }
    done = subprocess.run(
        [sys.executable, "-c", boot, str(site), str(run)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    typed = json.loads(done.stdout.strip().splitlines()[-1])
    assert typed["shown"] and typed["text"] == "北京"
