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
# KSEF_FRESH=1 (drop the database and the simulator's data, and start again).
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
: >"$LOG"

odoo() {  # odoo-bin, its output in $LOG
    (cd "$ODOO_SRC" && "$ODOO_PY" odoo-bin "$@") >>"$LOG" 2>&1
}
failed() {
    echo "$1. The last lines of its log ($LOG):" >&2
    tail -n 20 "$LOG" >&2
    exit 1
}
db_exists() {
    [ "$(psql -d postgres -Atc "select 1 from pg_database where datname = '$DB'" 2>/dev/null)" = 1 ]
}

# A new database gets a new simulator: the KSeF numbers and invoice numbers of an older demo would clash.
if [ "${KSEF_FRESH:-0}" = 1 ] && db_exists; then
    echo "==> Dropping database $DB (KSEF_FRESH=1)"
    dropdb "$DB"
fi
NEW_DB=0
if ! db_exists; then
    NEW_DB=1
    rm -rf "$STATE/simulator" "$STATE/$DB.demo"
fi
mkdir -p "$STATE/simulator"

echo "==> Starting the KSeF simulator at $API_URL (log: $STATE/simulator.log)"
(cd "$ROOT" && exec "$ODOO_PY" -m ksef_core.simulator --host 127.0.0.1 --port "$SIM_PORT" \
    --data-dir "$STATE/simulator") >"$STATE/simulator.log" 2>&1 &
SIM_PID=$!
trap 'kill "$SIM_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    if "$ODOO_PY" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$SIM_PORT/_sim/health', timeout=1)" \
        >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$SIM_PID" 2>/dev/null; then
        tail -n 5 "$STATE/simulator.log" >&2
        echo "The KSeF simulator did not start: is port $SIM_PORT taken? Set KSEF_SIM_PORT to a free one." >&2
        exit 1
    fi
    sleep 0.2
done

if [ $NEW_DB = 1 ]; then
    echo "==> Creating database $DB with a Polish main company (PLN), then installing Odoo's Polish"
    echo "    accounting (l10n_pl) and l10n_pl_ksef: about two minutes"
    odoo db --addons-path="$ADDONS_PATH" init "$DB" --country PL || failed "Creating the database failed"
    touch "$STATE/$DB.demo"  # made by this command: the demo may fill it
fi
if ! psql -d "$DB" -Atc "select 1 from ir_module_module where name='l10n_pl_ksef' and state='installed'" \
    2>/dev/null | grep 1 >/dev/null; then
    [ $NEW_DB = 1 ] || echo "==> Installing l10n_pl and l10n_pl_ksef into the existing database $DB"
    odoo --addons-path="$ADDONS_PATH" -d "$DB" -i l10n_pl,l10n_pl_ksef --stop-after-init \
        --http-interface=127.0.0.1 --log-level=warn || failed "Installing the modules failed"
else
    echo "==> Updating l10n_pl_ksef in database $DB"
    odoo --addons-path="$ADDONS_PATH" -d "$DB" -u l10n_pl_ksef --stop-after-init --http-interface=127.0.0.1 \
        --log-level=warn || failed "Updating l10n_pl_ksef failed"
fi

if [ $NEW_DB = 1 ]; then  # the address Odoo gives wkhtmltopdf and e-mails
    psql -d "$DB" -qc "update ir_config_parameter set value = 'http://localhost:$HTTP_PORT' where key = 'web.base.url'"
fi

DEMO=0
if [ "${KSEF_DEMO:-1}" != 0 ] && [ -f "$STATE/$DB.demo" ]; then
    echo "==> Making the demo: the Polish company connected to the simulator with a token the simulator mints,"
    echo "    customers, products, invoices sent to KSeF, supplier invoices waiting in KSeF"
    (cd "$ODOO_SRC" && KSEF_API_URL="$API_URL" "$ODOO_PY" odoo-bin shell --addons-path="$ADDONS_PATH" -d "$DB" \
        --no-http --log-level=warn <"$ROOT/scripts/make_demo.py" 2>>"$LOG") || failed "Making the demo failed"
    DEMO=1
elif [ -f "$STATE/$DB.demo" ]; then
    rm -f "$STATE/$DB.demo"  # KSEF_DEMO=0: this database stays empty
fi

echo
echo "Odoo 19 with l10n_pl_ksef is starting."
echo "  URL:       http://localhost:$HTTP_PORT/odoo   (database $DB)"
echo "  Login:     admin"
echo "  Password:  admin"
echo "  KSeF simulator: $API_URL (the Ministry's API simulated on this machine)"
if [ $DEMO = 1 ]; then
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
