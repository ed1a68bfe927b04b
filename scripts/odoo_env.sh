# Shared by scripts/run_tests.sh and scripts/bench.sh (sourced): find Odoo 19's Python and make
# PostgreSQL reachable. Needs ODOO_SRC set. Messages go to stderr.

# find_odoo_python: print the first Python that imports Odoo 19's requirements from $ODOO_SRC.
find_odoo_python() {
    local candidate
    for candidate in "${ODOO_PYTHON:-}" /opt/odoo/venv/bin/python "$ODOO_SRC/.venv/bin/python" \
        "$ODOO_SRC/venv/bin/python" python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if (cd "$ODOO_SRC" && "$candidate" -c "import odoo.release, psycopg2, werkzeug" >/dev/null 2>&1); then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# ensure_postgres: start the local cluster if needed (as root) and make sure this user can connect.
ensure_postgres() {
    if pg_isready -q >/dev/null 2>&1; then
        :
    elif command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        local version
        version=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')
        echo "Starting PostgreSQL cluster ${version:-15}/main" >&2
        pg_ctlcluster "${version:-15}" main start >&2 || return 1
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    fi
    pg_isready -q || return 1
    if [ "$(id -u)" = 0 ] && ! psql -d postgres -Atc "select 1" >/dev/null 2>&1; then
        su postgres -c "createuser -s $(id -un)" >/dev/null 2>&1 || true
    fi
    psql -d postgres -Atc "select 1" >/dev/null 2>&1
}
