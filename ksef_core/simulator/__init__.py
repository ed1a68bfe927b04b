"""KSeF 2.0 simulator: an HTTP server speaking the KSeF API 2.0 for tests, benchmarks and the demo.

See ``README.md`` in this directory. Entry points: :class:`~.app.Simulator`,
:class:`~.server.SimulatorServer`, :func:`~.testing.running_simulator`, ``python -m ksef_core.simulator``.
"""

from .app import Simulator
from .server import SimulatorServer
from .testing import running_simulator

__all__ = ["Simulator", "SimulatorServer", "running_simulator"]
