#!/usr/bin/env bash
# The one entry point for the benchmarks that need Odoo (bench/odoo/NAME.py).
#
#   bash scripts/bench.sh NAME [ARGS...]
#
#  1. finds Odoo 19 like scripts/run_tests.sh (ODOO_SRC, default /opt/odoo/19.0; ODOO_PYTHON,
#     default /opt/odoo/venv/bin/python) and starts PostgreSQL if needed;
#  2. installs l10n_pl and l10n_pl_ksef (no demo data) into a throwaway database;
#  3. runs bench/odoo/NAME.py inside Odoo: bench/odoo/_runner.py calls its run(env, ARGS) with a
#     superuser environment and rolls the transaction back afterwards;
#  4. drops the database (also on failure or Ctrl-C).
# The benchmark's stdout is passed through: its last line is the result line. Odoo's log
# (warnings and worse) goes to stderr; the install log is shown only when the install fails.
# Without NAME or with an unknown NAME: lists the benchmarks and exits 2.
# Exit status: 0 on success, non-zero when the install failed or the benchmark raised.
#
# Environment: ODOO_SRC, ODOO_PYTHON, KSEF_BENCH_MODULES (default l10n_pl,l10n_pl_ksef),
# KSEF_BENCH_DB (use this existing database, with the modules already installed, instead of a
# throwaway one; it is neither installed into nor dropped: handy when iterating on a benchmark; its
# data directory, with the key of its KSeF credentials, stays in ~/.cache/l10n_pl_ksef/bench-data).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$ROOT/bench/odoo"
ODOO_SRC=${ODOO_SRC:-/opt/odoo/19.0}
MODULES=${KSEF_BENCH_MODULES:-l10n_pl,l10n_pl_ksef}
DB=""
WORK=""

list_benchmarks() {
    local file found=0
    echo "Benchmarks (bench/odoo/NAME.py), run with: bash scripts/bench.sh NAME [ARGS...]" >&2
    for file in "$BENCH_DIR"/*.py; do
        [ -e "$file" ] || continue
        case "$(basename "$file")" in _*) continue ;; esac
        printf '  %s\n' "$(basename "$file" .py)" >&2
        found=1
    done
    [ $found -eq 1 ] || echo "  (none)" >&2
}

NAME=${1:-}
if [ -z "$NAME" ] || [ "$NAME" = "-h" ] || [ "$NAME" = "--help" ] || [[ "$NAME" == _* ]] \
    || [[ "$NAME" == */* ]] || [ ! -f "$BENCH_DIR/$NAME.py" ]; then
    [ -n "$NAME" ] && [ "$NAME" != "-h" ] && [ "$NAME" != "--help" ] && echo "Unknown benchmark: $NAME" >&2
    list_benchmarks
    exit 2
fi
shift

# --------------------------------------------------------------------------- Odoo and PostgreSQL
# find_odoo_python, ensure_postgres
# shellcheck source=scripts/odoo_env.sh
source "$ROOT/scripts/odoo_env.sh"

if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
    echo "No Odoo 19 found at $ODOO_SRC (set ODOO_SRC to an Odoo 19.0 source tree)." >&2
    exit 1
fi
ODOO_PY=$(find_odoo_python) || {
    echo "Odoo found at $ODOO_SRC but no Python with its requirements (set ODOO_PYTHON)." >&2
    exit 1
}
VERSION=$(cd "$ODOO_SRC" && "$ODOO_PY" -c "import odoo.release as r; print(r.version)" 2>/dev/null)
case "$VERSION" in
    19.0*) ;;
    *) echo "Odoo at $ODOO_SRC is version '$VERSION', not 19.0." >&2; exit 1 ;;
esac
ensure_postgres || { echo "PostgreSQL is not reachable and could not be started." >&2; exit 1; }

# --------------------------------------------------------------------------- throwaway database
cleanup() {
    if [ -n "$DB" ] && [ -z "${KSEF_BENCH_DB:-}" ]; then
        dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    fi
    [ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d "${TMPDIR:-/tmp}/l10n_pl_ksef_bench.XXXXXX")
mkdir -p "$WORK/addons" "$WORK/data"
ln -s "$ROOT" "$WORK/addons/l10n_pl_ksef"
ADDONS="$ODOO_SRC/addons"
[ -d "$ODOO_SRC/odoo/addons" ] && ADDONS="$ADDONS,$ODOO_SRC/odoo/addons"
ADDONS="$ADDONS,$WORK/addons"
DATA_DIR="$WORK/data"
if [ -n "${KSEF_BENCH_DB:-}" ]; then
    # an existing database keeps its data directory between runs: the key that encrypts its KSeF
    # credentials lives there (a new one each run would leave them unreadable)
    DATA_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/l10n_pl_ksef/bench-data/$KSEF_BENCH_DB"
    mkdir -p "$DATA_DIR"
fi
ODOO_OPTS=(--addons-path="$ADDONS" --data-dir="$DATA_DIR" --no-http --max-cron-threads=0)

if [ -n "${KSEF_BENCH_DB:-}" ]; then
    DB=$KSEF_BENCH_DB
    echo "Using the existing database $DB (KSEF_BENCH_DB; not installed into, not dropped)" >&2
else
    DB="ksef_bench_$$"
    START=$(date +%s)
    echo "Installing $MODULES into the throwaway database $DB (takes minutes)..." >&2
    (cd "$ODOO_SRC" && "$ODOO_PY" odoo-bin "${ODOO_OPTS[@]}" -d "$DB" --db-filter="^$DB\$" \
        -i "$MODULES" --without-demo --stop-after-init --log-level=warn >"$WORK/install.log" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || grep -qE " (ERROR|CRITICAL) " "$WORK/install.log"; then
        echo "Installing $MODULES failed (odoo-bin exit $rc); log tail:" >&2
        tail -n 60 "$WORK/install.log" >&2
        exit 1
    fi
    echo "Installed in $(( $(date +%s) - START )) s" >&2
fi

# --------------------------------------------------------------------------- the benchmark
ODOO_SRC="$ODOO_SRC" "$ODOO_PY" "$BENCH_DIR/_runner.py" "$BENCH_DIR/$NAME.py" \
    "${ODOO_OPTS[@]}" -d "$DB" --db-filter="^$DB\$" --log-level=warn -- "$@"
