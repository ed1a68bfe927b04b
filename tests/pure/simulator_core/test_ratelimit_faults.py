"""Rate limits (429 + Retry-After, recovery via the clock) and faults on demand."""

import pytest
import requests

NIP = "5265877635"


def test_public_endpoint_limited_per_second(api):
    api.sim.clock.freeze()
    api.sim.set_rate_limits(True)
    for _ in range(60):
        assert api.http.post(api.url("/auth/challenge")).status_code == 200
    resp = api.http.post(api.url("/auth/challenge"))
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "1"
    assert resp.json()["status"]["code"] == 429
    api.sim.clock.advance(1.01)
    assert api.http.post(api.url("/auth/challenge")).status_code == 200


def test_minute_window_and_problem_details(api):
    tokens = api.login(api.sim.mint_token(NIP))
    api.sim.clock.freeze()
    api.sim.set_rate_limits(True)  # GET /tokens: 10/s, 30/min, 120/h
    for _second in range(3):
        for _ in range(10):
            assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200
        api.sim.clock.advance(1)
    resp = api.http.get(api.url("/tokens"), headers={**api.bearer(tokens), "X-Error-Format": "problem-details"})
    assert resp.status_code == 429
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json()["status"] == 429
    retry = int(resp.headers["Retry-After"])
    assert 50 <= retry <= 60
    api.sim.clock.advance(retry - 2)
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 429
    api.sim.clock.advance(2)
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200


def test_limits_are_per_context(api):
    api.sim.clock.freeze()
    api.sim.set_rate_limits(True, scale=0.1)  # GET /tokens: 1/s
    first = api.login(api.sim.mint_token(NIP))
    second = api.login(api.sim.mint_token("5272527149"), nip="5272527149")
    assert api.http.get(api.url("/tokens"), headers=api.bearer(first)).status_code == 200
    assert api.http.get(api.url("/tokens"), headers=api.bearer(first)).status_code == 429
    assert api.http.get(api.url("/tokens"), headers=api.bearer(second)).status_code == 200
    api.sim.set_rate_limits(False)
    assert api.http.get(api.url("/tokens"), headers=api.bearer(first)).status_code == 200


def test_error_fault_for_n_calls(api):
    api.sim.faults.error("/security/public-key-certificates", status=503, count=2)
    assert api.http.get(api.url("/security/public-key-certificates")).status_code == 503
    assert api.http.get(api.url("/security/public-key-certificates")).status_code == 503
    assert api.http.get(api.url("/security/public-key-certificates")).status_code == 200


def test_error_fault_after_letting_calls_through(api):
    def statuses(count):
        return [api.http.get(api.url("/security/public-key-certificates")).status_code for _ in range(count)]

    api.sim.faults.error("/security/public-key-certificates", status=503, count=1, skip=2)
    assert statuses(4) == [200, 200, 503, 200]
    requests.post(api.server.admin_url + "/faults", json={"kind": "error", "path": "/security/*", "skip": 1})
    assert statuses(3) == [200, 503, 200]


def test_error_fault_by_template_and_method(api):
    fid = api.sim.faults.error("/auth/{referenceNumber}", status=500, count=None, method="GET")
    init = api.start_token_auth(api.sim.mint_token(NIP)).json()
    resp = api.http.get(
        api.url("/auth/" + init["referenceNumber"]),
        headers={"Authorization": "Bearer " + init["authenticationToken"]["token"]},
    )
    assert resp.status_code == 500
    assert api.redeem(init).status_code == 200  # POST is not affected
    api.sim.faults.remove(fid)
    assert api.status(init)["status"]["code"] == 200


def test_delay_fault_exceeds_client_timeout(api):
    api.sim.faults.delay("/auth/challenge", seconds=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(api.url("/auth/challenge"), timeout=0.5)
    assert requests.post(api.url("/auth/challenge"), timeout=5).status_code == 200


def test_drop_fault_loses_answer_but_keeps_state_change(api):
    admin = api.server.admin_url
    tokens = api.login(api.sim.mint_token(NIP))
    ref = api.sim.mint_token(NIP).split("|")[0]
    resp = requests.post(admin + "/faults", json={"kind": "drop", "path": "/tokens/*", "method": "DELETE"})
    assert resp.status_code == 201
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.delete(api.url("/tokens/" + ref), headers=api.bearer(tokens), timeout=5)
    resp = requests.get(api.url("/tokens/" + ref), headers=api.bearer(tokens), timeout=5)
    assert resp.status_code == 200 and resp.json()["status"] == "Revoked"
    assert requests.get(admin + "/faults").json() == []


def test_admin_fault_validation_and_clear(simulator):
    admin = simulator.admin_url
    assert requests.post(admin + "/faults", json={"kind": "explode", "path": "/x"}).status_code == 400
    requests.post(admin + "/faults", json={"kind": "error", "path": "/x", "count": None})
    assert len(requests.get(admin + "/faults").json()) == 1
    assert requests.delete(admin + "/faults").status_code == 204
    assert requests.get(admin + "/faults").json() == []


def test_effective_limits_endpoint_follows_scale(api):
    tokens = api.login(api.sim.mint_token(NIP))
    body = api.http.get(api.url("/rate-limits"), headers=api.bearer(tokens)).json()
    assert body["invoiceSend"] == {"perSecond": 10, "perMinute": 30, "perHour": 180}
    assert body["invoiceMetadata"] == {"perSecond": 8, "perMinute": 16, "perHour": 20}
    api.sim.set_rate_limits(True, scale=2)
    body = api.http.get(api.url("/rate-limits"), headers=api.bearer(tokens)).json()
    assert body["other"] == {"perSecond": 20, "perMinute": 60, "perHour": 240}


def test_delay_after_processing_changes_state(api):
    tokens = api.login(api.sim.mint_token(NIP))
    ref = api.sim.mint_token(NIP).split("|")[0]
    api.sim.faults.delay("/tokens/{referenceNumber}", seconds=1.0, method="DELETE", after=True)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.delete(api.url("/tokens/" + ref), headers=api.bearer(tokens), timeout=0.3)
    assert api.sim.tokens.find(ref)["status"] == "Revoked"
