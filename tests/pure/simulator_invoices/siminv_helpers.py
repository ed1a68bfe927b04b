"""Helpers for the invoice-side simulator tests: plain ``requests`` + ``cryptography`` only.

Everything an integrator does by hand: token login, RSA-OAEP key wrapping, AES-256-CBC
encryption of invoices and batch parts, hashes, polling.
"""

import base64
import datetime as dt
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SELLER_NIP = "9999999999"  # Podmiot1 of the official MF samples (valid checksum)
BUYER_NIP = "1111111111"  # Podmiot2 of the official MF samples
THIRD_NIP = "3333333333"  # Podmiot3 of sample 10
SPEC = Path(os.environ.get("KSEF_SPEC_DIR", Path(__file__).resolve().parents[3] / "tests" / "spec"))
SAMPLES = SPEC / "samples" / "fa3"
FORM_CODE = {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}


def b64(data):
    return base64.b64encode(data).decode("ascii")


def sha(data):
    return b64(hashlib.sha256(data).digest())


def aes_encrypt(key, iv, data):
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def aes_decrypt(key, iv, data):
    dec = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(dec.update(data) + dec.finalize()) + unpadder.finalize()


def oaep():
    return asym_padding.OAEP(mgf=asym_padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def sample_bytes(name):
    return (SAMPLES / "official-mf" / name).read_bytes()


def official_samples():
    return sorted(p.name for p in (SAMPLES / "official-mf").glob("*.xml"))


def issue_day(xml):
    return dt.date.fromisoformat(re.search(rb"<P_1>([0-9-]{10})</P_1>", xml).group(1).decode())


def with_number(xml, number):
    """A copy of ``xml`` with another invoice number P_2 (to avoid duplicates)."""
    return re.sub(rb"<P_2>[^<]*</P_2>", b"<P_2>" + number.encode() + b"</P_2>", xml, count=1)


def make_archive(files, kind="Zip"):
    buf = io.BytesIO()
    if kind == "TarGz":
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in files:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files:
                zf.writestr(name, data)
    return buf.getvalue()


class Api:
    """One logged-in company talking raw HTTP to the simulator."""

    def __init__(self, server, nip, permissions=("InvoiceWrite", "InvoiceRead")):
        self.server = server
        self.sim = server.sim
        self.base = server.base_url
        self.nip = nip
        self.http = requests.Session()
        self.token = self._login(server.sim.mint_token(nip, permissions))

    def url(self, path):
        return self.base + path

    def _public_key(self, usage):
        resp = self.http.get(self.url("/security/public-key-certificates"))
        assert resp.status_code == 200, resp.text
        entry = max((e for e in resp.json() if usage in e["usage"]), key=lambda e: e["validFrom"])
        cert = x509.load_der_x509_certificate(base64.b64decode(entry["certificate"]), default_backend())
        return cert.public_key(), entry["publicKeyId"]

    def _login(self, ksef_token):
        pub, key_id = self._public_key("KsefTokenEncryption")
        ch = self.http.post(self.url("/auth/challenge")).json()
        plain = ("%s|%s" % (ksef_token, ch["timestampMs"])).encode()
        body = {
            "challenge": ch["challenge"],
            "contextIdentifier": {"type": "Nip", "value": self.nip},
            "encryptedToken": b64(pub.encrypt(plain, oaep())),
            "publicKeyId": key_id,
        }
        resp = self.http.post(self.url("/auth/ksef-token"), json=body)
        assert resp.status_code == 202, resp.text
        init = resp.json()
        op = {"Authorization": "Bearer " + init["authenticationToken"]["token"]}
        for _ in range(50):
            status = self.http.get(self.url("/auth/%s" % init["referenceNumber"]), headers=op).json()
            if status["status"]["code"] != 100:
                break
            time.sleep(0.05)
        assert status["status"]["code"] == 200, status
        resp = self.http.post(self.url("/auth/token/redeem"), headers=op)
        assert resp.status_code == 200, resp.text
        return resp.json()["accessToken"]["token"]

    @property
    def headers(self):
        return {"Authorization": "Bearer " + self.token}

    def get(self, path, **kw):
        headers = dict(self.headers, **kw.pop("headers", {}))
        return self.http.get(self.url(path), headers=headers, **kw)

    def post(self, path, json=None, **kw):
        headers = dict(self.headers, **kw.pop("headers", {}))
        return self.http.post(self.url(path), json=json, headers=headers, **kw)

    # -- encryption ----------------------------------------------------------------------------
    def encryption(self):
        """Fresh AES key + IV and the ``encryption`` object wrapping the key for the simulator."""
        key, iv = os.urandom(32), os.urandom(16)
        pub, key_id = self._public_key("SymmetricKeyEncryption")
        info = {
            "encryptedSymmetricKey": b64(pub.encrypt(key, oaep())),
            "initializationVector": b64(iv),
            "publicKeyId": key_id,
        }
        return key, iv, info

    # -- online --------------------------------------------------------------------------------
    def open_online(self):
        key, iv, info = self.encryption()
        resp = self.post("/sessions/online", {"formCode": FORM_CODE, "encryption": info})
        assert resp.status_code == 201, resp.text
        return OnlineSession(self, resp.json()["referenceNumber"], key, iv)

    def session_status(self, ref):
        resp = self.get("/sessions/%s" % ref)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def wait_session(self, ref, timeout=120):
        deadline = time.time() + timeout
        while True:
            status = self.session_status(ref)
            if status["status"]["code"] not in (100, 150, 170) or time.time() > deadline:
                return status
            time.sleep(0.1)

    def query(self, filters, **params):
        return self.post("/invoices/query/metadata", filters, params=params)


class OnlineSession:
    def __init__(self, api, ref, key, iv):
        self.api, self.ref, self.key, self.iv = api, ref, key, iv

    def request_body(self, xml, **overrides):
        enc = aes_encrypt(self.key, self.iv, xml)
        body = {
            "invoiceHash": sha(xml),
            "invoiceSize": len(xml),
            "encryptedInvoiceHash": sha(enc),
            "encryptedInvoiceSize": len(enc),
            "encryptedInvoiceContent": b64(enc),
            "offlineMode": False,
        }
        body.update(overrides)
        return body

    def send_raw(self, body):
        return self.api.post("/sessions/online/%s/invoices" % self.ref, body)

    def send(self, xml, **overrides):
        """Send and return the invoice status JSON (status is final at once in the simulator)."""
        resp = self.send_raw(self.request_body(xml, **overrides))
        assert resp.status_code == 202, resp.text
        return self.status(resp.json()["referenceNumber"])

    def status(self, invoice_ref):
        resp = self.api.get("/sessions/%s/invoices/%s" % (self.ref, invoice_ref))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def close(self):
        resp = self.api.post("/sessions/online/%s/close" % self.ref)
        assert resp.status_code == 204, resp.text
        return self.api.wait_session(self.ref)


def set_clock(sim, day, hour=12):
    sim.clock.set(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc))


