"""Benchmark of the KSeF simulator (prints figures, asserts nothing).

Targets (rate limits off, 2-core machine): >= 200 online invoice submissions per second, and a
10,000-invoice batch accepted (processed) in < 60 s.

The simulator runs in a separate process (``python -m ksef_core.simulator``) so that client and server
do not share one GIL; ``--in-process`` runs it in a thread of this process instead. The client side is
plain ``requests`` + ``cryptography`` (what an integrator would write), using the official FA(3) sample 1
with unique invoice numbers.

    python bench/bench_simulator.py [--online 2000] [--threads 4] [--batch 10000] [--in-process]
"""

import argparse
import base64
import concurrent.futures
import hashlib
import io
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ROOT = Path(__file__).resolve().parents[1]
SPEC = Path(os.environ.get("KSEF_SPEC_DIR", ROOT.parent / "shared" / "ksef-spec"))
SAMPLE = SPEC / "samples" / "fa3" / "official-mf" / "FA_3_Przyklad_1.xml"
FORM_CODE = {"systemCode": "FA (3)", "schemaVersion": "1-0E", "value": "FA"}


def b64(data):
    return base64.b64encode(data).decode("ascii")


def sha(data):
    return b64(hashlib.sha256(data).digest())


def oaep():
    return asym_padding.OAEP(mgf=asym_padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def aes(key, iv, data):
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv), backend=default_backend()).encryptor()
    return enc.update(padder.update(data) + padder.finalize()) + enc.finalize()


