"""Fault modes of the simulator: lost answers, 5xx, slow answers, 429, key rotation, unreachable host."""

import pytest

from ksef_core.client import KsefClient, KsefRateLimited, KsefUnavailable, KsefUnknownOutcome

NIP = "5265877635"
SEND = "/sessions/online/*/invoices"


def _session_hashes(client, reference):
    return [item["invoiceHash"] for item in client.online.list_invoices(reference)]


def test_lost_answer_after_acceptance_ends_with_one_ksef_number(simulator, make_client, make_invoice, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps)
    client.online.get()  # open the session first so the fault hits the send itself
    simulator.sim.faults.drop(SEND, method="POST")
    result = client.send_invoices([("lost", make_invoice())])["lost"]
    assert result.ok and result.ksef_number
    hashes = _session_hashes(client, result.session_reference)
    assert hashes.count(result.invoice_hash) == 1  # KSeF got it once, the client did not resend


def test_server_error_on_send_is_checked_then_resent_once(simulator, make_client, make_invoice, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps)
    client.online.get()
    simulator.sim.faults.error(SEND, status=500, method="POST")  # handler not run: KSeF does not have it
    result = client.send_invoices([("x", make_invoice())])["x"]
    assert result.ok
    assert _session_hashes(client, result.session_reference).count(result.invoice_hash) == 1


def test_503_is_retried_with_backoff(simulator, make_client, make_invoice, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps)
    simulator.sim.faults.error("/sessions/*/invoices/*", status=503, count=2, method="GET")
    simulator.sim.faults.error(SEND, status=503, count=1, method="POST")
    result = client.send_invoices([("x", make_invoice())])["x"]
    assert result.ok
    assert len([s for s in sleeps.calls if s >= 0.25]) >= 3  # three retry delays (backoff >= base/2)


def test_503_everywhere_ends_as_unavailable(simulator, make_client, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, max_attempts=3)
    simulator.sim.faults.error("/auth/challenge", status=503, count=None)
    with pytest.raises(KsefUnavailable) as err:
        client.check_connection()
    assert err.value.http_status == 503 and "spróbuj ponownie" in err.value.message_pl
    assert len(sleeps.calls) == 2


def test_slow_answer_times_out_and_recovers(simulator, make_client, make_invoice, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, timeout=(2.0, 0.5))
    client.online.get()
    # the send is processed, but the answer comes too late
    simulator.sim.faults.delay(SEND, seconds=1.5, method="POST", after=True)
    result = client.send_invoices([("slow", make_invoice())])["slow"]
    assert result.ok
    assert _session_hashes(client, result.session_reference).count(result.invoice_hash) == 1
    # a slow idempotent read is simply repeated
    simulator.sim.faults.delay("/sessions/*", seconds=1.5, method="GET")
    assert client.online.session_state(result.session_reference).code == 100


def test_429_waits_when_allowed(simulator, make_client, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, max_wait_seconds=10)
    client.check_connection()
    simulator.sim.faults.error("/sessions", status=429, method="GET", retry_after=7)
    client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert 7.0 in sleeps.calls


def test_429_raises_typed_error_for_a_cron(simulator, make_client, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, max_wait_seconds=0)
    client.check_connection()
    simulator.sim.faults.error("/sessions", status=429, method="GET", retry_after=120)
    with pytest.raises(KsefRateLimited) as err:
        client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
    assert err.value.retry_after == 120 and "120" in err.value.message_en
    assert 120 not in sleeps.calls


def test_real_rate_limits_are_honoured(simulator, make_client, sleeps):
    simulator.sim.set_rate_limits(True, scale=0.1)  # 1 session open per second
    sleeps.sim_clock = simulator.sim.clock  # waiting lets simulated time pass
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, max_wait_seconds=60)
    for _ in range(3):
        client.online.open()
    assert any(s >= 1 for s in sleeps.calls)


def test_key_rotation_refetches_keys_once(simulator, make_client, make_invoice):
    client = make_client(simulator, simulator.sim.mint_token(NIP))
    client.send_invoices([("1", make_invoice())], close=True)
    counter = client.transport.counter()
    simulator.sim.rotate_keys(emergency=True)
    result = client.send_invoices([("2", make_invoice())])["2"]
    assert result.ok
    assert counter.by_key.get("GET /v2/security/public-key-certificates") == 1
    assert counter.by_key.get("POST /v2/sessions/online") == 2  # 21470, then success


def test_unreachable_host_is_reported_after_retries(sleeps):
    client = KsefClient(custom_api_url="http://127.0.0.1:9/v2", sleep=sleeps, max_attempts=2)
    with pytest.raises(KsefUnavailable) as err:
        client.transport.request("GET", "/security/public-key-certificates")
    assert err.value.code == "connection_failed" and "internet" in err.value.message_en
    assert len(sleeps.calls) == 1


def test_unknown_outcome_is_reported_when_it_cannot_be_checked(simulator, make_client, make_invoice, sleeps):
    client = make_client(simulator, simulator.sim.mint_token(NIP), sleep=sleeps, max_attempts=2)
    session = client.online.get()
    simulator.sim.faults.drop(SEND, method="POST")
    simulator.sim.faults.error("/sessions/*/invoices", status=503, count=2, method="GET")
    with pytest.raises(KsefUnknownOutcome) as err:
        client.online.send(session, make_invoice(), own_id="later")
    assert err.value.details["session_reference"] == session.reference
    assert "nie wiadomo" in err.value.message_pl
    # later (e.g. the next cron run) the caller reconciles instead of resending
    found = client.online.find(session.reference, err.value.details["invoice_hash"], own_id="later")
    assert found is not None and client.online.wait(found).ok and found.own_id == "later"
