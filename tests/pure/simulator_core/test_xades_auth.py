"""XAdES authentication: EC and RSA certificates, failures, permissions by grant."""

import independent_xades
import pytest

NIP = "5265877635"
OTHER_NIP = "5272527149"
PESEL = "90010112345"

certgen = pytest.importorskip("ksef_core.certgen")


def _code(resp):
    return resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"]


@pytest.mark.parametrize("key_type", ["ec", "rsa"])
def test_owner_certificate_logs_in_with_all_permissions(api, xades, key_type):
    _start, login = xades
    cred = certgen.make_test_certificate(nip=NIP, key_type=key_type)
    tokens = login(api, cred)
    resp = api.http.get(api.url("/auth/sessions"), headers=api.bearer(tokens))
    assert resp.status_code == 200
    item = resp.json()["items"][0]
    assert item["authenticationMethodInfo"]["category"] == "XadesSignature"
    # XAdES login may generate KSeF tokens (owner has every permission)
    resp = api.http.post(
        api.url("/tokens"),
        json={"permissions": ["InvoiceWrite", "CredentialsRead"], "description": "ERP integration"},
        headers=api.bearer(tokens),
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["token"].startswith(resp.json()["referenceNumber"] + "|nip-" + NIP + "|")


def test_tampered_document_gives_9105(api, xades):
    start, _ = xades
    resp = start(api, certgen.make_test_certificate(nip=NIP), tamper=True)
    assert resp.status_code == 400
    assert _code(resp) == 9105


def test_unsigned_document_gives_9102(api, xades):
    start, _ = xades
    resp = start(api, certgen.make_test_certificate(nip=NIP), sign=False)
    assert resp.status_code == 400
    assert _code(resp) == 9102


def test_offline_certificate_cannot_authenticate(api, xades):
    start, _ = xades
    cred = certgen.make_test_certificate(nip=NIP, usage="Offline")
    resp = start(api, cred, check=False)
    assert resp.status_code == 400
    assert _code(resp) == 21115


def test_other_subject_needs_a_grant(api, xades):
    start, login = xades
    cred = certgen.make_test_certificate(pesel=PESEL)
    init = start(api, cred).json()
    assert api.status(init)["status"]["code"] == 415
    api.sim.grant(NIP, PESEL, ["InvoiceRead"])
    tokens = login(api, cred)
    # only InvoiceRead: opening an online session is forbidden
    resp = api.http.post(api.url("/sessions/online"), json={}, headers=api.bearer(tokens))
    assert resp.status_code == 403
    body = resp.json()
    assert body["reasonCode"] == "missing-permissions"
    assert body["security"]["presentPermissions"] == ["InvoiceRead"]
    assert "InvoiceWrite" in body["security"]["requiredAnyOfPermissions"]


def test_fingerprint_subject(api, xades):
    start, login = xades
    cred = certgen.make_test_certificate(nip=OTHER_NIP, key_slot=3)
    init = start(api, cred, subject_type="certificateFingerprint").json()
    assert api.status(init)["status"]["code"] == 415
    api.sim.grant(NIP, cred.info().fingerprint_sha256, ["InvoiceWrite"])
    tokens = login(api, cred, subject_type="certificateFingerprint")
    assert api.http.get(api.url("/auth/sessions"), headers=api.bearer(tokens)).status_code == 200


def test_expired_certificate_gives_460_and_chain_check(api, xades):
    start, _ = xades
    cred = certgen.make_test_certificate(nip=NIP)
    api.sim.clock.advance(3 * 365 * 24 * 3600)
    init = start(api, cred).json()
    assert api.status(init)["status"]["code"] == 460
    api.sim.clock.advance(-3 * 365 * 24 * 3600)
    init = start(api, cred, query="?verifyCertificateChain=true").json()
    assert api.status(init)["status"]["code"] == 460


def test_token_login_cannot_generate_tokens(api):
    tokens = api.login(api.sim.mint_token(NIP, ["InvoiceWrite", "CredentialsManage"]))
    resp = api.http.post(
        api.url("/tokens"),
        json={"permissions": ["InvoiceWrite"], "description": "nested token"},
        headers=api.bearer(tokens),
    )
    assert resp.status_code == 403
    assert resp.json()["reasonCode"] == "auth-method-not-allowed"


@pytest.mark.parametrize("form", independent_xades.FORMS)
def test_the_simulator_logs_in_with_each_form(api, form):
    """``POST /auth/xades-signature`` as KSeF: the signer's NIP certificate gets the company's session."""
    seal = certgen.make_test_certificate(nip=NIP, seal=True)
    challenge = api.challenge()["challenge"]
    signed = independent_xades.sign(certgen_request(challenge), seal.private_key, seal.certificate, form)
    resp = api.http.post(api.url("/auth/xades-signature"), data=signed, headers={"Content-Type": "application/xml"})
    assert resp.status_code == 202, resp.text
    init = resp.json()
    assert api.status(init)["status"]["code"] == 200
    assert api.redeem(init).status_code == 200


def certgen_request(challenge):
    from ksef_core.xades import build_auth_token_request

    return build_auth_token_request(challenge, "Nip", NIP, "certificateSubject")
