#!/usr/bin/env bash
# The one test command of l10n_pl_ksef (README, .ci/run).
#
#  1. prepares its own virtualenv with the runtime libraries at Odoo 19's Python 3.11 pins
#     plus the test and lint tools (requirements-test.txt);
#  2. lint: ruff and pylint-odoo's mandatory checks;
#  3. the pure-Python tests (tests/pure, no Odoo needed);
#  4. when Odoo 19 is present (ODOO_SRC, default /opt/odoo/19.0): starts PostgreSQL if needed,
#     installs the addon into two throwaway databases (with and without l10n_pl, side by side), runs
#     every Odoo test of the addon in each, and drops the databases;
#  5. when Odoo is present: runs a trimmed set of the faults benchmark's scenarios against a real Odoo server
#     with prefork workers (bench/odoo/faults.py: a worker killed mid-send, an answer lost, a user withdrawing
#     an invoice while the cron sends, an environment switch with invoices on their way);
#  6. prints the counts as its last lines.
# Exit status: non-zero when lint fails, a test fails, or Odoo is present but its tests could not run.
#
# Environment: ODOO_SRC (Odoo 19 source tree with odoo-bin), ODOO_PYTHON (its Python),
# KSEF_TEST_VENV (virtualenv for the pure tests), KSEF_SKIP_LINT=1, KSEF_ODOO_TIMEOUT (seconds per database).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/l10n_pl_ksef
VENV=${KSEF_TEST_VENV:-$CACHE/venv}
ODOO_SRC=${ODOO_SRC:-/opt/odoo/19.0}
ODOO_TIMEOUT=${KSEF_ODOO_TIMEOUT:-1050}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/l10n_pl_ksef_tests.XXXXXX")
DATABASES=()
ODOO_PIDS=()
ODOO_LOGS=()
FAILURES=()
SUMMARY=()
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0

say() { printf '\n== %s\n' "$*"; }

