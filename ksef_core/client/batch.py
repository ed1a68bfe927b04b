"""Batch session: stream invoices into a ZIP on disk, split, encrypt, upload, close, map results.

Memory stays flat: the ZIP is written to a temporary file one invoice at a
time, each part (≤ ``part_size`` bytes of the ZIP, 100 MB by default) is
encrypted chunk by chunk into its own temporary file and uploaded from disk.
Results are mapped back to the caller's ids through the SHA-256 of each invoice.
"""

import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor

import requests

from ..crypto import AesCbcStreamEncryptor, new_symmetric_key
from ..errors import InputError
from ..hashing import b64, sha256_b64
from . import status_codes
from .errors import KsefApiError, KsefUnavailable
from .keys import SYMMETRIC_KEY_ENCRYPTION
from .online import encryption_block
from .polling import poll
from .results import InvoiceResult, form_code

_logger = logging.getLogger(__name__)

MAX_PART_SIZE = 100_000_000
MAX_PARTS = 50
CHUNK = 1 << 20


class BatchPart:
    __slots__ = ("encrypted_hash", "encrypted_size", "ordinal", "path", "plain_size")

    def __init__(self, ordinal, path):
        self.ordinal = ordinal
        self.path = path
        self.plain_size = 0
        self.encrypted_size = 0
        self.encrypted_hash = None


