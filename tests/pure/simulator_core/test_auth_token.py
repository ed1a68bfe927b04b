"""KSeF-token authentication against the simulator over real HTTP."""

import base64
import json

NIP = "5265877635"
OTHER_NIP = "5272527149"


def _jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_public_key_certificates_have_documented_ids(api):
    from cryptography import x509
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import hashes, serialization

    entries = api.public_keys()
    assert sorted(u for e in entries for u in e["usage"]) == ["KsefTokenEncryption", "SymmetricKeyEncryption"]
    for entry in entries:
        der = base64.b64decode(entry["certificate"])
        cert = x509.load_der_x509_certificate(der, default_backend())
        digest = hashes.Hash(hashes.SHA256(), backend=default_backend())
        digest.update(der)
        assert entry["certificateId"] == base64.b64encode(digest.finalize()).decode()
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        digest = hashes.Hash(hashes.SHA256(), backend=default_backend())
        digest.update(spki)
        assert entry["publicKeyId"] == base64.b64encode(digest.finalize()).decode()
        assert len(entry["publicKeyId"]) == 44
        assert cert.public_key().key_size == 2048
    assert entries[0]["publicKeyId"] != entries[1]["publicKeyId"]


def test_challenge_format(api):
    ch = api.challenge()
    assert len(ch["challenge"]) == 36 and ch["challenge"][8:12] == "-CR-"
    assert ch["clientIp"] == "127.0.0.1"
    assert abs(ch["timestampMs"] - api.sim.clock.now_ms()) < 5000


def test_token_login_redeem_refresh_and_use(api):
    token = api.sim.mint_token(NIP, ["InvoiceWrite", "InvoiceRead"])
    assert token.split("|")[1] == "nip-" + NIP and len(token.split("|")[2]) == 64
    resp = api.start_token_auth(token)
    assert resp.status_code == 202
    init = resp.json()
    assert init["referenceNumber"][8:12] == "-AU-"
    status = api.status(init)
    assert status["status"]["code"] == 200
    assert status["authenticationMethodInfo"]["category"] == "Token"
    assert status["isTokenRedeemed"] is False
    tokens = api.redeem(init).json()
    claims = _jwt_claims(tokens["accessToken"]["token"])
    assert claims["exp"] - claims["iat"] == 900
    assert api.status(init)["isTokenRedeemed"] is True
    # the access token works on a protected endpoint
    resp = api.http.get(api.url("/auth/sessions"), headers=api.bearer(tokens))
    assert resp.status_code == 200
    assert [i["isCurrent"] for i in resp.json()["items"]] == [True]
    # refresh gives a new working access token
    resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens["refreshToken"]["token"]))
    assert resp.status_code == 200
    new_access = resp.json()["accessToken"]["token"]
    assert new_access != tokens["accessToken"]["token"]
    assert api.http.get(api.url("/tokens"), headers=api.bearer(new_access)).status_code == 200
    # an access token is not a refresh token
    resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens))
    assert resp.status_code == 401


def test_redeem_twice_gives_21301(api):
    token = api.sim.mint_token(NIP)
    init = api.start_token_auth(token).json()
    assert api.redeem(init).status_code == 200
    resp = api.redeem(init)
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21301


def test_unknown_challenge_is_21111(api):
    token = api.sim.mint_token(NIP)
    resp = api.start_token_auth(token, challenge="20250514-CR-226FB7B000-3ACF9BE4C0-10")
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21111


def test_expired_challenge_fails_with_450(api):
    token = api.sim.mint_token(NIP)
    _pub, _ = api.key_for("KsefTokenEncryption")
    ch = api.challenge()
    api.sim.clock.advance(601)
    resp = api.start_token_auth(token, challenge=ch["challenge"], timestamp_ms=ch["timestampMs"])
    assert resp.status_code == 202
    init = resp.json()
    status = api.status(init)["status"]
    assert status["code"] == 450
    assert "wyzwanie" in status["details"][0]
    assert api.redeem(init).status_code == 400


def test_wrong_timestamp_fails_with_450(api):
    token = api.sim.mint_token(NIP)
    ch = api.challenge()
    init = api.start_token_auth(token, challenge=ch["challenge"], timestamp_ms=ch["timestampMs"] - 1000).json()
    status = api.status(init)["status"]
    assert status["code"] == 450 and "czas" in status["details"][0]


def test_context_nip_mismatch_fails(api):
    token = api.sim.mint_token(NIP)
    init = api.start_token_auth(token, nip=OTHER_NIP).json()
    assert api.status(init)["status"]["code"] == 450


