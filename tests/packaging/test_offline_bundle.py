"""The offline bundle's scripts (packaging/offline-bundle.sh, ``make bundle``;
packaging/install-test-offline.sh, ``make install-test-offline``) are sound shell, wired into make,
and the bundle's installer reads no apt source but its own repository.  Building the bundle (the
mirror, the 500 MB package) and the offline install (a minbase root) are root/network runs, not
unit tests: docs/installation.md "A hall without internet" has their measured output."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "packaging" / "offline-bundle.sh"
OFFLINE_TEST = REPO / "packaging" / "install-test-offline.sh"
CHROOT_LIB = REPO / "packaging" / "chroot-lib.sh"  # sourced by both install tests


def test_the_scripts_parse_and_make_runs_them() -> None:
    for script in (BUNDLE, OFFLINE_TEST):
        subprocess.run(["bash", "-n", str(script)], check=True)
    makefile = (REPO / "Makefile").read_text()
    assert "bundle:\n\tpackaging/offline-bundle.sh" in makefile
    assert "install-test-offline:\n\tpackaging/install-test-offline.sh" in makefile


def test_the_installer_uses_only_the_bundled_repository_and_checks_its_sums() -> None:
    text = BUNDLE.read_text()
    start = text.index("<<'EOF'")
    installer = text[start : text.index("\nEOF\n", start)]
    assert "sha256sum --quiet -c SHA256SUMS" in installer
    assert 'Dir::Etc::sourcelist=$TMP/sources.list" -o "Dir::Etc::sourceparts=-' in installer
    assert "[trusted=yes] file:$HERE/repo ./" in installer
    assert "Dir::State::status=$A/status" in text  # the closure as if nothing were installed


def test_the_offline_root_is_minbase_without_sources_or_network() -> None:
    text = OFFLINE_TEST.read_text()
    assert 'chroot_tarball "$TARBALL"\n' in text  # no --include: nothing but minbase
    assert "--variant=minbase" in CHROOT_LIB.read_text()
    assert "bookworm-amd64-minbase.tgz" in text
    assert 'rm -f "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/*' in text
    assert "unshare --net chroot" in text
