"""A release is byte-compiled when it is put in place: the kiosk user cannot write the release
tree, and without bytecode every start compiled each module from source (bench/startup)."""

from __future__ import annotations

import importlib.util
import marshal
from pathlib import Path

from kiosk.update.releases import ReleaseStore


def test_a_committed_release_carries_bytecode_named_after_its_final_place(tmp_path: Path) -> None:
    store = ReleaseStore(tmp_path / "root", tmp_path / "health.json")
    staging = store.staging_dir("1.2.0")
    (staging / "pkg").mkdir(parents=True)
    (staging / "pkg" / "__init__.py").write_text("")
    (staging / "pkg" / "mod.py").write_text("def f():\n    return 42\n")
    (staging / "pkg" / "broken.py").write_text("def (:\n")  # left to fail at import, as before
    target = store.commit_release(staging, "1.2.0")
    assert not staging.exists()
    source = target / "pkg" / "mod.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    assert cached.is_file()
    code = marshal.loads(cached.read_bytes()[16:])  # after the pyc header
    assert code.co_filename == str(source)  # tracebacks name the release, not the staging dir
    assert not Path(importlib.util.cache_from_source(str(target / "pkg" / "broken.py"))).exists()
