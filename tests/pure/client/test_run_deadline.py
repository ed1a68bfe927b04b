"""One deadline per run caps every wait of the client; a long 5xx Retry-After is not slept (simulator)."""

import pytest

from ksef_core.client import KsefClient
from ksef_core.client.errors import KsefApiError, KsefTimeout

NIP = "5265877635"
STATUS = "/sessions/*"  # any GET under /sessions: the session status the client asks for


def _client(make_client, simulator, sleeps, **kw):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, **kw)
    reference = client.online.get().reference  # signed in, a session opened
    return client, reference


def test_a_5xx_asking_to_wait_900_s_is_not_slept(simulator, make_client, sleeps):
    client, reference = _client(make_client, simulator, sleeps)
    sleeps.calls.clear()
    simulator.sim.faults.error(STATUS, status=503, method="GET", count=None, retry_after=900)
    with pytest.raises(KsefApiError) as info:
        client.online.status(reference)
    assert info.value.http_status == 503
    assert sleeps.calls == [], "no 900 s sleep: the run ends and the cron backs off"


def test_the_run_deadline_caps_every_wait(simulator, make_client, sleeps):
    client, reference = _client(make_client, simulator, sleeps)
    sleeps.calls.clear()
    # the recorded sleeps are the only time that passes
    client.transport.monotonic = lambda: 1000.0 + sum(sleeps.calls)
    client.transport.set_deadline(25)
    simulator.sim.faults.error(STATUS, status=503, method="GET", count=None, retry_after=20)
    with pytest.raises(KsefTimeout) as info:
        client.online.status(reference)
    assert info.value.code == "run_deadline"
    assert sum(sleeps.calls) <= 25, "no wait ends past the deadline"
    assert "następny przebieg" in info.value.message_pl


def test_short_waits_still_happen_within_the_deadline(simulator, make_client, sleeps):
    client, reference = _client(make_client, simulator, sleeps, deadline_seconds=60)
    sleeps.calls.clear()
    simulator.sim.faults.error(STATUS, status=503, method="GET", count=1, retry_after=2)
    assert client.online.status(reference)["status"]["code"] == 100
    assert sleeps.calls == [2.0]
    assert isinstance(client, KsefClient) and client.transport.deadline is not None
