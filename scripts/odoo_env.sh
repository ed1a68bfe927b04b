# shellcheck shell=bash
# Shared by scripts/start.sh, scripts/install_odoo.sh, scripts/run_tests.sh and scripts/bench.sh
# (sourced): find Odoo 19's Python and make PostgreSQL reachable. Needs ODOO_SRC set; uses
# ODOO_PYTHON and ODOO_VENV when set. Messages go to stderr.

# find_odoo_python: print the first Python that imports Odoo 19's requirements from $ODOO_SRC.
find_odoo_python() {
    local candidate
    for candidate in "${ODOO_PYTHON:-}" "${ODOO_VENV:+$ODOO_VENV/bin/python}" /opt/odoo/venv/bin/python \
        "$ODOO_SRC/.venv/bin/python" "$ODOO_SRC/venv/bin/python" python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if (cd "$ODOO_SRC" && "$candidate" -c "import odoo.release, psycopg2, werkzeug" >/dev/null 2>&1); then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# can_run_as_root: true when this user is root or can use sudo.
can_run_as_root() {
    [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1
}

# run_as_root CMD...: run CMD as root, through sudo when this user is not root.
run_as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        return 1
    fi
}

# run_as_postgres CMD...: run CMD as the postgres system user (from root, or through sudo).
run_as_postgres() {
    if [ "$(id -u)" = 0 ]; then
        su postgres -c "$(printf '%q ' "$@")"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -u postgres "$@"
    else
        return 1
    fi
}

# postgres_cluster: print "VERSION NAME" of the first local cluster (Debian's postgresql-common).
postgres_cluster() {
    pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1, $2}'
}

# ensure_postgres: start the local cluster if needed (creating it when PostgreSQL is installed
# without one), as root or through sudo, and make sure this user can connect (a superuser role
# named after it).
ensure_postgres() {
    local cluster version name
    if ! pg_isready -q >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 && can_run_as_root; then
        cluster=$(postgres_cluster)
        if [ -z "$cluster" ]; then
            # shellcheck disable=SC2012
            version=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 \
                | awk -F/ '{print $5}')
            [ -n "$version" ] || return 1
            echo "==> Creating PostgreSQL cluster $version/main" >&2
            run_as_root pg_createcluster "$version" main >&2 || return 1
            cluster="$version main"
        fi
        version=${cluster% *}
        name=${cluster#* }
        echo "==> Starting PostgreSQL cluster $version/$name" >&2
        run_as_root pg_ctlcluster "$version" "$name" start >&2 || return 1
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
    fi
    pg_isready -q >/dev/null 2>&1 || return 1
    if ! psql -d postgres -Atc "select 1" >/dev/null 2>&1 && can_run_as_root; then
        echo "==> Creating the PostgreSQL superuser role $(id -un)" >&2
        run_as_postgres createuser -s "$(id -un)" >/dev/null 2>&1 || true
    fi
    psql -d postgres -Atc "select 1" >/dev/null 2>&1
}
