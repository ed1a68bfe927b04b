"""Helpers for the simulator core tests: plain ``requests`` + ``cryptography``, no project client."""

import base64

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

NIP = "5265877635"
OTHER_NIP = "5272527149"


class KsefHttp:
    """Speaks to the simulator the way an integrator would (raw HTTP)."""

    def __init__(self, server):
        self.server = server
        self.base = server.base_url
        self.sim = server.sim
        self.http = requests.Session()

    def url(self, path):
        return self.base + path

    def public_keys(self):
        resp = self.http.get(self.url("/security/public-key-certificates"))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def key_for(self, usage):
        entries = [e for e in self.public_keys() if usage in e["usage"]]
        entry = max(entries, key=lambda e: e["validFrom"])
        cert = x509.load_der_x509_certificate(base64.b64decode(entry["certificate"]), default_backend())
        return cert.public_key(), entry["publicKeyId"]

    def challenge(self):
        resp = self.http.post(self.url("/auth/challenge"))
        assert resp.status_code == 200, resp.text
        return resp.json()

    @staticmethod
    def encrypt(public_key, text):
        oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        return base64.b64encode(public_key.encrypt(text.encode("utf-8"), oaep)).decode("ascii")

    def start_token_auth(
        self,
        token,
        nip=NIP,
        challenge=None,
        timestamp_ms=None,
        public_key_id=None,
        send_key_id=True,
        policy=None,
        headers=None,
    ):
        """POST /auth/ksef-token; returns the raw response."""
        pub, key_id = self.key_for("KsefTokenEncryption")
        if challenge is None:
            ch = self.challenge()
            challenge, ms = ch["challenge"], ch["timestampMs"]
        else:
            ms = 0
        if timestamp_ms is not None:
            ms = timestamp_ms
        body = {
            "challenge": challenge,
            "contextIdentifier": {"type": "Nip", "value": nip},
            "encryptedToken": self.encrypt(pub, "%s|%s" % (token, ms)),
        }
        if send_key_id:
            body["publicKeyId"] = public_key_id or key_id
        if policy:
            body["authorizationPolicy"] = policy
        return self.http.post(self.url("/auth/ksef-token"), json=body, headers=headers or {})

    def status(self, init):
        resp = self.http.get(
            self.url("/auth/%s" % init["referenceNumber"]),
            headers={"Authorization": "Bearer " + init["authenticationToken"]["token"]},
        )
        assert resp.status_code == 200, resp.text
        return resp.json()

    def redeem(self, init):
        return self.http.post(
            self.url("/auth/token/redeem"),
            headers={"Authorization": "Bearer " + init["authenticationToken"]["token"]},
        )

    def login(self, token, nip=NIP, **kw):
        """Full token login; returns the redeem JSON (accessToken/refreshToken)."""
        resp = self.start_token_auth(token, nip, **kw)
        assert resp.status_code == 202, resp.text
        init = resp.json()
        assert self.status(init)["status"]["code"] == 200
        resp = self.redeem(init)
        assert resp.status_code == 200, resp.text
        return resp.json()

    @staticmethod
    def bearer(tokens):
        token = tokens["accessToken"]["token"] if isinstance(tokens, dict) else tokens
        return {"Authorization": "Bearer " + token}


@pytest.fixture()
def api(simulator):
    return KsefHttp(simulator)


@pytest.fixture()
def ksef_http():
    """The KsefHttp class, for tests that start their own simulators."""
    return KsefHttp


def xades_start(
    api, credential, nip=NIP, subject_type="certificateSubject", tamper=False, sign=True, check=True, query=""
):
    """POST /auth/xades-signature with a freshly signed AuthTokenRequest; returns the response."""
    from ksef_core.xades import build_auth_token_request, sign_enveloped

    challenge = api.challenge()["challenge"]
    xml = build_auth_token_request(challenge, "Nip", nip, subject_identifier_type=subject_type)
    if sign:
        xml = sign_enveloped(xml, credential, check=check)
    if tamper:
        xml = xml.replace(nip.encode(), OTHER_NIP.encode(), 1)
    return api.http.post(
        api.url("/auth/xades-signature" + query), data=xml, headers={"Content-Type": "application/xml"}
    )


def xades_login(api, credential, nip=NIP, subject_type="certificateSubject"):
    resp = xades_start(api, credential, nip, subject_type)
    assert resp.status_code == 202, resp.text
    init = resp.json()
    assert api.status(init)["status"]["code"] == 200
    resp = api.redeem(init)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture()
def xades():
    """(start, login) helpers for XAdES authentication."""
    return xades_start, xades_login
