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
CACHE=${HALL_KIOSK_CACHE:-/var/cache/hall-kiosk-install-test}
SUITE=bookworm
TARBALL=$CACHE/$SUITE-amd64-minbase.tgz
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

t0=$(date +%s)
phase() { echo "== $1 ($(($(date +%s) - t0)) s so far)"; }

ROOT=$(mktemp -d /tmp/hall-kiosk-offline-root.XXXXXX)
cleanup() {
    if [ -n "${KEEP_ROOT:-}" ]; then echo "kept $ROOT (KEEP_ROOT)"; return; fi
    for m in $(grep -o " $ROOT[^ ]*" /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT

phase "minbase debootstrap tarball"
if [ ! -f "$TARBALL" ]; then
    mkdir -p "$CACHE"
    debootstrap --variant=minbase --make-tarball="$TARBALL.part" "$SUITE" "$CACHE/mk-minbase" "$DEBIAN_MIRROR"
    mv "$TARBALL.part" "$TARBALL"
    echo "made $TARBALL from $DEBIAN_MIRROR"
else
    echo "cached $TARBALL"
fi

phase "clean minbase Debian 12 root in $ROOT"
debootstrap --variant=minbase --unpack-tarball="$TARBALL" "$SUITE" "$ROOT" "$DEBIAN_MIRROR" >"$ROOT.log" 2>&1 \
    || { tail -20 "$ROOT.log"; exit 1; }
rm -f "$ROOT.log"
# no network path: no package source but the bundle, no resolver, and (below) no interface
rm -f "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/* "$ROOT/etc/resolv.conf"
rm -rf "$ROOT"/var/lib/apt/lists/*
missing=$(chroot "$ROOT" dpkg-query -W -f='${Package}\n' cage pcscd cups-daemon espeak-ng python3 2>&1 | grep -c 'no packages found' || true)
echo "runtime packages absent before the install: $missing of 5"
[ "$missing" = 5 ] || { echo "the root is not minbase" >&2; exit 1; }
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod +x "$ROOT/usr/sbin/policy-rc.d"

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
