# shellcheck shell=bash
# Sourced by scripts/start.sh (after scripts/odoo_env.sh): installs what is missing to run Odoo 19
# with l10n_pl_ksef on Debian/Ubuntu, and does nothing when everything is there. Entry point:
# install_odoo, which returns non-zero (after a message on stderr) when something could not be done.
#
#  1. Debian packages, in one apt-get call: PostgreSQL when there is no server, the packages
#     Odoo's requirements build with (only when the virtualenv is to be built), git (only when
#     Odoo is to be cloned), wkhtmltopdf (PDF reports; a warning only when apt has none);
#  2. starts the PostgreSQL cluster and makes the current user a superuser role (ensure_postgres);
#  3. Odoo 19.0 Community from ODOO_REPO (default https://github.com/odoo/odoo.git), branch ODOO_REF
#     (default 19.0), shallow (a local repository path is cloned by hard links), into ODOO_SRC
#     (default /opt/odoo/19.0), unless $ODOO_SRC/odoo-bin exists. Only Odoo's own directories are
#     checked out (addons odoo setup debian doc, and the top-level files). The clone goes to a
#     temporary sibling directory and is moved into place only once complete and checked to be
#     19.0; manifests naming the missing views/res_config_settings_views.xml where the file is
#     views/res_config_settings.xml (a defect of some Odoo 19 snapshots) are corrected;
#  4. a virtualenv ODOO_VENV (default /opt/odoo/venv) with Odoo's requirements.txt and phonenumbers,
#     unless find_odoo_python already finds a Python with them (ODOO_PYTHON, ODOO_VENV, ...).
# Root is used through sudo when this user is not root. Messages: one "==>" line per step on stdout,
# errors on stderr.

ODOO_DEBIAN_BUILD_PACKAGES=(build-essential python3-dev python3-venv libpq-dev libldap2-dev
    libsasl2-dev libxml2-dev libxslt1-dev libjpeg-dev zlib1g-dev)

_odoo_step() { printf '==> %s\n' "$*"; }
_odoo_fail() { printf '%s\n' "$@" >&2; return 1; }

# _odoo_deb_installed PACKAGE: true when dpkg has PACKAGE installed.
_odoo_deb_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep "install ok installed" >/dev/null
}

# _odoo_apt_candidate PACKAGE: true when apt can install PACKAGE.
_odoo_apt_candidate() {
    LC_ALL=C apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null
}

# _odoo_apt_lists_empty: true when apt-get update never ran (fresh containers).
_odoo_apt_lists_empty() {
    ! compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null
}

# _odoo_version TREE: print the major.minor version of the Odoo source TREE (from odoo/release.py).
_odoo_version() {
    sed -n "s/^version_info *= *( *'\{0,1\}\([^,']*\)'\{0,1\} *, *\([0-9]*\).*/\1.\2/p" \
        "$1/odoo/release.py" 2>/dev/null | head -n 1
}

# _odoo_python_ok PYTHON: true when PYTHON is at least 3.10 (Odoo 19's minimum).
_odoo_python_ok() {
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1
}

