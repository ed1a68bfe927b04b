"""Test helper: ``with running_simulator(**options) as server: ...``."""

import contextlib

from .app import Simulator
from .server import SimulatorServer


class RunningSimulator:
    """What ``running_simulator`` yields: URLs (``base_url``, ``latarnia_url``, ``nbp_url``, ``admin_url``)
    plus ``.sim`` (the Python control API)."""

    def __init__(self, sim, server):
        self.sim = sim
        self.server = server
        self.base_url = server.base_url
        self.root_url = server.root_url
        self.latarnia_url = server.latarnia_url
        self.nbp_url = server.root_url + "/nbp"  # NBP Web API stand-in: NbpClient(base_url=...)
        self.admin_url = server.admin_url
        self.port = server.port


@contextlib.contextmanager
def running_simulator(
    rate_limits=False, data_dir=None, clock_start=None, frozen=False, host="127.0.0.1", port=0, seed_dir=None
):
    """Start a simulator on a free port and stop it afterwards.

    :param rate_limits: False (default), True (production table) or a scale factor
    :param data_dir: persistence directory (None = memory only)
    :param clock_start: initial simulated time (datetime or ISO text)
    :param frozen: freeze the clock at start
    :param seed_dir: directory handed to the ``seed`` hooks of the invoice side
    """
    sim = Simulator(data_dir=data_dir, rate_limits=rate_limits, clock_start=clock_start, frozen=frozen)
    if seed_dir:
        sim.seed(seed_dir)
    server = SimulatorServer(sim, host=host, port=port).start()
    try:
        yield RunningSimulator(sim, server)
    finally:
        server.stop()
