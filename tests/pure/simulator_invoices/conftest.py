"""Fixtures of the invoice-side simulator tests (helpers live in ``siminv_helpers``)."""

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.append(HERE)  # appended: must not shadow tests/pure/conftest.py for ``import conftest``

from siminv_helpers import BUYER_NIP, SAMPLES, SELLER_NIP, Api  # noqa: E402


@pytest.fixture()
def seller(simulator):
    """The seller of the official samples, logged in with InvoiceWrite + InvoiceRead."""
    return Api(simulator, SELLER_NIP)


@pytest.fixture()
def buyer(simulator):
    """The buyer of the official samples, on the same simulator."""
    return Api(simulator, BUYER_NIP)


@pytest.fixture(autouse=True)
def _need_samples():
    if not SAMPLES.is_dir():
        pytest.skip("official KSeF samples not found at %s (set KSEF_SPEC_DIR)" % SAMPLES)
