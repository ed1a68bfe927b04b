#!/usr/bin/env bash
# Sets up and starts the product: PostgreSQL, the KSeF simulator, and Odoo 19 with l10n_pl_ksef in a
# database of its own, with a ready demo (created on the first run, reused afterwards).
#
# On a fresh Debian/Ubuntu machine (as root, or a user with sudo) it first installs what is missing
# (scripts/install_odoo.sh): PostgreSQL, the Debian packages Odoo's requirements build with,
# wkhtmltopdf, Odoo 19.0 Community (git clone) and its virtualenv. Safe to run again: what is
# there is left alone.
#
# A new database gets a Polish main company (PLN, Polish chart) and, unless KSEF_DEMO=0, the demo
# (models/l10n_pl_ksef_demo.py): the company connected to the simulator with a token it mints, customers,
# products, invoices accepted by KSeF, a draft to send, supplier invoices waiting in KSeF.
#
# Environment: ODOO_SRC (Odoo 19 source tree, default /opt/odoo/19.0; cloned there when missing),
# ODOO_REPO (git repository to clone it from, default https://github.com/odoo/odoo.git; a local
# clone path works), ODOO_REF (its branch, default 19.0), ODOO_VENV (virtualenv built for Odoo,
# default /opt/odoo/venv), ODOO_PYTHON (an existing Python with Odoo's requirements, used instead),
# KSEF_INSTALL_ONLY=1 (stop after the installation), KSEF_DB (default ksef_demo), KSEF_DEMO=0 (an empty
# database: the company is not set up), KSEF_HTTP_PORT (default 8069), KSEF_SIM_PORT (default 8765),
# KSEF_FRESH=1 (drop the database, if this command made it, and its simulator's data, and start again).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo/19.0}
DB=${KSEF_DB:-ksef_demo}
HTTP_PORT=${KSEF_HTTP_PORT:-8069}
SIM_PORT=${KSEF_SIM_PORT:-8765}
STATE=${XDG_DATA_HOME:-$HOME/.local/share}/l10n_pl_ksef
ADDONS_LINK=$STATE/addons

# find_odoo_python, ensure_postgres
# shellcheck source=scripts/odoo_env.sh
source "$ROOT/scripts/odoo_env.sh"
# install_odoo
# shellcheck source=scripts/install_odoo.sh
source "$ROOT/scripts/install_odoo.sh"

# Installs what is missing, starts PostgreSQL (with a superuser role for this user).
install_odoo || exit 1
[ "${KSEF_INSTALL_ONLY:-0}" = 1 ] && exit 0
ODOO_PY=$(find_odoo_python) || { echo "No Python with Odoo 19's requirements found." >&2; exit 1; }

mkdir -p "$ADDONS_LINK"
ln -sfn "$ROOT" "$ADDONS_LINK/l10n_pl_ksef"
ADDONS_PATH="$ODOO_SRC/addons,$ADDONS_LINK"
API_URL="http://127.0.0.1:$SIM_PORT/v2"
LOG="$STATE/start.log"
SIM_DATA="$STATE/simulator/$DB"  # one simulator per database: its KSeF numbers belong to that database's invoices
CREATING="$STATE/$DB.creating"   # present while this command sets the database up (removed when done)
MADE_BY=l10n_pl_ksef.start_sh    # System Parameter: this database was made by this command ("demo" or "empty")
: >"$LOG"

odoo() {  # odoo-bin, its output in $LOG
    (cd "$ODOO_SRC" && "$ODOO_PY" odoo-bin "$@") >>"$LOG" 2>&1
}
failed() {
    echo "$1. The last lines of its log ($LOG):" >&2
    tail -n 20 "$LOG" >&2
    if [ -f "$CREATING" ]; then
        echo "Run this command again: it starts the set-up of database $DB over." >&2
    fi
    exit 1
}
db_exists() {
    [ "$(psql -d postgres -Atc "select 1 from pg_database where datname = '$DB'" 2>/dev/null)" = 1 ]
}
db_param() {  # the value of a System Parameter of the database (empty when there is none)
    psql -d "$DB" -Atc "select value from ir_config_parameter where key = '$1'" 2>/dev/null || true
}
drop_db() {
    dropdb "$DB" 2>>"$LOG" || failed "Could not drop database $DB (is an Odoo still using it? Stop it first)"
    rm -rf "$SIM_DATA"
}
port_free() {
    # SO_REUSEADDR as the servers set it: only a listening socket counts, not the closed connections of a
    # server just stopped
    "$ODOO_PY" -c "import socket as k, sys; s = k.socket(); s.setsockopt(k.SOL_SOCKET, k.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))" "$1" >/dev/null 2>&1
}

