"""The lock files pin everything pyproject.toml asks for, at versions it accepts.

A dependency added to pyproject.toml without `make lock` fails here, before a terminal
installs an unpinned version.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]


def _pins(lock: Path) -> dict[str, str]:
    pins = {}
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        assert "==" in line and not line.startswith("-"), f"{lock.name}: not a pin: {raw!r}"
        name, version = line.split("==", 1)
        pins[canonicalize_name(name.split("[")[0])] = version.split(";")[0].strip()
    return pins


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize(
    ("lock", "extras"),
    [("requirements.lock", ()), ("requirements-test.lock", ("test",))],
)
def test_every_dependency_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    project = _project()
    pins = _pins(REPO / "packaging" / lock)
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    for req in wanted:
        if req.marker is not None and not req.marker.evaluate():
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in packaging/{lock}: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{req.name}=={pins[name]} in packaging/{lock} is outside {req.specifier}: run `make lock`"
        )


def test_the_runtime_lock_has_no_test_tools() -> None:
    pins = _pins(REPO / "packaging" / "requirements.lock")
    for tool in ("pytest", "ruff", "mypy", "schemathesis"):
        assert tool not in pins
