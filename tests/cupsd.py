"""A private cupsd with the cups-pdf backend on 127.0.0.1 (packaging/cups), for the tests that print."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "packaging" / "cups" / "start-test-cupsd.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def private_cupsd(queue: str, prefix: str) -> Iterator[tuple[str, Path]]:
    """Start cupsd with ``queue`` (a cups-pdf printer); yields ("127.0.0.1:port", the PDF output dir)."""
    # Not tmp_path: cupsd's filters run as user lp and pytest's temp root is 0700.
    work = Path(tempfile.mkdtemp(prefix=prefix))
    port = free_port()
    out = subprocess.run(
        [str(SCRIPT), "start", str(work), str(port), queue], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    try:
        yield f"127.0.0.1:{port}", work / "pdf"
    finally:
        subprocess.run([str(SCRIPT), "stop", str(work)], timeout=30, check=False)
        shutil.rmtree(work, ignore_errors=True)
