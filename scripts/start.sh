#!/usr/bin/env bash
# Sets up and starts the product: PostgreSQL, the KSeF simulator, and Odoo 19 with l10n_pl_ksef
# installed in a database of its own (created on the first run, reused afterwards).
#
# Environment: ODOO_SRC (default /opt/odoo/19.0), ODOO_PYTHON, KSEF_DB (default ksef_demo),
# KSEF_HTTP_PORT (default 8069), KSEF_SIM_PORT (default 8765), KSEF_FRESH=1 (drop and recreate the DB).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo/19.0}
DB=${KSEF_DB:-ksef_demo}
HTTP_PORT=${KSEF_HTTP_PORT:-8069}
SIM_PORT=${KSEF_SIM_PORT:-8765}
STATE=${XDG_DATA_HOME:-$HOME/.local/share}/l10n_pl_ksef
ADDONS_LINK=$STATE/addons

if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
    cat >&2 <<EOF
Odoo 19 was not found: this command looks for an Odoo 19.0 source tree at $ODOO_SRC
(set ODOO_SRC to use another place) and for its Python at ODOO_PYTHON, /opt/odoo/venv/bin/python,
$ODOO_SRC/.venv/bin/python or python3.

To install it:
  1. put the Odoo 19.0 Community source in $ODOO_SRC (e.g. a checkout of the 19.0 branch);
  2. python3.11 -m venv /opt/odoo/venv && /opt/odoo/venv/bin/pip install -r $ODOO_SRC/requirements.txt
     (Debian packages needed to build it: libpq-dev libldap2-dev libsasl2-dev);
  3. PostgreSQL 15 or newer (apt-get install postgresql); this command starts the cluster itself.
Then run this command again.
EOF
    exit 1
fi

ODOO_PY=""
for candidate in "${ODOO_PYTHON:-}" /opt/odoo/venv/bin/python "$ODOO_SRC/.venv/bin/python" python3; do
    [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 || continue
    if (cd "$ODOO_SRC" && "$candidate" -c "import odoo.release, psycopg2" >/dev/null 2>&1); then
        ODOO_PY=$(command -v "$candidate")
        break
    fi
done
if [ -z "$ODOO_PY" ]; then
    echo "Odoo found at $ODOO_SRC, but no Python with its requirements: set ODOO_PYTHON or run" >&2
    echo "  python3.11 -m venv /opt/odoo/venv && /opt/odoo/venv/bin/pip install -r $ODOO_SRC/requirements.txt" >&2
    exit 1
fi

# PostgreSQL
if ! pg_isready -q 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v pg_ctlcluster >/dev/null; then
        version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
        pg_ctlcluster "${version:-15}" main start
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    fi
fi
pg_isready -q || { echo "PostgreSQL is not running and could not be started." >&2; exit 1; }
if [ "$(id -u)" = 0 ] && ! psql -d postgres -Atc "select 1" >/dev/null 2>&1; then
    su postgres -c "createuser -s $(id -un)"
fi

mkdir -p "$ADDONS_LINK" "$STATE/simulator"
ln -sfn "$ROOT" "$ADDONS_LINK/l10n_pl_ksef"
ADDONS_PATH="$ODOO_SRC/addons,$ADDONS_LINK"

# KSeF simulator (state kept in $STATE/simulator across restarts)
SIM_PID=""
if (cd "$ROOT" && "$ODOO_PY" -c "import ksef_core.simulator.__main__" >/dev/null 2>&1); then
    (cd "$ROOT" && exec "$ODOO_PY" -m ksef_core.simulator --host 127.0.0.1 --port "$SIM_PORT" \
        --data-dir "$STATE/simulator") >"$STATE/simulator.log" 2>&1 &
    SIM_PID=$!
    trap '[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null || true' EXIT
fi

if [ "${KSEF_FRESH:-0}" = 1 ]; then
    dropdb --if-exists "$DB"
fi
if ! psql -d "$DB" -Atc "select 1 from ir_module_module where name='l10n_pl_ksef' and state='installed'" 2>/dev/null | grep -q 1; then
    echo "Creating database $DB with l10n_pl and l10n_pl_ksef (about a minute)..."
    (cd "$ODOO_SRC" && "$ODOO_PY" odoo-bin --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^$DB\$" \
        -i l10n_pl,l10n_pl_ksef --stop-after-init --http-interface=127.0.0.1 --log-level=warn)
else
    (cd "$ODOO_SRC" && "$ODOO_PY" odoo-bin --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^$DB\$" \
        -u l10n_pl_ksef --stop-after-init --http-interface=127.0.0.1 --log-level=warn)
fi

cat <<EOF

Odoo 19 with l10n_pl_ksef is starting.
  URL:       http://localhost:$HTTP_PORT/odoo   (database $DB)
  Login:     admin
  Password:  admin
EOF
if [ -n "$SIM_PID" ]; then
    echo "  KSeF simulator: http://127.0.0.1:$SIM_PORT/v2  (log: $STATE/simulator.log)"
    echo "  To connect: Settings > Accounting > KSeF > Set up credentials, environment 'Custom address',"
    echo "  address http://127.0.0.1:$SIM_PORT/v2, and a token minted by the simulator for the company's NIP:"
    echo "    curl -s -X POST http://127.0.0.1:$SIM_PORT/_sim/tokens -H 'Content-Type: application/json' \\"
    echo "         -d '{\"nip\": \"<company NIP>\", \"permissions\": [\"InvoiceWrite\", \"InvoiceRead\"]}'"
fi
echo "Stop with Ctrl+C."
cd "$ODOO_SRC"
"$ODOO_PY" odoo-bin --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port="$HTTP_PORT"
