"""Simulator faults scoped to one context: one simulator serving many companies fails for some only."""

import pytest

from ksef_core.client import KsefClient
from ksef_core.client.errors import KsefRateLimited, KsefUnavailable
from ksef_core.simulator.testing import running_simulator

NIP_A = "5265877635"
NIP_B = "7680002466"


def client(srv, nip, token):
    return KsefClient(custom_api_url=srv.base_url, nip=nip, ksef_token=token, timeout=5.0, max_wait_seconds=0)


def test_a_fault_of_one_context_spares_the_others():
    with running_simulator() as srv:
        token_a = srv.sim.mint_token(NIP_A, ("InvoiceWrite", "InvoiceRead"))
        token_b = srv.sim.mint_token(NIP_B, ("InvoiceWrite", "InvoiceRead"))
        srv.sim.faults.error("/sessions/online", method="POST", status=429, count=None, retry_after=60, context=NIP_B)
        with client(srv, NIP_A, token_a) as ok:
            session = ok.online.open()
            assert session.reference
        with client(srv, NIP_B, token_b) as limited, pytest.raises(KsefRateLimited):
            limited.online.open()
        assert [f["context"] for f in srv.sim.faults.list()] == [NIP_B], "an unlimited fault stays"


def test_a_login_asking_for_the_context_fails_too():
    with running_simulator() as srv:
        token_a = srv.sim.mint_token(NIP_A, ("InvoiceWrite",))
        token_b = srv.sim.mint_token(NIP_B, ("InvoiceWrite",))
        srv.sim.faults.error("/auth/ksef-token", method="POST", status=500, count=None, context=NIP_B)
        with client(srv, NIP_A, token_a) as ok:
            ok.online.open()
        with client(srv, NIP_B, token_b) as down, pytest.raises(KsefUnavailable):
            down.online.open()
