#!/usr/bin/env bash
# The install test (`make install-test`): the built package into a clean Debian 12 root, then
# `hall-kiosk provision` there against the sandbox platform on the simulators; passes when the
# terminal reports readiness_ok.  With CHROOT_SUITE=trixie CHROOT_ARCH=arm64 (`make
# install-test-arm64`) the arm64 package into a Debian 13 arm64 root run through qemu-user.
#
#   packaging/install-test.sh [dist/hall-kiosk_*.deb [provision options...]]
#
# Root only (debootstrap, chroot, bind mounts).  The Debian root comes from a debootstrap tarball
# cached outside the repository ($HALL_KIOSK_CACHE, default /var/cache/hall-kiosk-install-test),
# made once with the runtime packages of packaging/system-packages.txt from $DEBIAN_MIRROR (default:
# the first deb.debian.org-style URI apt uses here).  The hall (TLS sandbox platform, ID card reader
# on a pty, ESC/POS printer on TCP, camera images, a private cupsd) runs on the host from this
# checkout (bench/provision.py --serve); the chroot shares the host's network and /dev/pts and
# sees the hall's directory at the same path.  Prints the seconds of each phase.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
# shellcheck source=packaging/chroot-lib.sh
. packaging/chroot-lib.sh
DEB=${1:-$(ls -t dist/hall-kiosk_*_"$ARCH".deb 2>/dev/null | head -1)}
[ -n "$DEB" ] && [ -f "$DEB" ] || { echo "no package: run make package first" >&2; exit 2; }
[ $# -eq 0 ] || shift  # what follows the package goes to `hall-kiosk provision`
PYTHON=${PYTHON:-$REPO/.venv/bin/python}

ROOT=$(mktemp -d /tmp/hall-kiosk-root.XXXXXX)
HALL_PID=
cleanup() {
    [ -n "$HALL_PID" ] && kill "$HALL_PID" 2>/dev/null && wait "$HALL_PID" 2>/dev/null || true
    chroot_remove "$ROOT"
}
trap cleanup EXIT

chroot_binfmt
phase "debootstrap tarball"
pkgs=$(grep -hv '^\s*#' packaging/system-packages.txt | grep -v '^\s*$' | paste -sd,)
pkgs="$pkgs,python3,python3-venv,cage,systemd,adduser,ca-certificates"
# debootstrap resolves no virtual package (apt on a terminal does): Debian 13 renamed libzbar0 (64-bit
# time_t), which Provides the old name; its pcscd needs polkitd, which needs a D-Bus system bus and a
# logind (default-dbus-system-bus, default-logind): name the packages that provide them
[ "$SUITE" = bookworm ] || pkgs="${pkgs/libzbar0,/libzbar0t64,},dbus,libpam-systemd"
# the cached tarball is named after what it includes: a changed list makes a new one
TARBALL=$CACHE/$SUITE-$ARCH-$(printf %s "$pkgs" | sha256sum | cut -c1-12).tgz
chroot_tarball "$TARBALL" --include="$pkgs"

phase "clean Debian root ($SUITE $ARCH) in $ROOT"
chroot_unpack_cached "$TARBALL" "$ROOT"
chroot_mount "$ROOT"
mount -t sysfs sysfs "$ROOT/sys"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

phase "install $(basename "$DEB")"
cp "$DEB" "$ROOT/tmp/hall-kiosk.deb"
chroot "$ROOT" apt-get -q update >/dev/null
DEBIAN_FRONTEND=noninteractive chroot "$ROOT" apt-get -q -y --no-install-recommends install /tmp/hall-kiosk.deb \
    | grep -E '^(Setting up hall-kiosk|[0-9]+ upgraded|Need to get)' || true
chroot "$ROOT" dpkg-query -W -f='installed ${Package} ${Version}\n' hall-kiosk

phase "hall: sandbox platform (TLS) and simulators on the host"
FLAGS=$(mktemp /tmp/hall-flags.XXXXXX)
QT_QPA_PLATFORM=offscreen PYTHONPATH=$REPO "$PYTHON" -m bench.provision --serve "$FLAGS" --data-dir /var/lib/hall-kiosk &
HALL_PID=$!
for _ in $(seq 1 120); do [ -s "$FLAGS" ] && break; sleep 0.5; done
[ -s "$FLAGS" ] || { echo "the hall did not come up" >&2; exit 1; }
# shellcheck disable=SC1090
. "$FLAGS"
mkdir -p "$ROOT$HALL_DIR"
mount --bind "$HALL_DIR" "$ROOT$HALL_DIR"

phase "hall-kiosk provision (in the chroot)"
tp=$(date +%s)
status=0
chroot "$ROOT" env LANG=C.UTF-8 /opt/venvs/hall-kiosk/bin/hall-kiosk provision "$@" || status=$?
echo "provision took $(($(date +%s) - tp)) s, exit status $status"
ok=$(chroot "$ROOT" python3 -c 'import json; print(json.load(open("/var/lib/hall-kiosk/readiness.json"))["readiness_ok"])')
# the kiosk service (User=hall-kiosk) reads what provisioning wrote as root
owner=$(chroot "$ROOT" stat -c '%U' /var/lib/hall-kiosk/secrets/signing.pem)
echo "secrets owned by $owner"
[ "$owner" = hall-kiosk ] || ok=False
phase "done"
echo "{\"install_test_s\": $(($(date +%s) - t0)), \"readiness_ok\": $(echo "$ok" | tr 'TF' 'tf'), \"provision_exit\": $status}"
[ "$ok" = "True" ] && [ "$status" = 0 ]
