#!/usr/bin/env bash
# The arm64 package (`make package-arm64`): hall-kiosk_<version>_arm64.deb built in an arm64 Debian 13
# (trixie) root run through qemu-user, from a copy of this checkout, into dist/.
#
#   packaging/package-arm64.sh
#
# Why trixie: PySide6 6.11's aarch64 wheels are manylinux_2_39 (glibc >= 2.39; Debian 12 has 2.36).
# Trixie's python3 is 3.13, so debian/rules installs packaging/requirements-arm64.lock there (the
# amd64 lock with a numpy that has cp313 wheels: docs/installation.md "arm64 (aarch64) terminals").
# No cross build: dh-virtualenv installs the wheels of the machine it runs on, so the whole build
# runs emulated (slow: see docs/installation.md for the measured times; nice 19).
#
# Root only (binfmt_misc, debootstrap, chroot, bind mounts); needs qemu-user-static and
# binfmt-support.  The build root is made once and cached outside the repository in $HALL_KIOSK_CACHE
# (default /var/cache/hall-kiosk-install-test): a debootstrap tarball of trixie arm64 from
# $DEBIAN_MIRROR, then that root with the Build-Depends of debian/control installed (`apt-get
# build-dep`), kept as a plain tar named after debian/control's hash, so a later build only unpacks
# it.  Prints the seconds of each phase.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CHROOT_SUITE=trixie
CHROOT_ARCH=arm64
# shellcheck source=packaging/chroot-lib.sh
. packaging/chroot-lib.sh

chroot_binfmt

TARBALL=$CACHE/$SUITE-$ARCH-build.tgz
BUILD_ROOT_TAR=$CACHE/$SUITE-$ARCH-build-root-$(sha256sum debian/control | cut -c1-12).tar
ROOT=$(mktemp -d /tmp/hall-kiosk-build-arm64.XXXXXX)
trap 'chroot_remove "$ROOT"' EXIT

if [ -f "$BUILD_ROOT_TAR" ]; then
    phase "build root from $BUILD_ROOT_TAR"
    tar -C "$ROOT" -xf "$BUILD_ROOT_TAR"
    chroot_mount "$ROOT"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
else
    phase "debootstrap tarball ($SUITE $ARCH)"
    chroot_tarball "$TARBALL" --include=ca-certificates
    phase "clean Debian 13 arm64 root in $ROOT (emulated)"
    chroot_unpack "$TARBALL" "$ROOT"
    chroot_mount "$ROOT"
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
    phase "Build-Depends of debian/control (emulated)"
    mkdir -p "$ROOT/tmp/control/debian"
    cp debian/control "$ROOT/tmp/control/debian/control"
    chroot "$ROOT" apt-get -q update >/dev/null
    DEBIAN_FRONTEND=noninteractive chroot "$ROOT" nice -n 19 apt-get -q -y --no-install-recommends build-dep /tmp/control \
        | grep -E '^([0-9]+ upgraded|Need to get)' || true
    chroot "$ROOT" apt-get clean
    rm -rf "$ROOT/tmp/control"
    phase "cache the build root as $BUILD_ROOT_TAR"
    tar -C "$ROOT" --one-file-system -cf "$BUILD_ROOT_TAR.part" .
    mv "$BUILD_ROOT_TAR.part" "$BUILD_ROOT_TAR"
fi
chroot "$ROOT" sh -c 'echo "$(uname -m), $(python3 --version), glibc $(ldd --version | head -1 | grep -o "[0-9.]*$")"'

phase "copy of the source (tracked files as in the working tree)"
SRC=$ROOT/build/hall-kiosk
mkdir -p "$SRC"
git ls-files -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | tar --null -T - -cf - | tar -C "$SRC" -xf -

phase "dpkg-buildpackage (emulated)"
# pip in the root trusts the CA bundle pip uses here (a local CA in front of PyPI, say), not only
# Debian's: PIP_CERT alone was not enough in the root (TLS verification still failed), SSL_CERT_FILE is
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$ROOT/etc/ssl/certs/build-host-ca.crt"
chroot "$ROOT" env -u PIP_FIND_LINKS PIP_CERT=/etc/ssl/certs/build-host-ca.crt SSL_CERT_FILE=/etc/ssl/certs/build-host-ca.crt \
    sh -c 'cd /build/hall-kiosk && nice -n 19 dpkg-buildpackage -b -us -uc -j2'

phase "dist/"
mkdir -p dist
cp "$ROOT"/build/hall-kiosk_*_arm64.deb "$ROOT"/build/hall-kiosk_*_arm64.buildinfo "$ROOT"/build/hall-kiosk_*_arm64.changes dist/
ls -l dist/hall-kiosk_*_arm64.deb
phase "done"