class BatchPackage:
    """A ZIP of invoices built on disk and cut into encrypted parts.

    Use as a context manager (temporary files are removed on exit).
    """

    def __init__(self, part_size=MAX_PART_SIZE, tmp_dir=None, compression=zipfile.ZIP_DEFLATED):
        if not 0 < part_size <= MAX_PART_SIZE:
            raise InputError(
                "The batch part size must be between 1 byte and 100 MB.",
                "Rozmiar części paczki musi mieścić się między 1 bajtem a 100 MB.",
                code="batch_part_size",
            )
        self.part_size = part_size
        self.dir = tempfile.mkdtemp(prefix="ksef-batch-", dir=tmp_dir)
        self.zip_path = os.path.join(self.dir, "invoices.zip")
        self._zip = zipfile.ZipFile(self.zip_path, "w", compression=compression)
        self.hashes = {}  # invoice hash -> [own ids]
        self.count = 0
        self.zip_size = None
        self.zip_hash = None
        self.parts = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        if self._zip is not None:
            self._zip.close()
            self._zip = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def add(self, own_id, xml):
        """Add one invoice (bytes); returns its hash (Base64 SHA-256)."""
        if self._zip is None:
            raise RuntimeError("the package is already finished")
        invoice_hash = sha256_b64(xml)
        self.count += 1
        self._zip.writestr("%06d.xml" % self.count, xml)
        self.hashes.setdefault(invoice_hash, []).append(own_id)
        return invoice_hash

    def finish(self, key, iv):
        """Close the ZIP, hash it and write the encrypted parts."""
        if not self.count:
            raise InputError(
                "The batch is empty: add at least one invoice.",
                "Paczka jest pusta: dodaj co najmniej jedną fakturę.",
                code="batch_empty",
            )
        self._zip.close()
        self._zip = None
        self.zip_size = os.path.getsize(self.zip_path)
        n_parts = -(-self.zip_size // self.part_size)
        if n_parts > MAX_PARTS:
            raise InputError(
                "The batch needs %d parts, KSeF accepts at most %d: send fewer invoices per batch."
                % (n_parts, MAX_PARTS),
                "Paczka wymaga %d części, KSeF przyjmuje najwyżej %d: wyślij mniej faktur w jednej paczce."
                % (n_parts, MAX_PARTS),
                code="batch_too_large",
            )
        whole = hashlib.sha256()
        with open(self.zip_path, "rb") as src:
            for ordinal in range(1, n_parts + 1):
                part = BatchPart(ordinal, os.path.join(self.dir, "part-%02d.bin" % ordinal))
                enc = AesCbcStreamEncryptor(key, iv)
                digest = hashlib.sha256()
                with open(part.path, "wb") as dst:
                    remaining = self.part_size
                    while remaining:
                        chunk = src.read(min(CHUNK, remaining))
                        if not chunk:
                            break
                        remaining -= len(chunk)
                        part.plain_size += len(chunk)
                        whole.update(chunk)
                        out = enc.update(chunk)
                        digest.update(out)
                        dst.write(out)
                    out = enc.finalize()
                    digest.update(out)
                    dst.write(out)
                part.encrypted_size = os.path.getsize(part.path)
                part.encrypted_hash = b64(digest.digest())
                self.parts.append(part)
        self.zip_hash = b64(whole.digest())
        os.remove(self.zip_path)
        return self

    def request_body(self):
        return {
            "fileSize": self.zip_size,
            "fileHash": self.zip_hash,
            "fileParts": [
                {"ordinalNumber": p.ordinal, "fileSize": p.encrypted_size, "fileHash": p.encrypted_hash}
                for p in self.parts
            ],
        }


class BatchResult:
    """Outcome of a batch: ``reference``, session ``status`` and ``results`` ``{own_id: InvoiceResult}``."""

    def __init__(self, reference, results, status=None):
        self.reference = reference
        self.results = results
        self.status = status

    def __repr__(self):
        return "BatchResult(%s, %d invoices)" % (self.reference, len(self.results))


class BatchSessions:
    """Batch-session operations of a :class:`~ksef_core.client.KsefClient`."""

    def __init__(self, client, part_size=MAX_PART_SIZE, upload_workers=4, tmp_dir=None):
        self._c = client
        self.part_size = part_size
        self.upload_workers = max(1, int(upload_workers))
        self.tmp_dir = tmp_dir
        self.last_parts = []  # (ordinal, plain size, encrypted size) of the last batch sent

    def send(self, invoices, form="FA3", offline_mode=False, wait=True, on_opened=None):
        """Send ``[(own_id, xml)]`` (any iterable) as one batch; returns :class:`BatchResult`.

        ``on_opened(reference)`` is called as soon as KSeF has opened the session, before any part
        is uploaded: a caller that must survive a crash stores the reference there.
        """
        key, iv = new_symmetric_key()
        with BatchPackage(self.part_size, self.tmp_dir) as package:
            for own_id, xml in invoices:
                package.add(own_id, xml)
            package.finish(key, iv)
            code = form_code(form)

            def op(public_key):
                body = {
                    "formCode": code,
                    "batchFile": package.request_body(),
                    "encryption": encryption_block(self._c, key, iv, public_key),
                    "offlineMode": bool(offline_mode),
                }
                return self._c.api("POST", "/sessions/batch", json_body=body, idempotent=True)

            opened = self._c.keys.with_key(SYMMETRIC_KEY_ENCRYPTION, op)
            reference = opened["referenceNumber"]
            _logger.info("KSeF batch session %s opened (%d parts)", reference, len(package.parts))
            if on_opened is not None:
                on_opened(reference)
            self._upload(package, opened.get("partUploadRequests") or [])
            self.last_parts = [(p.ordinal, p.plain_size, p.encrypted_size) for p in package.parts]
            hashes = package.hashes
        self._c.api("POST", "/sessions/batch/%s/close" % reference, idempotent=True)
        results = {}
        for invoice_hash, own_ids in hashes.items():
            for own_id in own_ids:
                results[own_id] = InvoiceResult(own_id, invoice_hash, session_reference=reference)
        batch = BatchResult(reference, results)
        if wait:
            self.wait(batch, hashes)
        return batch

    def _upload(self, package, requests_list):
        by_ordinal = {r["ordinalNumber"]: r for r in requests_list}
        missing = [p.ordinal for p in package.parts if p.ordinal not in by_ordinal]
        if missing:
            raise KsefApiError(
                "KSeF gave no upload address for batch part(s) %s: send the batch again." % missing,
                "KSeF nie podał adresu wysyłki części paczki %s: wyślij paczkę ponownie." % missing,
                code="batch_upload_missing",
            )
        jobs = [(p, by_ordinal[p.ordinal]) for p in package.parts]
        with ThreadPoolExecutor(max_workers=min(self.upload_workers, len(jobs))) as pool:
            for future in [pool.submit(self._upload_part, p, r) for p, r in jobs]:
                future.result()

    def _upload_part(self, part, upload):
        transport = self._c.transport
        headers = dict(upload.get("headers") or {})
        method = (upload.get("method") or "PUT").upper()
        attempt = 0
        while True:
            attempt += 1
            try:
                with open(part.path, "rb") as body:
                    # Pre-signed URL: no bearer token.
                    response = transport.session.request(
                        method, upload["url"], data=body, headers=headers, timeout=transport.timeout
                    )
                if response.status_code < 400:
                    return
                retry = response.status_code >= 500
                error = "HTTP %d" % response.status_code
            except (requests.ConnectionError, requests.Timeout) as exc:
                retry, error = True, type(exc).__name__
            if not retry or attempt >= transport.retry.max_attempts:
                raise KsefUnavailable(
                    "Uploading batch part %d failed (%s): send the batch again." % (part.ordinal, error),
                    "Wysyłka części %d paczki nie powiodła się (%s): wyślij paczkę ponownie." % (part.ordinal, error),
                    code="batch_upload_failed",
                )
            transport.sleep(transport.retry.delay(attempt))

    def wait(self, batch, hashes=None, policy=None):
        """Poll the session until processed, then map every invoice status by hash."""

        def fetch():
            return self._c.api("GET", "/sessions/%s" % batch.reference)

        def done(data):
            return status_codes.describe_status("session", data.get("status")).final

        data = poll(fetch, done, policy or self._c.poll_policy, self._c.transport.sleep, "the batch", "paczka")
        batch.status = status_codes.describe_status("session", data.get("status"))
        by_hash = {}
        for result in batch.results.values():
            by_hash.setdefault(result.invoice_hash, []).append(result)
        for item in self._c.online.list_invoices(batch.reference, page_size=1000):
            for result in by_hash.get(item.get("invoiceHash"), ()):
                result.update(item)
        for result in batch.results.values():
            if result.status is None:
                # KSeF reported nothing for this invoice: the whole session failed.
                result.status = status_codes.describe("invoice", 405 if not batch.status.ok else None)
        return batch