cleanup() {
    for pid in "${ODOO_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    [ ${#ODOO_PIDS[@]} -eq 0 ] || pkill -f "ksef_test_$$_" 2>/dev/null || true
    wait 2>/dev/null
    for db in "${DATABASES[@]}"; do
        dropdb --if-exists "$db" >/dev/null 2>&1 || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# --------------------------------------------------------------------------- virtualenv
pick_python() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

prepare_venv() {
    local want have python
    want=$(sha256sum "$ROOT/requirements-test.txt" | cut -d' ' -f1)
    have=$(cat "$VENV/.requirements.sha256" 2>/dev/null || true)
    if [ "$want" = "$have" ] && [ -x "$VENV/bin/python" ]; then
        return 0
    fi
    python=$(pick_python) || { echo "No python3 found on PATH." >&2; return 1; }
    say "Preparing the test virtualenv in $VENV ($("$python" --version 2>&1))"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$python" -m venv "$VENV" || return 1
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$ROOT/requirements-test.txt" 2>&1 | grep -v "^WARNING: Location 'file:"
    [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    echo "$want" > "$VENV/.requirements.sha256"
}

# --------------------------------------------------------------------------- lint
run_lint() {
    say "Lint: ruff"
    local ok=0
    (cd "$ROOT" && "$VENV/bin/ruff" check --no-cache .) || ok=1
    say "Lint: pylint-odoo (mandatory checks)"
    mkdir -p "$WORK/lint"
    ln -s "$ROOT" "$WORK/lint/l10n_pl_ksef"
    (cd "$WORK/lint" && "$VENV/bin/pylint" --rcfile="$ROOT/.pylintrc-mandatory" l10n_pl_ksef) || ok=1
    if [ $ok -eq 0 ]; then
        SUMMARY+=("Lint: ruff and pylint-odoo clean")
    else
        SUMMARY+=("Lint: FAILED (see above)")
        FAILURES+=("lint")
    fi
}

# --------------------------------------------------------------------------- pure tests
junit_counts() {  # prints "passed failed skipped" from a JUnit XML file
    "$VENV/bin/python" - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - failed - skipped, failed, skipped)
PY
}

run_pure_tests() {
    say "Pure-Python tests (no Odoo)"
    local rc
    # tests/pure/pytest.ini makes tests/pure the rootdir, so pytest never imports the Odoo
    # test package tests/__init__.py.
    (cd "$ROOT" && "$VENV/bin/python" -m pytest -q --junitxml="$WORK/pure.xml" tests/pure)
    rc=$?
    if [ $rc -eq 5 ] || [ ! -s "$WORK/pure.xml" ]; then
        SUMMARY+=("Pure tests: none collected (pytest exit $rc)")
        FAILURES+=("pure tests not collected")
        return
    fi
    read -r passed failed skipped < <(junit_counts "$WORK/pure.xml")
    TOTAL_PASSED=$((TOTAL_PASSED + passed)); TOTAL_FAILED=$((TOTAL_FAILED + failed))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
    SUMMARY+=("Pure tests: $passed passed, $failed failed, $skipped skipped")
    if [ $rc -ne 0 ]; then
        FAILURES+=("pure tests (pytest exit $rc)")
    fi
}

# --------------------------------------------------------------------------- Odoo tests
# find_odoo_python, ensure_postgres
# shellcheck source=scripts/odoo_env.sh
source "$ROOT/scripts/odoo_env.sh"

# run_odoo_db LABEL MODULES: install MODULES in a fresh database and run the addon's tests.
# start_odoo_db LABEL MODULES: install MODULES in a fresh database and run the addon's tests, in the background
# (the two databases run side by side: the machine's cores are shared, the wall time is about halved);
# collect_odoo_db LABEL then waits for it and counts.
start_odoo_db() {
    local label=$1 modules=$2 tags=$3 db log port
    db="ksef_test_$$_${label//[^a-z0-9]/_}"
    log="$WORK/odoo_${db}.log"
    DATABASES+=("$db")
    port=$("$VENV/bin/python" -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
    say "Odoo tests ($label): installing $modules into database $db (runs in the background)"
    (cd "$ODOO_SRC" && timeout "$ODOO_TIMEOUT" "$ODOO_PY" odoo-bin \
        --addons-path="$ODOO_ADDONS,$WORK/addons" --data-dir="$WORK/data" \
        -d "$db" --db-filter="^$db\$" -i "$modules" \
        --test-tags="$tags" --stop-after-init --http-interface=127.0.0.1 --http-port="$port" \
        --log-level=test --max-cron-threads=0 >"$log" 2>&1; echo $? >"$log.rc") &
    ODOO_PIDS+=("$!")
    ODOO_LOGS+=("$log")
}

collect_odoo_db() {
    local label=$1 pid=$2 log=$3 rc line failed errors total
    wait "$pid"
    rc=$(cat "$log.rc" 2>/dev/null || echo 1)
    say "Odoo tests ($label)"
    # Show every failing test with its traceback, and the result lines.
    awk '/ (ERROR|CRITICAL) /{show=1} / INFO | DEBUG /{show=0} show' "$log" | head -n 400
    grep -E "odoo\.tests\.(result|stats)" "$log"
    line=$(grep -E "odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n 1)
    if [ -z "$line" ]; then
        SUMMARY+=("Odoo tests ($label): DID NOT RUN (odoo-bin exit $rc; log tail below)")
        tail -n 40 "$log"
        FAILURES+=("Odoo tests ($label) did not run")
        return
    fi
    read -r failed errors total < <(sed -E 's/.*result: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/' <<<"$line")
    local skipped passed bad warnings
    skipped=$(grep -cE " INFO .*: skipped [^ ]+ : " "$log" || true)
    bad=$((failed + errors))
    passed=$((total - bad - skipped))
    TOTAL_PASSED=$((TOTAL_PASSED + passed)); TOTAL_FAILED=$((TOTAL_FAILED + bad))
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + skipped))
    SUMMARY+=("Odoo tests ($label): $passed passed, $bad failed, $skipped skipped")
    # why they were skipped: one line per distinct reason (e.g. the browser tour without Chromium)
    local reason
    while read -r reason; do
        SUMMARY+=("    skipped $reason")
    done < <(grep -E " INFO .*: skipped [^ ]+ : " "$log" | sed -E 's/.*: skipped [^ ]+ : //' | sort | uniq -c \
        | sed -E 's/^ *([0-9]+) /(\1): /' | head -n 20)
    if [ "$total" -eq 0 ]; then
        FAILURES+=("Odoo tests ($label): zero tests ran")
    fi
    if [ $bad -ne 0 ] || [ "$rc" -ne 0 ]; then
        FAILURES+=("Odoo tests ($label) (odoo-bin exit $rc)")
    fi
    # Loader/registry problems that name the addon (test failures are counted above).
    # Only the install phase counts (tests provoke warnings on purpose, e.g. access refused).
    warnings=$(awk '/ INFO .*: Starting [A-Za-z0-9_]+\.test_/{exit} {print}' "$log" | grep -E " (WARNING|ERROR|CRITICAL) " \
        | grep "l10n_pl_ksef" | grep -vcE "odoo\.addons\.l10n_pl_ksef\.tests\." || true)
    if [ "$warnings" -ne 0 ]; then
        FAILURES+=("Odoo ($label): $warnings loader warning/error line(s) name l10n_pl_ksef")
    fi
}

# apt_install COMMAND PACKAGE PURPOSE: install the Debian PACKAGE when COMMAND is missing and we are root.
apt_install() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "Installing $2 (Debian) for $3"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; }
    fi
    command -v "$1" >/dev/null 2>&1
}

