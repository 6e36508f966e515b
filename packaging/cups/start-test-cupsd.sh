#!/bin/sh
# A private cupsd on 127.0.0.1 with one cups-pdf queue, for tests and the demo.
#
#   start-test-cupsd.sh start <workdir> <port> [queue]   # prints CUPS_SERVER=127.0.0.1:<port>
#   start-test-cupsd.sh stop  <workdir>
#
# Everything (config, spool, logs, PID file) lives under <workdir>; PDFs land in
# <workdir>/pdf.  <workdir> and its parents must be traversable by user lp.  No systemd, no display, no browsing; works as root in CI.
# cups-pdf reads its settings from /etc/cups/cups-pdf-<queue>.conf (the path is
# compiled in): that one file is written outside <workdir> and removed on stop.
# Debian packages: cups cups-client printer-driver-cups-pdf (via cups-pdf).
set -eu

cmd=${1:?usage: start|stop <workdir> [port] [queue]}
work=${2:?workdir required}

case "$cmd" in
start)
    port=${3:?port required}
    queue=${4:-kiosk-a4}
    mkdir -p "$work/etc/ppd" "$work/spool/tmp" "$work/cache" "$work/state/certs" "$work/log" "$work/pdf"
    # Filters run as user lp: every directory down to <workdir> must be traversable by it
    # (pytest's tmp_path is 0700 root: use a directory under /tmp instead).
    chmod 0755 "$work" "$work/etc" "$work/etc/ppd"
    chmod 0777 "$work/pdf" "$work/spool/tmp"
    chmod 0711 "$work/spool"
    cat > "$work/etc/cupsd.conf" <<CONF
Listen 127.0.0.1:$port
Browsing No
BrowseLocalProtocols none
DefaultAuthType None
LogLevel warn
MaxLogSize 0
WebInterface No
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Location /admin>
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Policy default>
  <Limit All>
    Order allow,deny
    Allow 127.0.0.1
  </Limit>
</Policy>
CONF
    cat > "$work/etc/cups-files.conf" <<CONF
ServerRoot $work/etc
RequestRoot $work/spool
TempDir $work/spool/tmp
CacheDir $work/cache
StateDir $work/state
AccessLog $work/log/access_log
ErrorLog $work/log/error_log
PageLog $work/log/page_log
Printcap $work/printcap
FileDevice No
Sandboxing Relaxed
CONF
    cat > "/etc/cups/cups-pdf-$queue.conf" <<CONF
Out $work/pdf
AnonDirName $work/pdf
UserUMask 0022
Grp root
Label 2
CONF
    echo "$queue" > "$work/queue"
    # Foreground mode under setsid: we keep the PID, it survives our shell, no systemd involved.
    setsid cupsd -f -c "$work/etc/cupsd.conf" -s "$work/etc/cups-files.conf" </dev/null >/dev/null 2>&1 &
    echo $! > "$work/cupsd.pid"
    i=0
    until lpstat -h "127.0.0.1:$port" -r 2>/dev/null | grep -q "is running"; do
        i=$((i + 1))
        if [ "$i" -gt 100 ]; then
            echo "cupsd did not come up; see $work/log/error_log" >&2
            cat "$work/log/error_log" >&2 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
    # cups-pdf turns PostScript into PDF with Ghostscript (PDF -> pdftops -> gs pdfwrite): ASCII
    # text stays extractable, the CJK glyphs lose their ToUnicode maps on the way (printed page
    # looks right; pdftotext of the *output* sees only ASCII).  Feeding PDF straight to cups-pdf
    # (cupsFilter2 application/pdf) produced blank pages with cups-pdf 3.0.1.
    lpadmin -h "127.0.0.1:$port" -p "$queue" -E -v "cups-pdf:/$queue" \
        -P /usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd 2>/dev/null
    cupsenable -h "127.0.0.1:$port" "$queue"
    cupsaccept -h "127.0.0.1:$port" "$queue"
    echo "CUPS_SERVER=127.0.0.1:$port"
    ;;
stop)
    if [ -f "$work/cupsd.pid" ]; then
        pid=$(cat "$work/cupsd.pid")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
    fi
    if [ -f "$work/queue" ]; then
        rm -f "/etc/cups/cups-pdf-$(cat "$work/queue").conf"
    fi
    ;;
*)
    echo "unknown command $cmd" >&2
    exit 2
    ;;
esac
