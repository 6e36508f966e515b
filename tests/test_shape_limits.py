"""The product's shape stays readable: no module over 600 lines, no class over 25 public methods
(properties count: they are part of what a reader must learn), in the packages named below."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Every package of the product (the sandbox platform and the benchmarks are not the product).
PACKAGES = ("kiosk", "devices", "ui", "offline_cache", "terminal")
MAX_LINES = 600
MAX_PUBLIC_METHODS = 25


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def public_methods(cls: ast.ClassDef) -> list[str]:
    return [
        node.name
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_")
    ]


def test_the_modules_are_found() -> None:
    modules = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert {"kiosk/session/coordinator.py", "ui/facade.py", "terminal/runtime.py"} <= modules


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_module_size_and_class_width(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = source.count("\n") + (0 if source.endswith("\n") or not source else 1)
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (limit {MAX_LINES})"
    wide = {
        node.name: len(public_methods(node))
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef) and len(public_methods(node)) > MAX_PUBLIC_METHODS
    }
    assert not wide, f"{path.relative_to(ROOT)}: classes over {MAX_PUBLIC_METHODS} public methods: {wide}"


def test_the_checks_catch_what_they_are_for() -> None:
    wide = ast.parse("class Wide:\n" + "".join(f"    def m{i}(self): ...\n" for i in range(26)))
    cls = wide.body[0]
    assert isinstance(cls, ast.ClassDef) and len(public_methods(cls)) == 26
    narrow = ast.parse("class Narrow:\n    def _hidden(self): ...\n    def shown(self): ...\n")
    cls = narrow.body[0]
    assert isinstance(cls, ast.ClassDef) and public_methods(cls) == ["shown"]
