#!/usr/bin/env bash
# The offline bundle (`make bundle`): the built package plus the .deb files of its whole Debian
# dependency closure for bookworm amd64, as a local flat apt repository, in
# dist/hall-kiosk-offline-<version>-amd64.tar with install.sh and SHA256SUMS.
#
#   packaging/offline-bundle.sh [dist/hall-kiosk_*_amd64.deb]
#
# Needs apt-get and dpkg-scanpackages (dpkg-dev) and network access to $DEBIAN_MIRROR and
# $DEBIAN_SECURITY; no root.  apt runs with a private state, cache and source list under a
# throwaway directory and an EMPTY dpkg status, so it resolves the closure as if nothing were
# installed: the bundle carries every package the hall-kiosk package needs down to the Essential
# set (nothing is assumed from the target's minbase; apt there installs only what is missing).
#
# Trust: the repository is used as `[trusted=yes]` (no signed Release file).  A key shipped
# inside the same tarball would prove no more than the tarball itself; what proves the bundle
# is dist/SHA256SUMS, published with the release and compared by the installer (install.sh checks
# the SHA256SUMS inside the bundle before it touches apt, and apt checks each .deb against the
# SHA256 in the repository's Packages index).
set -euo pipefail
cd "$(dirname "$0")/.."
DEB=${1:-$(ls -t dist/hall-kiosk_*_amd64.deb 2>/dev/null | head -1)}
[ -n "$DEB" ] && [ -f "$DEB" ] || { echo "no package: run make package first" >&2; exit 2; }
DEB=$(realpath "$DEB")
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
SUITE=bookworm
ARCH=amd64
VERSION=$(dpkg-deb -f "$DEB" Version)
NAME=hall-kiosk-offline-$VERSION-$ARCH
mkdir -p dist
OUT=$(realpath dist)

WORK=$(mktemp -d /tmp/hall-kiosk-bundle.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
A=$WORK/apt
mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/etc/preferences.d" "$A/etc/apt.conf.d" "$WORK/$NAME/repo"
: >"$A/status"
cat >"$A/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb $DEBIAN_SECURITY $SUITE-security main
EOF
APT=(apt-get -q -o "APT::Architecture=$ARCH" -o "APT::Architectures=$ARCH"
    -o "Dir::Etc::sourcelist=$A/sources.list" -o "Dir::Etc::sourceparts=-"
    -o "Dir::Etc::preferencesparts=$A/etc/preferences.d" -o "Dir::Etc::parts=$A/etc/apt.conf.d"
    -o "Dir::State::lists=$A/lists" -o "Dir::State::status=$A/status"
    -o "Dir::Cache=$A" -o "Dir::Cache::archives=$A/archives"
    -o "Debug::NoLocking=1" -o "APT::Sandbox::User=$(id -un)")

echo "== package lists ($SUITE $ARCH)"
"${APT[@]}" update >/dev/null
echo "== dependency closure of $(basename "$DEB")"
# Essential packages are part of every Debian root; apt adds them to an empty status itself.
"${APT[@]}" -y --no-install-recommends --download-only install "$DEB" | grep -E '^(Need to get|[0-9]+ upgraded)' || true
mv "$A"/archives/*.deb "$WORK/$NAME/repo/"
cp "$DEB" "$WORK/$NAME/repo/"
(cd "$WORK/$NAME/repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null >Packages && gzip -9kn Packages)

cat >"$WORK/$NAME/install.sh" <<'EOF'
#!/bin/sh
# Installs hall-kiosk and every Debian package it needs from ./repo, with no network: apt sees
# only this directory as a package source.  Run as root on Debian 12 (bookworm) amd64.
set -eu
cd "$(dirname "$0")"
HERE=$(pwd)
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 2; }
sha256sum --quiet -c SHA256SUMS || { echo "bundle damaged: SHA256SUMS do not match" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "deb [trusted=yes] file:$HERE/repo ./" >"$TMP/sources.list"
mkdir -p "$TMP/lists/partial"
set -- -o "Dir::Etc::sourcelist=$TMP/sources.list" -o "Dir::Etc::sourceparts=-" \
    -o "Dir::State::lists=$TMP/lists" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root"
apt-get -q "$@" update
DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends "$@" install hall-kiosk
dpkg-query -W -f='installed ${Package} ${Version}\n' hall-kiosk
EOF
chmod +x "$WORK/$NAME/install.sh"
(cd "$WORK/$NAME" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum >SHA256SUMS)
TAR=$OUT/$NAME.tar
tar -C "$WORK" -cf "$TAR.part" --owner=0 --group=0 "$NAME"
mv "$TAR.part" "$TAR"
(cd "$OUT" && sha256sum "$NAME.tar" >"$NAME.tar.sha256")
count=$(ls "$WORK/$NAME/repo"/*.deb | wc -l)
size=$(stat -c %s "$TAR")
echo "made $TAR: $count packages, $((size / 1048576)) MiB (sha256 in $NAME.tar.sha256)"
echo "{\"bundle_bytes\": $size, \"bundle_packages\": $count}"
