"""Shared fixtures of the pure-Python tests (no Odoo needed).

The repository root (the addon) goes on ``sys.path`` so that ``ksef_core`` is
importable as a top-level package; ``SHARED_SPEC`` points at the official KSeF
material the tests read (samples, XSDs, test vectors), copied into ``tests/spec`` so that a
fresh clone needs nothing else (``KSEF_SPEC_DIR`` may point elsewhere; the addon never reads it).
"""

import os
import sys
from pathlib import Path

import pytest

ADDON_ROOT = Path(__file__).resolve().parents[2]
if str(ADDON_ROOT) not in sys.path:
    sys.path.insert(0, str(ADDON_ROOT))
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

SHARED_SPEC = Path(os.environ.get("KSEF_SPEC_DIR", ADDON_ROOT / "tests" / "spec"))


@pytest.fixture(scope="session")
def spec_dir():
    if not SHARED_SPEC.is_dir():
        pytest.skip("official KSeF material not found at %s (set KSEF_SPEC_DIR)" % SHARED_SPEC)
    return SHARED_SPEC


@pytest.fixture(scope="session")
def vectors(spec_dir):
    import json

    return json.loads((spec_dir / "test-vectors" / "vectors.json").read_text(encoding="utf-8"))


@pytest.fixture()
def simulator():
    """A fresh KSeF simulator on a free localhost port, stopped after the test.

    Yields the object returned by ``ksef_core.simulator.testing.running_simulator``
    (``.base_url``, ``.sim`` for the Python control API).
    """
    from ksef_core.simulator.testing import running_simulator

    with running_simulator() as server:
        yield server


@pytest.fixture(scope="module")
def shared_simulator():
    """One simulator per test module, for tests that only read or add independent data."""
    from ksef_core.simulator.testing import running_simulator

    with running_simulator() as server:
        yield server
