"""The arm64 package's build (packaging/package-arm64.sh, ``make package-arm64``) and install test
(``make install-test-arm64``) are sound shell, pin an arm64 Debian 13 root, and the arm64 lock is the
amd64 lock but for numpy. Running them (an emulated Debian root: tens of minutes) is not a unit test;
docs/installation.md has the measured run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "packaging" / "package-arm64.sh"


def _pins(lock: Path) -> dict[str, str]:
    lines = [raw.split("#", 1)[0].strip() for raw in lock.read_text().splitlines()]
    return dict(line.split("==", 1) for line in lines if line)


def test_the_scripts_parse_and_make_runs_them() -> None:
    for script in (SCRIPT, REPO / "packaging" / "chroot-lib.sh", REPO / "packaging" / "install-test.sh"):
        subprocess.run(["bash", "-n", str(script)], check=True)
    makefile = (REPO / "Makefile").read_text()
    assert "package-arm64:\n\tpackaging/package-arm64.sh" in makefile
    assert (
        "install-test-arm64:\n\tCHROOT_SUITE=trixie CHROOT_ARCH=arm64 packaging/install-test.sh" in makefile
    )
    # the amd64 targets are unchanged: Debian 12 on the build machine's architecture
    assert "package:\n\tdpkg-buildpackage -b -us -uc -j2" in makefile
    assert "install-test:\n\tpackaging/install-test.sh\n" in makefile


def test_the_build_root_is_arm64_trixie_cached_outside_the_repository() -> None:
    text = SCRIPT.read_text()
    assert "CHROOT_SUITE=trixie" in text and "CHROOT_ARCH=arm64" in text
    assert ". packaging/chroot-lib.sh" in text and "chroot_binfmt" in text
    assert "build-dep" in text and "dpkg-buildpackage" in text
    assert "$CACHE/" in text
    lib = (REPO / "packaging" / "chroot-lib.sh").read_text()
    assert "SUITE=${CHROOT_SUITE:-bookworm}" in lib  # the default stays Debian 12
    assert '--arch="$ARCH"' in lib


def test_a_shell_that_sources_the_library_with_the_overrides_gets_trixie_arm64(tmp_path: Path) -> None:
    out = subprocess.run(
        ["bash", "-c", '. packaging/chroot-lib.sh && echo "$SUITE $ARCH"'],
        cwd=REPO,
        env={
            "PATH": "/usr/bin:/bin",
            "CHROOT_SUITE": "trixie",
            "CHROOT_ARCH": "arm64",
            "HALL_KIOSK_CACHE": str(tmp_path),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["trixie", "arm64"]
    default = subprocess.run(
        ["bash", "-c", '. packaging/chroot-lib.sh && echo "$SUITE"'],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HALL_KIOSK_CACHE": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert default.stdout.strip() == "bookworm"


def test_the_arm64_lock_differs_from_the_amd64_lock_only_in_a_numpy_with_cp313_wheels() -> None:
    amd64 = _pins(REPO / "packaging" / "requirements.lock")
    arm64 = _pins(REPO / "packaging" / "requirements-arm64.lock")
    assert amd64.keys() == arm64.keys()
    assert {name for name in amd64 if amd64[name] != arm64[name]} == {"numpy"}, "run `make lock`"
    # numpy 2.1 is the first with CPython 3.13 wheels (Debian 13's python3)
    assert Version("2.1") <= Version(arm64["numpy"]) < Version("3")


def test_debian_rules_takes_the_arm64_lock_on_aarch64_only() -> None:
    rules = (REPO / "debian" / "rules").read_text()
    assert (
        "$(filter aarch64,$(shell uname -m)),packaging/requirements-arm64.lock,packaging/requirements.lock"
        in rules
    )
    assert "--requirements $(LOCK)" in rules
