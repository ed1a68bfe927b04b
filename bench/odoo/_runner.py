"""Runs one benchmark file inside Odoo; called by scripts/bench.sh, not by hand.

Usage: python _runner.py BENCH_FILE [ODOO_OPTION ...] -- [BENCH_ARG ...]

Loads Odoo from $ODOO_SRC, parses the Odoo options (database, addons path, ...), opens the
database's registry and a cursor, and calls ``run(env, args)`` of BENCH_FILE with a superuser
environment and the benchmark's own arguments. The transaction is always rolled back: a
benchmark leaves nothing behind. Odoo logs to stderr; stdout belongs to the benchmark.
Exit status: 1 when ``run`` raises, the int ``run`` returns (0 for None) otherwise.
"""

import importlib.util
import os
import sys
import threading
import traceback


def load_benchmark(path):
    spec = importlib.util.spec_from_file_location("ksef_bench_" + os.path.basename(path)[:-3].replace("-", "_"), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise SystemExit("%s defines no run(env, args) function." % path)
    return module


def main(argv):
    if len(argv) < 1:
        raise SystemExit(__doc__)
    bench_file, rest = argv[0], argv[1:]
    split = rest.index("--") if "--" in rest else len(rest)
    odoo_args, bench_args = rest[:split], rest[split + 1 :]

    sys.path.insert(0, os.environ.get("ODOO_SRC", "/opt/odoo/19.0"))
    from odoo import api
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(odoo_args, setup_logging=True)
    dbname = config["db_name"][0] if isinstance(config["db_name"], list) else config["db_name"]
    benchmark = load_benchmark(bench_file)

    threading.current_thread().dbname = dbname
    registry = Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        env = api.Environment(cr, api.SUPERUSER_ID, env["res.users"].context_get())
        try:
            result = benchmark.run(env, bench_args)
        except SystemExit:
            cr.rollback()
            raise
        except Exception:
            cr.rollback()
            sys.stdout.flush()
            traceback.print_exc()
            return 1
        cr.rollback()
    sys.stdout.flush()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
