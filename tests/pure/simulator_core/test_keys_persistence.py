"""Key rotation (21470) and persistence across a restart with a data directory."""

import base64

import requests
from cryptography import x509
from cryptography.hazmat.backends import default_backend

from ksef_core.simulator.testing import running_simulator

NIP = "5265877635"


def _code(resp):
    return resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"]


def test_emergency_rotation_retires_old_key(api):
    _, old_id = api.key_for("KsefTokenEncryption")
    old_entries = api.public_keys()
    token = api.sim.mint_token(NIP)
    # encrypt with the old key, but the server rotated meanwhile
    old_pub = x509.load_der_x509_certificate(
        base64.b64decode(next(e for e in old_entries if "KsefTokenEncryption" in e["usage"])["certificate"]),
        default_backend(),
    ).public_key()
    resp = requests.post(api.server.admin_url + "/keys/rotate", json={"emergency": True})
    new_ids = resp.json()["publicKeyIds"]
    assert len(new_ids) == 2 and old_id not in new_ids
    entries = api.public_keys()
    assert len(entries) == 2 and {e["publicKeyId"] for e in entries} == set(new_ids)
    ch = api.challenge()
    body = {
        "challenge": ch["challenge"],
        "contextIdentifier": {"type": "Nip", "value": NIP},
        "encryptedToken": api.encrypt(old_pub, "%s|%s" % (token, ch["timestampMs"])),
        "publicKeyId": old_id,
    }
    resp = api.http.post(api.url("/auth/ksef-token"), json=body)
    assert resp.status_code == 400 and _code(resp) == 21470
    # after re-downloading the keys the login works
    assert api.login(token)["accessToken"]["token"]


def test_planned_rotation_keeps_old_key_usable(api):
    _, old_id = api.key_for("KsefTokenEncryption")
    api.sim.rotate_keys(emergency=False, usage="KsefTokenEncryption")
    entries = [e for e in api.public_keys() if "KsefTokenEncryption" in e["usage"]]
    assert len(entries) == 2
    _, newest = api.key_for("KsefTokenEncryption")
    assert newest != old_id
    old_entry = next(e for e in entries if e["publicKeyId"] == old_id)
    old_pub = x509.load_der_x509_certificate(base64.b64decode(old_entry["certificate"]), default_backend()).public_key()
    token = api.sim.mint_token(NIP)
    ch = api.challenge()
    body = {
        "challenge": ch["challenge"],
        "contextIdentifier": {"type": "Nip", "value": NIP},
        "encryptedToken": api.encrypt(old_pub, "%s|%s" % (token, ch["timestampMs"])),
        "publicKeyId": old_id,
    }
    resp = api.http.post(api.url("/auth/ksef-token"), json=body)
    assert resp.status_code == 202
    assert api.status(resp.json())["status"]["code"] == 200


def test_key_of_wrong_usage_is_21470(api):
    _, sym_id = api.key_for("SymmetricKeyEncryption")
    resp = api.start_token_auth(api.sim.mint_token(NIP), public_key_id=sym_id)
    assert resp.status_code == 400 and _code(resp) == 21470


def test_state_survives_restart(tmp_path, ksef_http):
    with running_simulator(data_dir=str(tmp_path)) as first:
        api = ksef_http(first)
        keys_before = api.public_keys()
        token = api.sim.mint_token(NIP)
        tokens = api.login(token)
        revoked = api.sim.mint_token(NIP)
        api.sim.revoke_token(revoked)
        api.sim.grant(NIP, "90010112345", ["InvoiceRead"])
        api.sim.set_latarnia("MAINTENANCE", message="Prace")
    with running_simulator(data_dir=str(tmp_path)) as second:
        api = ksef_http(second)
        assert api.public_keys() == keys_before
        # the old access and refresh tokens still work, the KSeF token too
        assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200
        resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens["refreshToken"]["token"]))
        assert resp.status_code == 200
        assert api.login(token)["accessToken"]["token"]
        init = api.start_token_auth(revoked).json()
        assert api.status(init)["status"]["code"] == 450
        assert api.sim.permissions.effective("Nip", NIP, [{"type": "Pesel", "value": "90010112345"}]) == {"InvoiceRead"}
        assert requests.get(second.latarnia_url + "/status").json()["status"] == "MAINTENANCE"


def test_memory_only_by_default(ksef_http):
    with running_simulator() as first:
        token = first.sim.mint_token(NIP)
    with running_simulator() as second:
        api = ksef_http(second)
        init = api.start_token_auth(token).json()
        assert api.status(init)["status"]["code"] == 450
