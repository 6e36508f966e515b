# Shared by the install tests (packaging/install-test.sh, packaging/install-test-offline.sh): a clean
# Debian root from a debootstrap tarball cached outside the repository, its mounts, and its removal.
# Sourced, not run.  Root only.  CHROOT_SUITE and CHROOT_ARCH pick another Debian release or a
# foreign architecture (packaging/package-arm64.sh: trixie on arm64, run through qemu-user).

SUITE=${CHROOT_SUITE:-bookworm}
ARCH=${CHROOT_ARCH:-$(dpkg --print-architecture)}
CACHE=${HALL_KIOSK_CACHE:-/var/cache/hall-kiosk-install-test}
if [ -z "${DEBIAN_MIRROR:-}" ]; then
    # the mirror apt uses here (a deb.debian.org-style URI), else deb.debian.org itself
    DEBIAN_MIRROR=$(grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian\b' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
        | awk '{print $2}' | head -1 || true)
    DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
fi

t0=$(date +%s)
phase() { echo "== $1 ($(($(date +%s) - t0)) s so far)"; }

# chroot_binfmt: a foreign $ARCH runs through qemu-user (qemu-user-static, binfmt-support),
# registered with the F flag (the interpreter is opened at registration, so it works in a chroot).
chroot_binfmt() {
    [ "$ARCH" != "$(dpkg --print-architecture)" ] || return 0
    local q
    q=qemu-$(case $ARCH in arm64) echo aarch64 ;; *) echo "$ARCH" ;; esac)
    phase "$ARCH binaries through $q (binfmt_misc)"
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    [ -e "/proc/sys/fs/binfmt_misc/$q" ] || update-binfmts --enable "$q" || true
    grep -q '^flags: .*F' "/proc/sys/fs/binfmt_misc/$q" 2>/dev/null \
        || { echo "$q is not registered with the F flag: apt-get install qemu-user-static binfmt-support" >&2; return 2; }
}

# chroot_tarball TARBALL [debootstrap options...]: make the cached tarball once.
chroot_tarball() {
    local tarball=$1
    shift
    if [ -f "$tarball" ]; then echo "cached $tarball"; return; fi
    mkdir -p "$CACHE"
    debootstrap --variant=minbase --arch="$ARCH" "$@" --make-tarball="$tarball.part" "$SUITE" "$tarball.mk" "$DEBIAN_MIRROR"
    mv "$tarball.part" "$tarball"
    echo "made $tarball from $DEBIAN_MIRROR"
}

# chroot_unpack TARBALL ROOT: a clean root from the tarball (prints debootstrap's log on failure).
chroot_unpack() {
    debootstrap --variant=minbase --arch="$ARCH" --unpack-tarball="$1" "$SUITE" "$2" "$DEBIAN_MIRROR" >"$2.log" 2>&1 \
        || { tail -20 "$2.log"; return 1; }
    rm -f "$2.log"
}

# chroot_unpack_cached TARBALL ROOT: chroot_unpack; for a foreign $ARCH (every maintainer script
# emulated: 525 s for a minbase root already) the unpacked root is kept once next to the tarball as
# TARBALL.root.tar, then only untarred while it is newer than the tarball.
chroot_unpack_cached() {
    if [ "$ARCH" = "$(dpkg --print-architecture)" ]; then chroot_unpack "$1" "$2"; return; fi
    if [ "$1.root.tar" -nt "$1" ]; then tar -C "$2" -xf "$1.root.tar"; echo "unpacked $1.root.tar"; return; fi
    chroot_unpack "$1" "$2"
    tar -C "$2" --one-file-system -cf "$1.root.tar.part" . && mv "$1.root.tar.part" "$1.root.tar"
    echo "kept the unpacked root as $1.root.tar"
}

# chroot_mount ROOT: /proc, /dev and /dev/pts; no daemon starts during an install (no init).
chroot_mount() {
    mount -t proc proc "$1/proc"
    mount --bind /dev "$1/dev"
    mount --bind /dev/pts "$1/dev/pts"
    printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
    chmod +x "$1/usr/sbin/policy-rc.d"
}

# chroot_remove ROOT: unmount everything under it and delete it (kept with KEEP_ROOT=1).
chroot_remove() {
    if [ -n "${KEEP_ROOT:-}" ]; then echo "kept $1 (KEEP_ROOT)"; return; fi
    local m
    for m in $(grep -o " $1[^ ]*" /proc/mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$1"
}
