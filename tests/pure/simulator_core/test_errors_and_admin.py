"""Error formats, Latarnia, admin HTTP API, CLI."""

import os
import subprocess
import sys
from pathlib import Path

import requests

NIP = "5265877635"
import ksef_core  # noqa: E402

ADDON_ROOT = Path(ksef_core.__file__).resolve().parents[1]


def _bad_token_request(api, headers=None):
    return api.http.post(api.url("/auth/ksef-token"), json={"challenge": "x"}, headers=headers or {})


def test_legacy_error_format_by_default(api):
    resp = _bad_token_request(api)
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("application/json")
    exc = resp.json()["exception"]
    assert exc["exceptionDetailList"][0]["exceptionCode"] == 21405
    assert exc["exceptionDetailList"][0]["details"]
    assert {"referenceNumber", "serviceCode", "serviceName", "timestamp"} <= set(exc)


def test_problem_details_on_request(api):
    resp = _bad_token_request(api, {"X-Error-Format": "problem-details"})
    assert resp.status_code == 400
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert body["instance"] == "/v2/auth/ksef-token"
    assert body["errors"][0]["code"] == 21405
    assert body["traceId"] and body["timestamp"]


def test_invalid_json_is_21405(api):
    resp = api.http.post(api.url("/auth/ksef-token"), data=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21405


def test_401_is_always_problem_json(api):
    resp = api.http.get(api.url("/tokens"), headers={"Authorization": "Bearer nonsense"})
    assert resp.status_code == 401
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json()["status"] == 401


def test_unknown_path_404(api):
    assert api.http.get(api.url("/no/such/endpoint")).status_code == 404


def test_latarnia_switch(simulator):
    base = simulator.latarnia_url
    assert requests.get(base + "/status").json() == {"status": "AVAILABLE", "messages": []}
    simulator.sim.set_latarnia("FAILURE", message="Awaria bazy")
    body = requests.get(base + "/status").json()
    assert body["status"] == "FAILURE"
    assert body["messages"][0]["type"] == "FAILURE_START" and body["messages"][0]["text"] == "Awaria bazy"
    resp = requests.post(simulator.admin_url + "/latarnia", json={"status": "AVAILABLE"})
    assert resp.status_code == 200
    assert requests.get(base + "/status").json()["status"] == "AVAILABLE"
    types = [m["type"] for m in requests.get(base + "/messages").json()]
    assert types == ["FAILURE_START", "FAILURE_END"]
    resp = requests.post(simulator.admin_url + "/latarnia", json={"status": "BROKEN"})
    assert resp.status_code == 400


def test_admin_tokens_grants_and_clock(api):
    admin = api.server.admin_url
    resp = requests.post(admin + "/tokens", json={"nip": NIP, "permissions": ["InvoiceRead"]})
    assert resp.status_code == 201
    token = resp.json()["token"]
    tokens = api.login(token)
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200
    assert requests.post(admin + "/tokens/revoke", json={"token": token}).status_code == 204
    init = api.start_token_auth(token).json()
    assert api.status(init)["status"]["code"] == 450
    before = requests.get(admin + "/clock").json()["now"]
    after = requests.post(admin + "/clock", json={"advance": 3600, "freeze": True}).json()
    assert after["frozen"] is True and after["now"] > before
    resp = api.http.get(api.url("/tokens"), headers=api.bearer(tokens))
    assert resp.status_code == 401
    assert (
        requests.post(
            admin + "/grants", json={"context": NIP, "subject": "90010112345", "permissions": ["InvoiceRead"]}
        ).status_code
        == 200
    )
    assert api.sim.permissions.effective("Nip", NIP, [{"type": "Pesel", "value": "90010112345"}]) == {"InvoiceRead"}
    assert requests.get(admin + "/health").json()["ok"] is True


def test_admin_auth_config_and_invalidation(api):
    admin = api.server.admin_url
    tokens = api.login(api.sim.mint_token(NIP))
    resp = requests.post(admin + "/auth/invalidate-access-tokens", json={"nip": NIP})
    assert resp.json()["invalidated"] == 1
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 401
    assert requests.post(admin + "/auth/config", json={"accessTtl": 60}).json()["accessTtl"] == 60
    tokens = api.login(api.sim.mint_token(NIP))
    api.sim.clock.advance(61)
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 401


def test_cli_prints_base_url_and_serves(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ADDON_ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ksef_core.simulator",
            "--port",
            "0",
            "--rate-limits",
            "off",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=str(ADDON_ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("KSeF simulator API: http://127.0.0.1:") and line.endswith("/v2")
        base = line.split(": ", 1)[1]
        assert requests.get(base + "/security/public-key-certificates", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(10)