class Batch:
    """A batch package prepared like an integrator does: archive, split, encrypt, declare."""

    def __init__(self, api, archive, kind="Zip", parts=1, offline=False):
        self.api = api
        self.archive = archive
        self.key, self.iv, info = api.encryption()
        step = -(-len(archive) // parts)
        self.plain_parts = [archive[i : i + step] for i in range(0, len(archive), step)]
        self.encrypted = [aes_encrypt(self.key, self.iv, p) for p in self.plain_parts]
        self.body = {
            "formCode": FORM_CODE,
            "batchFile": {
                "fileSize": len(archive),
                "fileHash": sha(archive),
                "compressionType": kind,
                "fileParts": [
                    {"ordinalNumber": n, "fileSize": len(e), "fileHash": sha(e)}
                    for n, e in enumerate(self.encrypted, 1)
                ],
            },
            "encryption": info,
            "offlineMode": offline,
        }
        self.ref = None
        self.uploads = None

    def open(self):
        resp = self.api.post("/sessions/batch", self.body)
        assert resp.status_code == 201, resp.text
        self.ref = resp.json()["referenceNumber"]
        self.uploads = resp.json()["partUploadRequests"]
        return resp.json()

    def upload(self, data_by_ordinal=None):
        """PUT every part to its pre-signed URL (no bearer); returns the status codes."""
        codes = []
        for req in self.uploads:
            data = (data_by_ordinal or {}).get(req["ordinalNumber"], self.encrypted[req["ordinalNumber"] - 1])
            resp = requests.request(req["method"], req["url"], data=data, headers=req["headers"])
            codes.append(resp.status_code)
        return codes

    def close(self):
        return self.api.post("/sessions/batch/%s/close" % self.ref)

    def run(self, timeout=120):
        """open + upload + close, then wait for the final session status."""
        self.open()
        assert set(self.upload()) == {201}
        resp = self.close()
        assert resp.status_code == 204, resp.text
        return self.api.wait_session(self.ref, timeout)

    def invoices(self, failed=False, page_size=1000):
        out, token = [], None
        path = "/sessions/%s/invoices%s" % (self.ref, "/failed" if failed else "")
        while True:
            headers = {"x-continuation-token": token} if token else {}
            resp = self.api.get(path, params={"pageSize": page_size}, headers=headers)
            assert resp.status_code == 200, resp.text
            out.extend(resp.json()["invoices"])
            token = resp.json().get("continuationToken")
            if not token:
                return out
