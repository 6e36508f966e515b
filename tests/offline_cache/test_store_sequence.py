"""Store.next_sequence: the counter behind queue ticket numbers survives a crash without reuse."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kiosk.cases.crypto import derive_key
from offline_cache.store import Store

KEY = derive_key(b"\x01" * 32, "store", terminal_id="T-SEQ")

# A terminal process that hands out a number and dies (SIGKILL) before it can close the store.
_CRASHING_ISSUER = """
import os, signal, sys
from offline_cache.store import Store
store = Store(sys.argv[1], key=bytes.fromhex(sys.argv[2]))
print(store.meta.next_sequence(sys.argv[3]), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _issue_and_crash(path: Path, counter: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING_ISSUER, str(path), KEY.hex(), counter],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    return int(done.stdout.strip())


def test_numbers_handed_out_before_a_crash_are_never_reused(tmp_path: Path) -> None:
    db = tmp_path / "terminal.db"
    Store(db, key=KEY).close()
    counter = "queue-seq:20261123"
    issued = [_issue_and_crash(db, counter) for _ in range(3)]
    assert issued == [1, 2, 3]
    with Store(db, key=KEY) as store:  # the terminal restarts
        assert store.meta.next_sequence(counter) == 4
        assert store.meta.next_sequence("queue-seq:20261124") == 1  # a new day starts again at 1


def test_concurrent_callers_never_get_the_same_number(tmp_path: Path) -> None:
    store = Store(tmp_path / "terminal.db", key=KEY)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(25):
            n = store.meta.next_sequence("queue-seq:x")
            with lock:
                got.append(n)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert sorted(got) == list(range(1, 101))


def test_the_audit_head_is_not_a_counter(tmp_path: Path) -> None:
    with Store(tmp_path / "terminal.db") as store, pytest.raises(ValueError):
        store.meta.next_sequence("audit.head")