def test_garbage_token_fails(api):
    init = api.start_token_auth("20251010-EC-1DCE3E3000-12ECB5B36E-45|nip-%s|%s" % (NIP, "0" * 64)).json()
    assert api.status(init)["status"]["code"] == 450


def test_revoked_token_fails_with_450_and_kills_refresh(api):
    token = api.sim.mint_token(NIP)
    tokens = api.login(token)
    assert api.sim.revoke_token(token) is True
    init = api.start_token_auth(token).json()
    status = api.status(init)["status"]
    assert status["code"] == 450 and "unieważniony" in status["details"][0]
    resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens["refreshToken"]["token"]))
    assert resp.status_code == 401
    # the access token lives until it expires
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200


def test_token_without_permissions_gives_415(api):
    token = api.sim.mint_token(NIP, permissions=[])
    init = api.start_token_auth(token).json()
    assert api.status(init)["status"]["code"] == 415


def test_blocked_context_gives_480(api):
    token = api.sim.mint_token(NIP)
    api.sim.permissions.block_context(NIP)
    init = api.start_token_auth(token).json()
    assert api.status(init)["status"]["code"] == 480


def test_access_token_expires_after_15_minutes(api):
    tokens = api.login(api.sim.mint_token(NIP))
    api.sim.clock.advance(899)
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200
    api.sim.clock.advance(2)
    resp = api.http.get(api.url("/tokens"), headers=api.bearer(tokens))
    assert resp.status_code == 401
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    # refresh still works for 7 days, then not
    resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens["refreshToken"]["token"]))
    assert resp.status_code == 200
    api.sim.clock.advance(7 * 24 * 3600)
    resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens["refreshToken"]["token"]))
    assert resp.status_code == 401


def test_auth_session_revocation_gives_425(api):
    token = api.sim.mint_token(NIP)
    resp = api.start_token_auth(token)
    init = resp.json()
    tokens = api.redeem(init).json()
    resp = api.http.delete(api.url("/auth/sessions/current"), headers=api.bearer(tokens))
    assert resp.status_code == 204
    assert api.status(init)["status"]["code"] == 425
    resp = api.http.post(api.url("/auth/token/refresh"), headers=api.bearer(tokens["refreshToken"]["token"]))
    assert resp.status_code == 401


def test_ip_policy_blocks_other_addresses(api):
    token = api.sim.mint_token(NIP)
    tokens = api.login(token, policy={"allowedIps": {"ip4Addresses": ["10.1.2.3"]}})
    resp = api.http.get(api.url("/tokens"), headers=api.bearer(tokens))
    assert resp.status_code == 403
    body = resp.json()
    assert body["reasonCode"] == "ip-not-allowed" and body["security"]["clientIp"] == "127.0.0.1"
    tokens = api.login(token, policy={"allowedIps": {"ip4Masks": ["127.0.0.0/8"]}})
    assert api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).status_code == 200


def test_pending_polls_answer_100_first(api):
    api.sim.auth.pending_polls = 1
    init = api.start_token_auth(api.sim.mint_token(NIP)).json()
    assert api.status(init)["status"]["code"] == 100
    assert api.status(init)["status"]["code"] == 200
    assert api.redeem(init).status_code == 200


def test_status_needs_the_operation_token(api):
    init = api.start_token_auth(api.sim.mint_token(NIP)).json()
    other = api.start_token_auth(api.sim.mint_token(NIP)).json()
    resp = api.http.get(
        api.url("/auth/%s" % init["referenceNumber"]),
        headers={"Authorization": "Bearer " + other["authenticationToken"]["token"]},
    )
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 21304
    assert api.http.get(api.url("/auth/%s" % init["referenceNumber"])).status_code == 401


def test_internal_id_token_login(api):
    internal = NIP + "-12345"
    token = api.sim.mint_token(internal, context_type="internalId")
    assert token.split("|")[1] == "internalId-" + internal
    pub, key_id = api.key_for("KsefTokenEncryption")
    ch = api.challenge()
    body = {
        "challenge": ch["challenge"],
        "contextIdentifier": {"type": "InternalId", "value": internal},
        "encryptedToken": api.encrypt(pub, "%s|%s" % (token, ch["timestampMs"])),
        "publicKeyId": key_id,
    }
    init = api.http.post(api.url("/auth/ksef-token"), json=body).json()
    assert api.status(init)["status"]["code"] == 200
    tokens = api.redeem(init).json()
    listed = api.http.get(api.url("/tokens"), headers=api.bearer(tokens)).json()["tokens"]
    assert [t["contextIdentifier"] for t in listed] == [{"type": "InternalId", "value": internal}]