# _odoo_pick_python: print the Python to build the virtualenv with (python3.11 preferred).
_odoo_pick_python() {
    local candidate
    for candidate in python3.11 python3 python3.12 python3.13 python3.10; do
        if command -v "$candidate" >/dev/null 2>&1 && _odoo_python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# _odoo_python_debs PYTHON: print the Debian packages PYTHON needs to build a virtualenv and
# C extensions, when it is a Debian Python other than the default python3 (e.g. python3.11 on
# Ubuntu 24.04 from a PPA).
_odoo_python_debs() {
    local version default
    case "$1" in /usr/bin/*) ;; *) return 0 ;; esac
    version=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 0
    default=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    if [ "$version" != "$default" ]; then
        printf '%s\n' "python$version-venv" "python$version-dev"
    fi
}

# _odoo_writable_parent DIR: true when DIR's parent exists and is writable, or can be created.
_odoo_writable_parent() {
    local parent
    parent=$(dirname "$1")
    while [ ! -e "$parent" ]; do parent=$(dirname "$parent"); done
    [ -d "$parent" ] && [ -w "$parent" ]
}

# _odoo_prepare_parent DIR: create DIR's parent (through sudo, owned by this user, when needed).
_odoo_prepare_parent() {
    local parent
    parent=$(dirname "$1")
    if [ -d "$parent" ]; then
        [ -w "$parent" ] && return 0
        _odoo_fail "Cannot write in $parent: run  sudo chown $(id -un) $parent  or set ODOO_SRC and" \
            "ODOO_VENV to places you can write to."
        return 1
    fi
    mkdir -p "$parent" 2>/dev/null && return 0
    run_as_root install -d -o "$(id -un)" -g "$(id -gn)" "$parent" || {
        _odoo_fail "Could not create $parent."
        return 1
    }
}

# _odoo_apt_available PACKAGE...: print the PACKAGEs apt can install, one a line; wkhtmltopdf is
# left out with a warning when apt has none (it is not in every release).
_odoo_apt_available() {
    local package
    for package in "$@"; do
        if [ "$package" = wkhtmltopdf ] && ! _odoo_apt_candidate wkhtmltopdf; then
            echo "Warning: apt has no wkhtmltopdf here; PDF reports need it" \
                "(https://github.com/wkhtmltopdf/packaging/releases)." >&2
            continue
        fi
        echo "$package"
    done
}

# _odoo_apt_install PACKAGE...: install PACKAGEs in one apt-get call; apt-get update first only when
# the package lists are empty or the install fails.
_odoo_apt_install() {
    local packages=() updated=0 log="${TMPDIR:-/tmp}/l10n_pl_ksef-apt.log"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q)
    : >"$log"
    if _odoo_apt_lists_empty; then
        run_as_root "${apt[@]}" update >>"$log" 2>&1 || { _odoo_apt_failed update "$log"; return 1; }
        updated=1
    fi
    mapfile -t packages < <(_odoo_apt_available "$@")
    [ ${#packages[@]} -gt 0 ] || return 0
    run_as_root "${apt[@]}" install "${packages[@]}" >>"$log" 2>&1 && return 0
    if [ $updated = 0 ]; then
        echo "==> Updating the package lists (apt-get update) and trying again"
        run_as_root "${apt[@]}" update >>"$log" 2>&1 || { _odoo_apt_failed update "$log"; return 1; }
        mapfile -t packages < <(_odoo_apt_available "$@" 2>/dev/null)
        [ ${#packages[@]} -gt 0 ] || return 0
        run_as_root "${apt[@]}" install "${packages[@]}" >>"$log" 2>&1 && return 0
    fi
    _odoo_apt_failed "install ${packages[*]}" "$log"
}

# _odoo_apt_failed WHAT LOG: say that apt-get WHAT failed, with the last lines of its LOG.
_odoo_apt_failed() {
    tail -n 15 "$2" >&2
    _odoo_fail "apt-get $1 failed (whole output in $2): check the network and apt's sources, or install" \
        "those packages yourself and run this command again."
}

# _odoo_check_repo: fail with a message when ODOO_REPO / ODOO_REF cannot be reached.
_odoo_check_repo() {
    local rc=0 said
    said=$(GIT_TERMINAL_PROMPT=0 GIT_SSH_COMMAND=${GIT_SSH_COMMAND:-ssh -o BatchMode=yes} \
        timeout 60 git ls-remote --exit-code "$ODOO_REPO" "$ODOO_REF" 2>&1 >/dev/null) || rc=$?
    said=$(printf '%s\n' "$said" | grep -m 1 -E '^(fatal|error):' || true)
    [ $rc != 124 ] || said="no answer in 60 s"
    case $rc in
        0) return 0 ;;
        2) _odoo_fail "The Odoo repository $ODOO_REPO has no branch or tag '$ODOO_REF': set ODOO_REF to" \
            "its Odoo 19.0 branch." ;;
        *) _odoo_fail "Cannot reach the Odoo repository $ODOO_REPO (branch $ODOO_REF) to install Odoo 19" \
            "into $ODOO_SRC${said:+ (git: $said)}." \
            "Set ODOO_REPO to a reachable mirror (a local clone path works) and ODOO_REF to its branch," \
            "or ODOO_SRC to an existing Odoo 19 source tree." ;;
    esac
}

# _odoo_fix_manifests TREE: some Odoo 19 snapshots have manifests naming
# views/res_config_settings_views.xml where the file is views/res_config_settings.xml.
_odoo_fix_manifests() {
    local manifest addon fixed=()
    for manifest in "$1"/addons/*/__manifest__.py; do
        grep -q "views/res_config_settings_views\.xml" "$manifest" || continue
        addon=$(dirname "$manifest")
        if [ -e "$addon/views/res_config_settings_views.xml" ] || [ ! -f "$addon/views/res_config_settings.xml" ]; then
            continue
        fi
        sed -i 's#views/res_config_settings_views\.xml#views/res_config_settings.xml#' "$manifest" || return 1
        fixed+=("$(basename "$addon")")
    done
    if [ ${#fixed[@]} -gt 0 ]; then
        echo "==> Fixed the manifests naming the missing views/res_config_settings_views.xml" \
            "instead of views/res_config_settings.xml: ${fixed[*]}"
    fi
}

# _odoo_clone: clone ODOO_REPO's ODOO_REF into ODOO_SRC through a temporary sibling directory.
_odoo_clone() {
    local parent base tmp version depth
    parent=$(dirname "$ODOO_SRC")
    base=$(basename "$ODOO_SRC")
    _odoo_step "Installing Odoo 19.0 from $ODOO_REPO (branch $ODOO_REF) into $ODOO_SRC"
    _odoo_prepare_parent "$ODOO_SRC" || return 1
    # Leftovers of an interrupted clone.
    rm -rf "$parent/.$base.clone."*
    tmp=$(mktemp -d "$parent/.$base.clone.XXXXXX") || return 1
    # Shallow from a URL; a local repository is cloned by hard links (git ignores --depth there).
    # Only Odoo's own directories (and the top-level files) are checked out: snapshots and forks
    # sometimes carry more (a committed virtualenv, custom addons), not always complete.
    depth=(--depth 1)
    [ -d "$ODOO_REPO" ] && depth=(--single-branch)
    if ! { GIT_TERMINAL_PROMPT=0 git clone --no-checkout "${depth[@]}" --branch "$ODOO_REF" "$ODOO_REPO" "$tmp/src" \
            && git -C "$tmp/src" sparse-checkout set --cone addons odoo setup debian doc 2>"$tmp/checkout.log" \
            && git -C "$tmp/src" checkout -q "$ODOO_REF" 2>>"$tmp/checkout.log"; }; then
        cat "$tmp/checkout.log" >&2 2>/dev/null || true
        rm -rf "$tmp"
        _odoo_fail "Cloning $ODOO_REPO (branch $ODOO_REF) failed (git's message is above): run this command" \
            "again to retry, or set ODOO_REPO to another mirror (or ODOO_SRC to an existing Odoo 19 tree)."
        return 1
    fi
    version=$(_odoo_version "$tmp/src")
    if [ "$version" != 19.0 ] || [ ! -f "$tmp/src/odoo-bin" ]; then
        rm -rf "$tmp"
        _odoo_fail "$ODOO_REPO (branch $ODOO_REF) holds Odoo '${version:-unknown}', not 19.0: set ODOO_REF" \
            "to its 19.0 branch (or ODOO_REPO to an Odoo 19 repository)."
        return 1
    fi
    _odoo_fix_manifests "$tmp/src" || { rm -rf "$tmp"; return 1; }
    if [ -d "$ODOO_SRC" ]; then
        rmdir "$ODOO_SRC" || { rm -rf "$tmp"; return 1; }
    fi
    mv "$tmp/src" "$ODOO_SRC" && rm -rf "$tmp"
}

# _odoo_pip_install PYTHON ARGS...: quiet pip; on failure, the end of its output and what to do.
_odoo_pip_install() {
    local python=$1 log
    shift
    log=$(mktemp "${TMPDIR:-/tmp}/odoo-pip.XXXXXX.log") || return 1
    if "$python" -m pip install --quiet --disable-pip-version-check "$@" >"$log" 2>&1; then
        rm -f "$log"
        return 0
    fi
    {
        tail -n 25 "$log"
        echo
        echo "pip could not install Odoo's requirements into $(dirname "$(dirname "$python")") (full log: $log)."
        echo "Usually a Debian package to build them with is missing or PyPI cannot be reached: fix that and"
        echo "run this command again (it carries on where it stopped), or set ODOO_PYTHON to a Python that has them."
    } >&2
    return 1
}

# _odoo_build_venv PYTHON: create ODOO_VENV with PYTHON (unless a usable one is there) and install
# Odoo's requirements, phonenumbers (Peppol) and websocket-client (browser tests) into it.
_odoo_build_venv() {
    local python=$1
    if [ -e "$ODOO_VENV" ] && [ ! -f "$ODOO_VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$ODOO_VENV" 2>/dev/null)" ]; then
        _odoo_fail "ODOO_VENV=$ODOO_VENV exists and is not a virtualenv: set ODOO_VENV to another place."
        return 1
    fi
    if [ -f "$ODOO_VENV/pyvenv.cfg" ] && ! _odoo_python_ok "$ODOO_VENV/bin/python"; then
        rm -rf "$ODOO_VENV"
    fi
    _odoo_step "Installing Odoo's Python requirements into the virtualenv $ODOO_VENV" \
        "($("$python" --version 2>&1)); this takes several minutes"
    if [ ! -x "$ODOO_VENV/bin/python" ]; then
        _odoo_prepare_parent "$ODOO_VENV" || return 1
        "$python" -m venv "$ODOO_VENV" || {
            _odoo_fail "Could not create the virtualenv $ODOO_VENV with $python."
            return 1
        }
    fi
    # Removed once pip has succeeded: a virtualenv with this file is completed on the next run.
    touch "$ODOO_VENV/.odoo-requirements-incomplete"
    _odoo_pip_install "$ODOO_VENV/bin/python" -r "$ODOO_SRC/requirements.txt" phonenumbers websocket-client || return 1
    rm -f "$ODOO_VENV/.odoo-requirements-incomplete"
}

# _odoo_python_state VENV_EXPLICIT: print what the Odoo Python needs: "ok PYTHON", "phonenumbers
# PYTHON" (a virtualenv that lacks only phonenumbers), "nophonenumbers PYTHON" (ODOO_PYTHON lacks it)
# or "venv" (ODOO_VENV is to be built). With VENV_EXPLICIT=1 (ODOO_VENV given by the user) only
# ODOO_PYTHON or ODOO_VENV's Python count, not another one find_odoo_python would find.
_odoo_python_state() {
    local python explicit_python=""
    [ -n "${ODOO_PYTHON:-}" ] && explicit_python=$(command -v "$ODOO_PYTHON" 2>/dev/null || true)
    if [ ! -f "$ODOO_SRC/odoo-bin" ] || ! python=$(find_odoo_python); then
        echo venv
        return 0
    fi
    if [ "$python" = "$ODOO_VENV/bin/python" ] && [ -e "$ODOO_VENV/.odoo-requirements-incomplete" ]; then
        echo venv
        return 0
    fi
    if [ "$1" = 1 ] && [ "$python" != "$ODOO_VENV/bin/python" ] && [ "$python" != "$explicit_python" ]; then
        echo venv
        return 0
    fi
    if "$python" -c "import phonenumbers" >/dev/null 2>&1; then
        echo "ok $python"
    elif "$python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' >/dev/null 2>&1 \
        && [ -w "$("$python" -c 'import sys; print(sys.prefix)')" ]; then
        echo "phonenumbers $python"
    elif [ "$python" = "$explicit_python" ]; then
        echo "nophonenumbers $python"
    else
        echo venv
    fi
}

# install_odoo: install whatever is missing (see the top of this file).
install_odoo() {
    local venv_explicit=0 debian=0 need_clone=0 repo_checked=0 state python version package
    [ -n "${ODOO_VENV:-}" ] && venv_explicit=1
    ODOO_SRC=${ODOO_SRC:-/opt/odoo/19.0}
    ODOO_VENV=${ODOO_VENV:-/opt/odoo/venv}
    ODOO_REPO=${ODOO_REPO:-https://github.com/odoo/odoo.git}
    ODOO_REF=${ODOO_REF:-19.0}
    case $ODOO_SRC in /*) ;; *) ODOO_SRC=$PWD/$ODOO_SRC ;; esac
    case $ODOO_VENV in /*) ;; *) ODOO_VENV=$PWD/$ODOO_VENV ;; esac
    local debs=() missing=() root_cmds=()
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 && debian=1

    # What is there
    if [ -f "$ODOO_SRC/odoo-bin" ]; then
        version=$(_odoo_version "$ODOO_SRC")
        if [ "$version" != 19.0 ]; then
            _odoo_fail "$ODOO_SRC holds Odoo '${version:-unknown}', not 19.0: set ODOO_SRC to an Odoo 19 source" \
                "tree, or to a new directory to install Odoo 19 there."
            return 1
        fi
    else
        if [ -e "$ODOO_SRC" ] && { [ ! -d "$ODOO_SRC" ] || [ -n "$(ls -A "$ODOO_SRC" 2>/dev/null)" ]; }; then
            _odoo_fail "$ODOO_SRC exists but is not an Odoo source tree (no odoo-bin): set ODOO_SRC to an" \
                "Odoo 19 source tree, or to a new directory to install Odoo 19 there."
            return 1
        fi
        need_clone=1
    fi
    state=$(_odoo_python_state "$venv_explicit")
    if [ "${state%% *}" = nophonenumbers ]; then
        _odoo_fail "ODOO_PYTHON=$ODOO_PYTHON lacks phonenumbers (Odoo's Peppol module, installed with a" \
            "Polish company, needs it): run  $ODOO_PYTHON -m pip install phonenumbers, or unset ODOO_PYTHON" \
            "to have a virtualenv built in $ODOO_VENV."
        return 1
    fi

    # What apt must install
    if ! { command -v psql >/dev/null 2>&1 && pg_isready -q >/dev/null 2>&1; } \
        && ! { command -v pg_ctlcluster >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 \
            && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }; then
        debs+=(postgresql)
        missing+=("PostgreSQL (server and psql)")
    fi
    if [ "$state" = venv ]; then
        python=$(_odoo_pick_python || true)
        if [ "$debian" = 1 ]; then
            debs+=("${ODOO_DEBIAN_BUILD_PACKAGES[@]}")
            [ -z "$python" ] || mapfile -t -O "${#debs[@]}" debs < <(_odoo_python_debs "$python")
        elif [ -z "$python" ]; then
            missing+=("Python 3.10 or newer with venv")
        fi
    fi
    if [ $need_clone = 1 ] && ! command -v git >/dev/null 2>&1; then
        debs+=(git)
        missing+=(git)
    fi
    if ! command -v wkhtmltopdf >/dev/null 2>&1; then
        if [ "$debian" = 0 ]; then
            echo "Warning: wkhtmltopdf is missing; PDF reports need it." >&2
        elif _odoo_apt_lists_empty || _odoo_apt_candidate wkhtmltopdf; then
            debs+=(wkhtmltopdf)
        else
            _odoo_apt_available wkhtmltopdf >/dev/null
        fi
    fi
    if [ "$debian" = 1 ]; then
        missing=()
        for package in "${debs[@]}"; do
            _odoo_deb_installed "$package" || missing+=("$package")
        done
    elif [ ${#missing[@]} -gt 0 ]; then
        _odoo_fail "Missing: ${missing[*]}. This command installs them with apt-get on Debian/Ubuntu only:" \
            "install them with this system's package manager, then run this command again."
        return 1
    fi

    # The repository, before spending time on packages
    if [ $need_clone = 1 ] && command -v git >/dev/null 2>&1; then
        _odoo_check_repo || return 1
        repo_checked=1
    fi

    # Root
    if [ ${#missing[@]} -gt 0 ]; then
        root_cmds+=("apt-get update && apt-get install -y ${missing[*]}")
    fi
    if [ $need_clone = 1 ] && ! _odoo_writable_parent "$ODOO_SRC"; then
        root_cmds+=("install -d -o $(id -un) -g $(id -gn) $(dirname "$ODOO_SRC")")
    fi
    if [ "$state" = venv ] && [ ! -w "$ODOO_VENV" ] && ! _odoo_writable_parent "$ODOO_VENV"; then
        root_cmds+=("install -d -o $(id -un) -g $(id -gn) $(dirname "$ODOO_VENV")")
    fi
    if [ ${#root_cmds[@]} -gt 0 ] && [ "$(id -u)" != 0 ] && { ! command -v sudo >/dev/null 2>&1 || ! sudo -v; }; then
        if [ "${missing[*]}" = wkhtmltopdf ] && [ ${#root_cmds[@]} = 1 ]; then
            # only the PDF tool is missing: not worth stopping for
            echo "Warning: wkhtmltopdf is missing and installing it needs root (apt-get install wkhtmltopdf);" \
                "PDF reports need it." >&2
            missing=()
            root_cmds=()
        fi
    fi
    if [ ${#root_cmds[@]} -gt 0 ] && [ "$(id -u)" != 0 ]; then
        if ! command -v sudo >/dev/null 2>&1 || ! sudo -v; then
            {
                echo "Setting up Odoo 19 needs root, and you are neither root nor able to use sudo. Run as root:"
                printf '    %s\n' "${root_cmds[@]}"
                echo "then run this command again. Or point ODOO_SRC at an existing Odoo 19 source tree and"
                echo "ODOO_PYTHON (or ODOO_VENV) at its Python, or ODOO_SRC and ODOO_VENV at places you can write to."
            } >&2
            return 1
        fi
    fi

    # 1. Debian packages
    if [ ${#missing[@]} -gt 0 ]; then
        _odoo_step "Installing Debian packages: ${missing[*]}"
        _odoo_apt_install "${missing[@]}" || return 1
    fi

    # 2. PostgreSQL running, with a superuser role for this user
    if ! ensure_postgres; then
        {
            if pg_isready -q >/dev/null 2>&1; then
                echo "PostgreSQL is running but $(id -un) cannot connect to it. As root, give it a role:"
            else
                echo "PostgreSQL is not running and could not be started. As root, start it and give $(id -un) a role:"
                echo "    pg_ctlcluster $(postgres_cluster || true) start"
            fi
            echo "    su postgres -c 'createuser -s $(id -un)'"
            echo "or set PGHOST/PGPORT/PGUSER/PGPASSWORD to a server you can use."
        } >&2
        return 1
    fi

    # 3. Odoo source
    if [ $need_clone = 1 ]; then
        [ $repo_checked = 1 ] || _odoo_check_repo || return 1
        _odoo_clone || return 1
        state=$(_odoo_python_state "$venv_explicit")
    fi

    # 4. Python
    case $state in
        venv)
            python=$(_odoo_pick_python) || {
                _odoo_fail "No Python 3.10 or newer found (Odoo 19 needs it): install python3.11 or set ODOO_PYTHON."
                return 1
            }
            _odoo_build_venv "$python" || return 1
            ;;
        phonenumbers*)
            python=${state#* }
            _odoo_step "Installing phonenumbers (for Odoo's Peppol module) with $python"
            _odoo_pip_install "$python" phonenumbers || return 1
            ;;
    esac
    python=$(find_odoo_python) || {
        _odoo_fail "Odoo 19 is at $ODOO_SRC but no Python imports it with its requirements" \
            "(tried ODOO_PYTHON, $ODOO_VENV/bin/python, /opt/odoo/venv/bin/python, python3)."
        return 1
    }
    _odoo_step "Odoo 19 found at $ODOO_SRC ($("$python" --version 2>&1) at $python)"
}
