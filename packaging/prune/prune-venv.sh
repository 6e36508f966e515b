#!/bin/sh
# Delete from a venv's PySide6 what packaging/prune/qtwebengine.txt lists (QtWebEngine), and
# print the size of PySide6 before and after. Usage: prune-venv.sh SITE_PACKAGES_DIR
set -eu
site="$1"
list="$(dirname "$0")/qtwebengine.txt"
pyside="$site/PySide6"
[ -d "$pyside" ] || { echo "no PySide6 in $site" >&2; exit 1; }
before=$(du -sm "$pyside" | cut -f1)
grep -v '^\s*#' "$list" | grep -v '^\s*$' | while read -r glob; do
  # shellcheck disable=SC2086  # the glob is meant to expand
  for path in "$pyside"/$glob; do
    [ -e "$path" ] && rm -rf "$path"
  done
done
after=$(du -sm "$pyside" | cut -f1)
echo "PySide6: ${before} MB -> ${after} MB (QtWebEngine removed)"