# The PDF tests need wkhtmltopdf, the browser tour (tests/test_demo.py) Chromium and Python's websocket-client
# in Odoo's Python: installed when missing and we are root; otherwise those tests are skipped with the reason
# (the HTML of the prints is still tested) and the summary says so.
ensure_test_tools() {
    apt_install wkhtmltopdf wkhtmltopdf "the PDF tests" \
        || SUMMARY+=("PDF: wkhtmltopdf missing (not root or no apt-get): PDF tests skipped, the HTML of the prints is tested")
    command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 \
        || apt_install chromium chromium "the browser tour" \
        || SUMMARY+=("Browser: Chromium missing (not root or no apt-get): the browser tour is skipped")
    if ! (cd "$ODOO_SRC" && "$ODOO_PY" -c "import websocket" >/dev/null 2>&1); then
        if [ -w "$(dirname "$ODOO_PY")" ]; then
            say "Installing websocket-client into Odoo's Python ($ODOO_PY) for the browser tour"
            "$ODOO_PY" -m pip install --quiet --disable-pip-version-check websocket-client >/dev/null 2>&1 || true
        fi
        (cd "$ODOO_SRC" && "$ODOO_PY" -c "import websocket" >/dev/null 2>&1) \
            || SUMMARY+=("Browser: websocket-client missing from Odoo's Python: the browser tour is skipped")
    fi
}

