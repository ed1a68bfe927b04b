"""CLI: ``python -m ksef_core.simulator --port 8765 [--host H] [--data-dir D] [--rate-limits on|off|SCALE]
[--seed-dir D] [--clock ISO] [--latarnia STATUS]`` (run from the addon root)."""

import argparse
import contextlib
import logging
import sys

from .app import Simulator
from .server import SimulatorServer


def _rate(value):
    low = value.lower()
    if low in ("on", "true", "yes", "1"):
        return True
    if low in ("off", "false", "no", "0"):
        return False
    try:
        scale = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use on, off or a positive number")
    if scale <= 0:
        raise argparse.ArgumentTypeError("the scale must be positive")
    return scale


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ksef_core.simulator", description="KSeF 2.0 simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data-dir", default=None, help="persist state here (survives restarts)")
    parser.add_argument("--rate-limits", type=_rate, default=True, help="on (default), off or a scale factor")
    parser.add_argument("--seed-dir", default=None, help="invoices to load at start (see README)")
    parser.add_argument("--clock", default=None, help="initial simulated time, ISO-8601 (default: now)")
    parser.add_argument("--latarnia", default=None, help="initial Latarnia status")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    sim = Simulator(data_dir=args.data_dir, rate_limits=args.rate_limits, clock_start=args.clock)
    if args.latarnia:
        sim.set_latarnia(args.latarnia)
    if args.seed_dir:
        sim.seed(args.seed_dir)
    server = SimulatorServer(sim, host=args.host, port=args.port)
    sys.stdout.write("KSeF simulator API: %s\n" % server.base_url)
    sys.stdout.write("Latarnia: %s   admin: %s\n" % (server.latarnia_url, server.admin_url))
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
