"""The power-cut shim loses exactly what a disk may lose: writes not yet synced."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from offline_cache.store import Store
from tests.crash import powercut

CHILD = """
import os, signal, sqlite3, sys
from tests.crash import powercut
assert powercut.loaded()
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("PRAGMA synchronous = " + sys.argv[2])
conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
conn.execute("PRAGMA synchronous = FULL")
conn.execute("INSERT INTO t VALUES ('synced')")
conn.execute("PRAGMA synchronous = " + sys.argv[2])
conn.execute("INSERT INTO t VALUES ('committed')")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_child(db: Path, synchronous: str) -> None:
    env = {**os.environ, **powercut.environment(), "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(db), synchronous], env=env, check=False)
    assert proc.returncode == -9


@pytest.mark.parametrize(("synchronous", "kept"), [("OFF", ["synced"]), ("FULL", ["synced", "committed"])])
def test_power_cut_keeps_only_synced_commits(tmp_path: Path, synchronous: str, kept: list[str]) -> None:
    db = tmp_path / "terminal.db"
    _killed_child(db, synchronous)
    # SIGKILL alone keeps everything (the page cache survives the process) ...
    snapshot = tmp_path / "copy"
    snapshot.mkdir()
    for suffix in ("", "-wal"):
        (snapshot / f"terminal.db{suffix}").write_bytes(db.with_name(db.name + suffix).read_bytes())
    conn = sqlite3.connect(snapshot / "terminal.db")
    assert [r[0] for r in conn.execute("SELECT x FROM t ORDER BY rowid")] == ["synced", "committed"]
    conn.close()
    # ... the power cut keeps what was synced: with synchronous=OFF the last commit is gone.
    reverted = powercut.cut(db)
    assert (reverted > 0) == (synchronous == "OFF")
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT x FROM t ORDER BY rowid")] == kept
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_the_store_survives_a_power_cut(tmp_path: Path) -> None:
    db = tmp_path / "terminal.db"
    code = (
        "import os, signal, sys\n"
        "from offline_cache.store import Store\n"
        "s = Store(sys.argv[1], key=bytes(32))\n"
        "for i in range(5):\n"
        "    s.cases.add(f'c{i}', 'x', b'p' * 5000, 1.0)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, **powercut.environment(), "PYTHONPATH": str(Path(__file__).parents[2])}
    assert subprocess.run([sys.executable, "-c", code, str(db)], env=env, check=False).returncode == -9
    powercut.cut(db)
    with Store(db, key=bytes(32)) as store:
        assert [store.cases.get(f"c{i}") is not None for i in range(5)] == [True] * 5
        assert store.audit_trail.verify()
