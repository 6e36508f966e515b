"""The install test's script (packaging/install-test.sh, ``make install-test``) is sound shell and
installs what the package depends on; running it (debootstrap, the 470 MB package) is CI's
``.ci/run`` step after the suite, not a unit test."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "install-test.sh"


def test_the_script_parses_and_make_runs_it() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    makefile = (REPO / "Makefile").read_text()
    assert "install-test:\n\tpackaging/install-test.sh" in makefile
    assert "make install-test" in (REPO / ".ci" / "run").read_text()


def test_the_debian_root_carries_the_runtime_packages_and_the_check_reads_readiness() -> None:
    text = SCRIPT.read_text()
    assert "packaging/system-packages.txt" in text  # the cached root: the package's Depends
    assert '"readiness_ok"' in text and "hall-kiosk provision" in text
    assert "/var/cache/" in text  # the tarball is cached outside the repository
