"""Fixtures of the client tests: sample invoices and clients bound to the simulator."""

import itertools

import pytest

from ksef_core.client import KsefClient, PollPolicy

NIP = "5265877635"
BUYER_NIP = "1111111111"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def sample_xml(spec_dir):
    return (spec_dir / "samples" / "fa3" / "official-mf" / "FA_3_Przyklad_1.xml").read_bytes()


@pytest.fixture(scope="session")
def make_invoice(sample_xml):
    """``make_invoice(seller_nip=NIP, number=None, buyer_nip=BUYER_NIP)`` → FA(3) bytes with a unique P_2."""

    def make(seller_nip=NIP, number=None, buyer_nip=BUYER_NIP):
        number = number or "CLI/%d" % next(_counter)
        xml = sample_xml.replace(b"<NIP>1111111111</NIP>", b"<NIP>%s</NIP>" % buyer_nip.encode(), 1)
        xml = xml.replace(b"<NIP>9999999999</NIP>", b"<NIP>%s</NIP>" % seller_nip.encode(), 1)
        return xml.replace(b"<P_2>FV2026/02/150</P_2>", b"<P_2>%s</P_2>" % number.encode())

    return make


class Sleeps:
    """Records sleeps instead of waiting long (short real sleeps keep the simulator's clock honest)."""

    def __init__(self):
        self.calls = []
        self.sim_clock = None  # set to the simulator's clock to let simulated time pass instead

    def __call__(self, seconds):
        import time

        self.calls.append(seconds)
        if self.sim_clock is not None:
            self.sim_clock.advance(seconds)
        time.sleep(min(seconds, 0.05))


@pytest.fixture()
def sleeps():
    return Sleeps()


FAST_POLL = PollPolicy(initial=0.02, factor=1.5, max_delay=0.2, timeout=20.0)


@pytest.fixture()
def make_client():
    """``make_client(server, token=None, nip=NIP, **kw)`` → KsefClient on the simulator."""
    clients = []

    def make(server, token=None, nip=NIP, **kw):
        kw.setdefault("poll_policy", FAST_POLL)
        kw.setdefault("clock", server.sim.clock.now)
        kw.setdefault("timeout", (3.0, 10.0))
        client = KsefClient(custom_api_url=server.base_url, nip=nip, ksef_token=token, **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
