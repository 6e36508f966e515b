"""The sandbox platform as most tests start it: on 127.0.0.1 (a free port), serving minimal item
packages (``{"id": ..., "version": "1"}``) or none."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from sandbox_platform.server import SandboxServer


@contextlib.contextmanager
def sandbox_platform(tmp_path: Path, *item_ids: str, access_log: bool = False) -> Iterator[SandboxServer]:
    """A running sandbox with its data under ``tmp_path / "platform"`` and one minimal package per
    id in ``item_ids``; closed on leaving."""
    items = tmp_path / "items"
    items.mkdir()
    for item_id in item_ids:
        (items / f"{item_id}.json").write_text(json.dumps({"id": item_id, "version": "1"}))
    server = SandboxServer(tmp_path / "platform", items, access_log=access_log).start()
    try:
        yield server
    finally:
        server.close()
