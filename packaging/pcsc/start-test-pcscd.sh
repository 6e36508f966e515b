#!/bin/sh
# Start a private pcscd with the vsmartcard virtual reader (vpcd) for tests and CI.
#
#   packaging/pcsc/start-test-pcscd.sh RUNDIR
#
# pcscd runs in its own network namespace (only loopback, brought up) and its own
# mount namespace, where RUNDIR/run is bind-mounted over /run/pcscd.  So:
#   * vpcd's listening socket (0.0.0.0:35963 in its default reader.conf) is reachable
#     only from inside that network namespace: never from the host's interfaces;
#   * pcscd's client socket appears outside as RUNDIR/run/pcscd.comm: pathname unix
#     sockets are not network-namespaced, so clients outside reach it by setting
#     PCSCLITE_CSOCK_NAME=RUNDIR/run/pcscd.comm;
#   * its pid file lives in RUNDIR/run too, so it never clashes with a system pcscd.
# The virtual card joins the namespace (/proc/PID/ns/net, PID in RUNDIR/pcscd.pid) with
# setns(2) or nsenter(1) and connects to 127.0.0.1:35963.
# Needs root (CAP_SYS_ADMIN) and Debian packages pcscd + vsmartcard-vpcd; no systemd.
# Prints "PCSCLITE_CSOCK_NAME=..." and "PCSCD_NETNS=..." on stdout.  Stop with
# stop-test-pcscd.sh RUNDIR.
set -eu

RUNDIR=${1:?usage: start-test-pcscd.sh RUNDIR}
PORT=${VPCD_PORT:-35963}
TIMEOUT=${PCSCD_START_TIMEOUT:-10}

command -v pcscd >/dev/null || { echo "pcscd not installed (apt-get install pcscd)" >&2; exit 2; }
DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
[ -e "$DRIVER" ] || { echo "vpcd driver missing (apt-get install vsmartcard-vpcd)" >&2; exit 2; }

mkdir -p "$RUNDIR/run" "$RUNDIR/reader.conf.d"
RUNDIR=$(cd "$RUNDIR" && pwd)
rm -f "$RUNDIR/run/pcscd.comm" "$RUNDIR/run/pcscd.pid"
cat > "$RUNDIR/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "Virtual PCD"
DEVICENAME   /dev/null:$PORT
LIBPATH      $DRIVER
CHANNELID    $PORT
CONF

# /run/pcscd must exist as a mount point (an empty directory; harmless on the host).
mkdir -p /run/pcscd

unshare --net --mount --propagation private sh -c '
    set -e
    ip link set lo up
    mount --bind "$1/run" /run/pcscd
    exec pcscd --foreground --info --config "$1/reader.conf.d"
' pcscd-ns "$RUNDIR" >"$RUNDIR/pcscd.log" 2>&1 &
PID=$!
echo "$PID" > "$RUNDIR/pcscd.pid"

i=0
while [ ! -S "$RUNDIR/run/pcscd.comm" ]; do
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "pcscd exited during start-up; log:" >&2
        cat "$RUNDIR/pcscd.log" >&2
        exit 1
    fi
    i=$((i + 1))
    if [ "$i" -gt $((TIMEOUT * 10)) ]; then
        echo "pcscd did not create its socket within ${TIMEOUT}s" >&2
        kill "$PID" 2>/dev/null || true
        exit 1
    fi
    sleep 0.1
done

echo "PCSCLITE_CSOCK_NAME=$RUNDIR/run/pcscd.comm"
echo "PCSCD_NETNS=/proc/$PID/ns/net"
echo "PCSCD_PID=$PID"
