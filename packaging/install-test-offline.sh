#!/usr/bin/env bash
# The offline install test (`make install-test-offline`): the offline bundle into a Debian 12
# MINBASE root (none of the runtime packages), installed there by the bundle's install.sh with
# the root's apt sources emptied and in a network namespace of its own (no interface but lo), so
# every dependency has to come from the bundle.  Passes when hall-kiosk is installed, `apt-get
# check` and `dpkg --audit` find nothing broken, and the installed entry point runs.
#
#   packaging/install-test-offline.sh [dist/hall-kiosk-offline-*-amd64.tar]
#
# Root only (chroot, unshare, mounts).  The minbase root comes from a debootstrap tarball cached
# outside the repository ($HALL_KIOSK_CACHE/bookworm-amd64-minbase.tgz), made once from
# $DEBIAN_MIRROR (about a minute); the install test's own tarball will not do, it already holds
# the runtime packages.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:-$(ls -t dist/hall-kiosk-offline-*-amd64.tar 2>/dev/null | head -1)}
[ -n "$BUNDLE" ] && [ -f "$BUNDLE" ] || { echo "no bundle: run make bundle first" >&2; exit 2; }
# shellcheck source=packaging/chroot-lib.sh
. packaging/chroot-lib.sh
TARBALL=$CACHE/$SUITE-amd64-minbase.tgz

ROOT=$(mktemp -d /tmp/hall-kiosk-offline-root.XXXXXX)
cleanup() {
    chroot_remove "$ROOT"
}
trap cleanup EXIT

phase "minbase debootstrap tarball"
chroot_tarball "$TARBALL"

phase "clean minbase Debian 12 root in $ROOT"
chroot_unpack "$TARBALL" "$ROOT"
# no network path: no package source but the bundle, no resolver, and (below) no interface
rm -f "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/* "$ROOT/etc/resolv.conf"
rm -rf "$ROOT"/var/lib/apt/lists/*
missing=$(chroot "$ROOT" dpkg-query -W -f='${Package}\n' cage pcscd cups-daemon espeak-ng python3 2>&1 | grep -c 'no packages found' || true)
echo "runtime packages absent before the install: $missing of 5"
[ "$missing" = 5 ] || { echo "the root is not minbase" >&2; exit 1; }
chroot_mount "$ROOT"

phase "unpack $(basename "$BUNDLE")"
tar -C "$ROOT/root" -xf "$BUNDLE"
DIR=$(basename "$BUNDLE" .tar)

phase "install.sh (no network)"
status=0
unshare --net chroot "$ROOT" "/root/$DIR/install.sh" 2>&1 \
    | grep -E '^(installed|E:|W:|[0-9]+ upgraded|bundle)' || true
chroot "$ROOT" dpkg-query -W -f='${Status}\n' hall-kiosk | grep -q 'install ok installed' || status=1
chroot "$ROOT" apt-get -q check >/dev/null || status=1
[ -z "$(chroot "$ROOT" dpkg --audit)" ] || { chroot "$ROOT" dpkg --audit; status=1; }
for p in cage pcscd cups-daemon espeak-ng python3; do
    chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}\n' "$p" || status=1
done
unshare --net chroot "$ROOT" /opt/venvs/hall-kiosk/bin/hall-kiosk --help >/dev/null || status=1
n=$(chroot "$ROOT" dpkg-query -W -f='${Status}\n' | grep -c 'install ok installed')
phase "done"
echo "{\"install_test_offline_s\": $(($(date +%s) - t0)), \"installed_packages\": $n, \"offline_install_ok\": $([ $status = 0 ] && echo true || echo false)}"
exit $status
