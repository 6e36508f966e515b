#!/bin/sh
# Stop the pcscd started by start-test-pcscd.sh RUNDIR (by its recorded pid only).
set -eu
RUNDIR=${1:?usage: stop-test-pcscd.sh RUNDIR}
PIDFILE="$RUNDIR/pcscd.pid"
[ -f "$PIDFILE" ] || exit 0
PID=$(cat "$PIDFILE")
if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    i=0
    while kill -0 "$PID" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$PID" 2>/dev/null; then
        kill -KILL "$PID" 2>/dev/null || true
    fi
fi
rm -f "$PIDFILE" "$RUNDIR/run/pcscd.comm" "$RUNDIR/run/pcscd.pid"
