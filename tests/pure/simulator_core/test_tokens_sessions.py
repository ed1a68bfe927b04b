"""KSeF token management over HTTP and the session-expiry fault."""

import base64
import os

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

NIP = "5265877635"


def test_token_list_get_revoke_over_http(api, xades):
    from ksef_core.certgen import make_test_certificate

    _, login = xades
    tokens = login(api, make_test_certificate(nip=NIP))
    headers = api.bearer(tokens)
    refs = []
    for i in range(12):
        resp = api.http.post(
            api.url("/tokens"),
            json={"permissions": ["InvoiceRead"], "description": "token %02d" % i},
            headers=headers,
        )
        assert resp.status_code == 202
        refs.append(resp.json()["referenceNumber"])
    api.sim.mint_token("5272527149")  # another context: never listed
    page = api.http.get(api.url("/tokens"), headers=headers).json()
    assert len(page["tokens"]) == 10 and page["continuationToken"]
    rest = api.http.get(
        api.url("/tokens"), headers={**headers, "x-continuation-token": page["continuationToken"]}
    ).json()
    assert len(rest["tokens"]) == 2 and rest["continuationToken"] is None
    listed = {t["referenceNumber"] for t in page["tokens"] + rest["tokens"]}
    assert listed == set(refs)
    one = api.http.get(api.url("/tokens/" + refs[0]), headers=headers).json()
    assert one["status"] == "Active" and one["requestedPermissions"] == ["InvoiceRead"]
    assert one["contextIdentifier"] == {"type": "Nip", "value": NIP}
    assert api.http.delete(api.url("/tokens/" + refs[0]), headers=headers).status_code == 204
    assert api.http.get(api.url("/tokens/" + refs[0]), headers=headers).json()["status"] == "Revoked"
    revoked = api.http.get(api.url("/tokens"), params={"status": "Revoked"}, headers=headers).json()["tokens"]
    assert [t["referenceNumber"] for t in revoked] == [refs[0]]
    resp = api.http.post(api.url("/tokens"), json={"permissions": ["InvoiceRead"], "description": "x"}, headers=headers)
    assert resp.status_code == 400  # description too short


def test_cannot_grant_permissions_you_lack(api, xades):
    from ksef_core.certgen import make_test_certificate

    _, login = xades
    cred = make_test_certificate(pesel="90010112345", key_slot=5)
    api.sim.grant(NIP, "90010112345", ["InvoiceRead"])
    tokens = login(api, cred)
    resp = api.http.post(
        api.url("/tokens"),
        json={"permissions": ["InvoiceWrite"], "description": "more than I have"},
        headers=api.bearer(tokens),
    )
    assert resp.status_code == 400
    assert resp.json()["exception"]["exceptionDetailList"][0]["exceptionCode"] == 26001


def test_session_expiry_fault(api):
    tokens = api.login(api.sim.mint_token(NIP))
    pub, key_id = api.key_for("SymmetricKeyEncryption")
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    body = {
        "formCode": {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"},
        "encryption": {
            "encryptedSymmetricKey": base64.b64encode(pub.encrypt(os.urandom(32), oaep)).decode(),
            "initializationVector": base64.b64encode(os.urandom(16)).decode(),
            "publicKeyId": key_id,
        },
    }
    resp = api.http.post(api.url("/sessions/online"), json=body, headers=api.bearer(tokens))
    assert resp.status_code == 201, resp.text
    ref = resp.json()["referenceNumber"]
    status = api.http.get(api.url("/sessions/" + ref), headers=api.bearer(tokens)).json()["status"]["code"]
    assert status == 100
    assert requests.post(api.server.admin_url + "/sessions/%s/expire" % ref).status_code == 204
    status = api.http.get(api.url("/sessions/" + ref), headers=api.bearer(tokens)).json()["status"]["code"]
    assert status != 100
    assert (
        requests.post(api.server.admin_url + "/sessions/20250101-SO-0000000000-0000000000-00/expire").status_code == 404
    )


def test_testdata_block_and_permissions(api):
    token = api.sim.mint_token(NIP)
    ctx = {"contextIdentifier": {"type": "Nip", "value": NIP}}
    assert api.http.post(api.url("/testdata/context/block"), json=ctx).status_code == 200
    init = api.start_token_auth(token).json()
    assert api.status(init)["status"]["code"] == 480
    assert api.http.post(api.url("/testdata/context/unblock"), json=ctx).status_code == 200
    assert api.login(token)["accessToken"]["token"]
    grant = {
        "contextIdentifier": {"type": "Nip", "value": NIP},
        "authorizedIdentifier": {"type": "Pesel", "value": "90010112345"},
        "permissions": [{"permissionType": "InvoiceRead", "description": "read invoices"}],
    }
    assert api.http.post(api.url("/testdata/permissions"), json=grant).status_code == 200
    pesel = {"type": "Pesel", "value": "90010112345"}
    assert api.sim.permissions.effective("Nip", NIP, [pesel]) == {"InvoiceRead"}
    del grant["permissions"]
    assert api.http.post(api.url("/testdata/permissions/revoke"), json=grant).status_code == 200
    assert api.sim.permissions.effective("Nip", NIP, [pesel]) == set()
    bad = {"contextIdentifier": {"type": "Nip", "value": NIP}}
    resp = api.http.post(api.url("/testdata/permissions"), json=bad)
    assert resp.status_code == 400