run_odoo_tests() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
        local count
        count=$(cat "$ROOT"/tests/test_*.py | grep -cE "^    def test_" || true)
        SUMMARY+=("Odoo tests: $count SKIPPED (no Odoo 19 found at $ODOO_SRC; set ODOO_SRC to an Odoo 19.0 source tree)")
        return
    fi
    ODOO_PY=$(find_odoo_python) || {
        SUMMARY+=("Odoo tests: COULD NOT RUN (Odoo found at $ODOO_SRC but no Python with its requirements; set ODOO_PYTHON)")
        FAILURES+=("Odoo present but not runnable")
        return
    }
    local version
    version=$(cd "$ODOO_SRC" && "$ODOO_PY" -c "import odoo.release as r; print(r.version)" 2>/dev/null)
    case "$version" in
        19.0*) ;;
        *)
            SUMMARY+=("Odoo tests: COULD NOT RUN (Odoo at $ODOO_SRC is version '$version', not 19.0)")
            FAILURES+=("wrong Odoo version")
            return
            ;;
    esac
    ensure_postgres || {
        SUMMARY+=("Odoo tests: COULD NOT RUN (PostgreSQL is not reachable and could not be started)")
        FAILURES+=("PostgreSQL unavailable")
        return
    }
    ensure_test_tools
    ODOO_ADDONS="$ODOO_SRC/addons"
    [ -d "$ODOO_SRC/odoo/addons" ] && ODOO_ADDONS="$ODOO_ADDONS,$ODOO_SRC/odoo/addons"
    mkdir -p "$WORK/addons" "$WORK/data"
    ln -s "$ROOT" "$WORK/addons/l10n_pl_ksef"
    # The date-sensitive tests run again at fixed clocks (tag ksef_clocks) in the second database only, which
    # also has the sale app (advance invoices from sale orders) and debit notes: the two take about the same time.
    start_odoo_db "with l10n_pl" "l10n_pl,l10n_pl_ksef" "/l10n_pl_ksef,-ksef_clocks"
    start_odoo_db "without l10n_pl, with sale and point of sale" "l10n_pl_ksef,sale,account_debit_note,point_of_sale" "/l10n_pl_ksef"
    collect_odoo_db "with l10n_pl" "${ODOO_PIDS[0]}" "${ODOO_LOGS[0]}"
    collect_odoo_db "without l10n_pl, with sale and point of sale" "${ODOO_PIDS[1]}" "${ODOO_LOGS[1]}"
}

# --------------------------------------------------------------------------- fault scenarios
# What production runs (prefork workers, commits, their own cursors, SIGKILL) cannot run inside Odoo's test
# cursor: these scenarios of `bash scripts/bench.sh faults` run here on a real server, counted like the tests.
FAULT_SCENARIOS=${KSEF_FAULT_SCENARIOS:-kill-after-post,ksef-drop,reset-race,env-switch}
run_fault_scenarios() {
    [ -f "$ODOO_SRC/odoo-bin" ] && [ -n "${ODOO_PY:-}" ] || return 0
    [ "$FAULT_SCENARIOS" = none ] && { SUMMARY+=("Fault scenarios: not run (KSEF_FAULT_SCENARIOS=none)"); return 0; }
    say "Fault scenarios against a real Odoo server: $FAULT_SCENARIOS"
    local log="$WORK/faults.log" rc line
    ODOO_SRC="$ODOO_SRC" ODOO_PYTHON="$ODOO_PY" timeout "${KSEF_FAULTS_TIMEOUT:-420}" \
        bash "$ROOT/scripts/bench.sh" faults --quick --only "$FAULT_SCENARIOS" >"$log" 2>&1
    rc=$?
    grep -vE " (DEBUG|INFO) " "$log" | tail -n 40
    line=$(grep -E "^faults: [0-9]+ scenarios" "$log" | tail -n 1)
    if [ -z "$line" ]; then
        SUMMARY+=("Fault scenarios: DID NOT RUN (exit $rc)")
        FAILURES+=("fault scenarios did not run")
        return
    fi
    SUMMARY+=("Fault scenarios ($FAULT_SCENARIOS): ${line#faults: }")
    local ran
    ran=$(sed -E 's/^faults: ([0-9]+) scenarios.*/\1/' <<<"$line")
    TOTAL_PASSED=$((TOTAL_PASSED + ran))
    if [ $rc -ne 0 ]; then
        TOTAL_FAILED=$((TOTAL_FAILED + 1))
        FAILURES+=("fault scenarios (exit $rc)")
    fi
}

# --------------------------------------------------------------------------- main
START=$(date +%s)
if ! prepare_venv; then
    echo "Could not prepare the test virtualenv in $VENV" >&2
    exit 2
fi
if [ "${KSEF_SKIP_LINT:-0}" != 1 ]; then
    run_lint
fi
run_pure_tests
run_odoo_tests
run_fault_scenarios

say "Summary ($(( $(date +%s) - START )) s)"
if [ ${#FAILURES[@]} -ne 0 ]; then
    printf 'Problems: %s\n' "$(IFS=';'; echo "${FAILURES[*]}")"
fi
printf '%s\n' "${SUMMARY[@]}"
echo "Total: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
[ ${#FAILURES[@]} -eq 0 ]