def start_server(in_process):
    if in_process:
        sys.path.insert(0, str(ROOT))
        from ksef_core.simulator import Simulator, SimulatorServer

        server = SimulatorServer(Simulator(rate_limits=False)).start()
        return server.root_url, server.stop
    proc = subprocess.Popen(
        [sys.executable, "-m", "ksef_core.simulator", "--port", "0", "--rate-limits", "off"],
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    if "http" not in line:
        proc.kill()
        raise SystemExit("simulator did not start: %r" % line)
    root = line.split(": ", 1)[1][: -len("/v2")]

    def stop():
        proc.terminate()
        proc.wait(10)

    return root, stop


class Client:
    def __init__(self, root, nip):
        self.root = root
        self.base = root + "/v2"
        self.http = requests.Session()
        self.nip = nip
        token = self.http.post(root + "/_sim/tokens", json={"nip": nip}).json()["token"]
        self.access = self._login(token)

    def key(self, usage):
        entries = [
            e for e in self.http.get(self.base + "/security/public-key-certificates").json() if usage in e["usage"]
        ]
        entry = max(entries, key=lambda e: e["validFrom"])
        cert = x509.load_der_x509_certificate(base64.b64decode(entry["certificate"]), default_backend())
        return cert.public_key(), entry["publicKeyId"]

    def _login(self, token):
        pub, key_id = self.key("KsefTokenEncryption")
        ch = self.http.post(self.base + "/auth/challenge").json()
        body = {
            "challenge": ch["challenge"],
            "contextIdentifier": {"type": "Nip", "value": self.nip},
            "encryptedToken": b64(pub.encrypt(("%s|%s" % (token, ch["timestampMs"])).encode(), oaep())),
            "publicKeyId": key_id,
        }
        init = self.http.post(self.base + "/auth/ksef-token", json=body).json()
        op = {"Authorization": "Bearer " + init["authenticationToken"]["token"]}
        while self.http.get(self.base + "/auth/" + init["referenceNumber"], headers=op).json()["status"]["code"] == 100:
            time.sleep(0.05)
        return self.http.post(self.base + "/auth/token/redeem", headers=op).json()["accessToken"]["token"]

    @property
    def headers(self):
        return {"Authorization": "Bearer " + self.access}

    def encryption(self):
        key, iv = os.urandom(32), os.urandom(16)
        pub, key_id = self.key("SymmetricKeyEncryption")
        return (
            key,
            iv,
            {
                "encryptedSymmetricKey": b64(pub.encrypt(key, oaep())),
                "initializationVector": b64(iv),
                "publicKeyId": key_id,
            },
        )


def invoices(template, prefix, count):
    for i in range(count):
        yield re.sub(rb"<P_2>[^<]*</P_2>", ("<P_2>%s/%06d</P_2>" % (prefix, i)).encode(), template, count=1)


def bench_framework(root, seconds=2.0):
    http = requests.Session()
    url = root + "/v2/security/public-key-certificates"
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        http.get(url)
        count += 1
    print("framework: GET /security/public-key-certificates, 1 client: %.0f req/s" % (count / seconds))


def bench_online(root, template, total, threads):
    client = Client(root, "9999999999")
    key, iv, info = client.encryption()
    resp = client.http.post(
        client.base + "/sessions/online",
        json={"formCode": FORM_CODE, "encryption": info},
        headers=client.headers,
    )
    resp.raise_for_status()
    ref = resp.json()["referenceNumber"]
    prefix = "BENCH-ON-%d" % int(time.time())
    bodies = []
    for xml in invoices(template, prefix, total):
        enc = aes(key, iv, xml)
        bodies.append(
            {
                "invoiceHash": sha(xml),
                "invoiceSize": len(xml),
                "encryptedInvoiceHash": sha(enc),
                "encryptedInvoiceSize": len(enc),
                "encryptedInvoiceContent": b64(enc),
                "offlineMode": False,
            }
        )
    local = threading.local()
    url = client.base + "/sessions/online/%s/invoices" % ref

    def send(body):
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = requests.Session()
        return http.post(url, json=body, headers=client.headers).status_code

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        codes = list(pool.map(send, bodies))
    elapsed = time.perf_counter() - start
    ok = codes.count(202)
    print(
        "online: %d invoices (%d accepted 202) with %d client threads in %.2f s = %.0f invoices/s"
        " (target >= 200)" % (total, ok, threads, elapsed, total / elapsed)
    )
    resp = client.http.get(client.base + "/sessions/%s" % ref, headers=client.headers).json()
    print(
        "online: session status after sending: %s"
        % {k: resp.get(k) for k in ("invoiceCount", "successfulInvoiceCount", "failedInvoiceCount")}
    )


def bench_batch(root, template, total):
    client = Client(root, "9999999999")
    t0 = time.perf_counter()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, xml in enumerate(invoices(template, "BENCH-BA-%d" % int(time.time()), total)):
            zf.writestr("invoice-%06d.xml" % i, xml)
    archive = buf.getvalue()
    key, iv, info = client.encryption()
    part = aes(key, iv, archive)
    prep = time.perf_counter() - t0
    body = {
        "formCode": FORM_CODE,
        "batchFile": {
            "fileSize": len(archive),
            "fileHash": sha(archive),
            "fileParts": [{"ordinalNumber": 1, "fileSize": len(part), "fileHash": sha(part)}],
        },
        "encryption": info,
        "offlineMode": False,
    }
    start = time.perf_counter()
    resp = client.http.post(client.base + "/sessions/batch", json=body, headers=client.headers)
    resp.raise_for_status()
    opened = resp.json()
    ref = opened["referenceNumber"]
    for upload in opened["partUploadRequests"]:
        r = client.http.request(upload["method"], upload["url"], data=part, headers=upload.get("headers") or {})
        r.raise_for_status()
    uploaded = time.perf_counter()
    client.http.post(client.base + "/sessions/batch/%s/close" % ref, headers=client.headers).raise_for_status()
    closed = time.perf_counter()
    while True:
        status = client.http.get(client.base + "/sessions/%s" % ref, headers=client.headers).json()
        if status["status"]["code"] not in (100, 150, 170):
            break
        time.sleep(0.2)
    done = time.perf_counter()
    print(
        "batch: %d invoices, archive %.1f MB (client preparation %.1f s, not counted)"
        % (total, len(archive) / 1e6, prep)
    )
    print(
        "batch: open+upload %.2f s, close %.2f s, processed after %.2f s total -> status %s, "
        "%s ok / %s failed "
        "(target < 60 s)"
        % (
            uploaded - start,
            closed - uploaded,
            done - start,
            status["status"]["code"],
            status.get("successfulInvoiceCount"),
            status.get("failedInvoiceCount"),
        )
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--online", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10000)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    template = SAMPLE.read_bytes()
    root, stop = start_server(args.in_process)
    try:
        print("simulator at %s (%s)" % (root, "in-process thread" if args.in_process else "separate process"))
        bench_framework(root)
        if args.online:
            bench_online(root, template, args.online, args.threads)
        if args.batch:
            bench_batch(root, template, args.batch)
    finally:
        stop()


if __name__ == "__main__":
    main()