for port in "$SIM_PORT:KSEF_SIM_PORT:the KSeF simulator" "$HTTP_PORT:KSEF_HTTP_PORT:Odoo"; do
    if ! port_free "${port%%:*}"; then
        rest=${port#*:}
        echo "Port ${port%%:*}, for ${rest#*:}, is taken (another start.sh still running?). Stop what uses it," >&2
        echo "or choose another port: ${rest%%:*}=<port> bash scripts/start.sh" >&2
        exit 1
    fi
done

if db_exists; then
    if [ "${KSEF_FRESH:-0}" = 1 ]; then
        if [ -z "$(db_param "$MADE_BY")" ] && [ ! -f "$CREATING" ]; then
            echo "KSEF_FRESH=1 drops only a database this command made, and $DB was not: set KSEF_DB to another" >&2
            echo "name for a new demo database." >&2
            exit 1
        fi
        echo "==> Dropping database $DB and its simulator's data (KSEF_FRESH=1)"
        drop_db
    elif [ -f "$CREATING" ]; then
        echo "==> Database $DB was left half-made by an interrupted run: making it again"
        drop_db
    fi
fi
NEW_DB=0
if ! db_exists; then
    NEW_DB=1
    touch "$CREATING"
    rm -rf "$SIM_DATA"
fi
mkdir -p "$SIM_DATA"

echo "==> Starting the KSeF simulator at $API_URL (log: $STATE/simulator.log)"
(cd "$ROOT" && exec "$ODOO_PY" -m ksef_core.simulator --host 127.0.0.1 --port "$SIM_PORT" \
    --data-dir "$SIM_DATA") >"$STATE/simulator.log" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true' EXIT
for attempt in $(seq 1 50); do
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
        tail -n 5 "$STATE/simulator.log" >&2
        echo "The KSeF simulator stopped at once (see above)." >&2
        exit 1
    fi
    if "$ODOO_PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$SIM_PORT/_sim/health', timeout=1)" \
        >/dev/null 2>&1; then
        break
    fi
    if [ "$attempt" = 50 ]; then
        echo "The KSeF simulator did not answer within 10 s (log: $STATE/simulator.log)." >&2
        exit 1
    fi
    sleep 0.2
done

if [ $NEW_DB = 1 ]; then
    echo "==> Creating database $DB with a Polish main company (PLN), then installing Odoo's Polish"
    echo "    accounting (l10n_pl) and l10n_pl_ksef: about two minutes"
    odoo db --addons-path="$ADDONS_PATH" init "$DB" --country PL || failed "Creating the database failed"
    made=demo
    [ "${KSEF_DEMO:-1}" != 0 ] || made=empty
    psql -d "$DB" -qc "insert into ir_config_parameter (key, value) values ('$MADE_BY', '$made')"
fi
if [ "$(psql -d "$DB" -Atc "select state from ir_module_module where name = 'l10n_pl_ksef'" 2>/dev/null)" \
    != installed ]; then
    [ $NEW_DB = 1 ] || echo "==> Installing l10n_pl and l10n_pl_ksef into the existing database $DB"
    odoo --addons-path="$ADDONS_PATH" -d "$DB" -i l10n_pl,l10n_pl_ksef --stop-after-init \
        --http-interface=127.0.0.1 --log-level=warn || failed "Installing the modules failed"
else
    echo "==> Updating l10n_pl_ksef in database $DB"
    odoo --addons-path="$ADDONS_PATH" -d "$DB" -u l10n_pl_ksef --stop-after-init --http-interface=127.0.0.1 \
        --log-level=warn || failed "Updating l10n_pl_ksef failed"
fi
if [ -n "$(db_param "$MADE_BY")" ]; then  # the address Odoo gives wkhtmltopdf and e-mails
    psql -d "$DB" -qc "update ir_config_parameter set value = 'http://localhost:$HTTP_PORT' where key = 'web.base.url'"
fi

if [ "$(db_param "$MADE_BY")" = demo ]; then
    # made at once on a new database; afterwards it only follows the simulator to another port
    [ -n "$(db_param l10n_pl_ksef.demo_company_id)" ] || {
        echo "==> Making the demo: the Polish company connected to the simulator with a token the simulator"
        echo "    mints, customers, products, invoices sent to KSeF, supplier invoices waiting in KSeF"
    }
    (cd "$ODOO_SRC" && KSEF_API_URL="$API_URL" "$ODOO_PY" odoo-bin shell --addons-path="$ADDONS_PATH" -d "$DB" \
        --no-http --log-level=warn <"$ROOT/scripts/make_demo.py" 2>>"$LOG") || failed "Making the demo failed"
fi
rm -f "$CREATING"

echo
echo "Odoo 19 with l10n_pl_ksef is starting."
echo "  URL:       http://localhost:$HTTP_PORT/odoo   (database $DB; Odoo listens on this machine only)"
echo "  Login:     admin"
echo "  Password:  admin"
echo "  KSeF simulator: $API_URL (the Ministry's API simulated on this machine)"
if [ -n "$(db_param l10n_pl_ksef.demo_company_id)" ]; then
    echo
    echo "Three things to try, in the company \"Demo KSeF sp. z o.o.\":"
    echo "  1. Invoicing > Customers > Invoices: open the draft for Kunde Technik GmbH, Confirm, then Send to KSeF."
    echo "     KSeF's number appears on the invoice and in the list; Print > Invoices shows KOD I, KSeF's QR code."
    echo "  2. Settings > Invoicing > KSeF > Import now: three supplier invoices waiting in KSeF become draft bills"
    echo "     (Invoicing > Vendors > Bills), each with its KSeF visualization."
    echo "  3. Settings > Invoicing > KSeF > Test connection: what KSeF says of the company's token and permissions."
else
    echo
    echo "To connect a company to the simulator: give it a Polish NIP, then Settings > Invoicing > KSeF > Set up"
    echo "credentials: environment \"Custom address\", address $API_URL, and a token the simulator mints:"
    echo "    curl -s -X POST http://127.0.0.1:$SIM_PORT/_sim/tokens -H 'Content-Type: application/json' -d '{\"nip\": \"<NIP>\"}'"
fi
echo "Stop with Ctrl+C."
cd "$ODOO_SRC"
"$ODOO_PY" odoo-bin --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port="$HTTP_PORT"
