"""Receiving invoices: metadata query (paging + truncation windows), download, export.

The export is exposed as an iterator of :class:`ExportedInvoice`; its parts are
downloaded without the bearer token, checked against their hashes (the
download's ``x-ms-meta-hash`` header when KSeF sends it, ``encryptedPartHash``,
``partHash``), decrypted chunk by chunk into a temporary file, unpacked (ZIP, or
tar.gz when the package's ``compressionType`` says ``TarGz``), and
``_metadata.json`` is read to attach each invoice's metadata.

Only what the API promises is relied on: ``permanentStorageHwmDate`` may be null
(always for dateType Issue/Invoicing), ``lastPermanentStorageDate`` & co. come
only with a truncated package, ``compressionType`` may be missing (API < 2.9: Zip).
"""

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import zipfile

from ..crypto import AesCbcStreamDecryptor, new_symmetric_key
from ..hashing import b64, sha256_b64
from . import status_codes
from .errors import KsefApiError, KsefIntegrityError, KsefProcessingError
from .keys import SYMMETRIC_KEY_ENCRYPTION
from .online import check_ksef_number, encryption_block
from .polling import poll

_logger = logging.getLogger(__name__)

DATE_FIELDS = {"Issue": "issueDate", "Invoicing": "invoicingDate", "PermanentStorage": "permanentStorageDate"}
MAX_INVOICE_BYTES = 3 * 1000 * 1000
ZIP, TARGZ = "Zip", "TarGz"


def _integrity_error(what_en, what_pl, details=None):
    return KsefIntegrityError(
        "The downloaded %s does not match the hash KSeF announced: download it again." % what_en,
        "Pobrany %s nie zgadza się ze skrótem podanym przez KSeF: pobierz go ponownie." % what_pl,
        details=details,
    )


def _part_error(part, check):
    """A part failed ``check`` (``x-ms-meta-hash``, ``encryptedPartHash`` or ``partHash``)."""
    number = part.get("ordinalNumber", "?")
    return _integrity_error(
        "export part %s" % number,
        "fragment eksportu nr %s" % number,
        details={"part": number, "check": check},
    )


class ExportedInvoice:
    """One invoice of an export: ``ksef_number``, ``xml`` (bytes, may be None) and ``metadata`` (dict)."""

    __slots__ = ("ksef_number", "metadata", "xml")

    def __init__(self, ksef_number, xml, metadata):
        self.ksef_number = ksef_number
        self.xml = xml
        self.metadata = metadata or {}

    def __repr__(self):
        return "ExportedInvoice(%s)" % self.ksef_number


class ExportPackage:
    """Package description of a finished export (truncation and HWM dates)."""

    def __init__(self, reference, package):
        package = package or {}
        self.reference = reference
        self.invoice_count = package.get("invoiceCount", 0)
        self.is_truncated = bool(package.get("isTruncated"))
        self.last_permanent_storage_date = package.get("lastPermanentStorageDate")
        self.last_invoicing_date = package.get("lastInvoicingDate")
        self.last_issue_date = package.get("lastIssueDate")
        self.permanent_storage_hwm_date = package.get("permanentStorageHwmDate")
        self.compression_type = package.get("compressionType") or ZIP
        self.parts = sorted(package.get("parts") or (), key=lambda p: p.get("ordinalNumber", 0))


class Export:
    """Iterator over the invoices of one export; ``package`` is set once KSeF finished it."""

    def __init__(self, receiving, filters, only_metadata=False):
        self._r = receiving
        self.filters = filters
        self.only_metadata = only_metadata
        self.package = None

    def __iter__(self):
        return self._r._run_export(self)


class Receiving:
    """Receiving operations of a :class:`~ksef_core.client.KsefClient`."""

    def __init__(self, client, tmp_dir=None):
        self._c = client
        self.tmp_dir = tmp_dir

    # -- metadata query ---------------------------------------------------------------------
    def query_metadata(self, filters, page_size=250, sort_order="Asc", info=None):
        """Yield every ``InvoiceMetadata`` matching ``filters`` (``InvoiceQueryFilters`` dict).

        Follows ``hasMore`` pages and, when KSeF truncates the result (10 000 records),
        continues from the last record's date; records seen twice at a window edge are skipped.
        ``info`` (a dict), when given, receives ``permanentStorageHwmDate`` of the last answer.
        """
        filters = json.loads(json.dumps(filters))
        date_range = filters.setdefault("dateRange", {})
        field = DATE_FIELDS.get(date_range.get("dateType", "PermanentStorage"), "permanentStorageDate")
        seen_at_edge = set()
        edge_date, edge_numbers = None, set()
        offset = 0
        while True:
            data = self._c.api(
                "POST",
                "/invoices/query/metadata",
                json_body=filters,
                params={"pageOffset": offset, "pageSize": page_size, "sortOrder": sort_order},
                idempotent=True,
            )
            invoices = data.get("invoices") or []
            if info is not None:
                info["permanentStorageHwmDate"] = data.get("permanentStorageHwmDate")
            for item in invoices:
                number = item.get("ksefNumber")
                if number in seen_at_edge:
                    continue
                when = item.get(field)
                if when != edge_date:
                    edge_date, edge_numbers = when, set()
                edge_numbers.add(number)
                yield item
            if data.get("isTruncated") and data.get("hasMore") and invoices:
                # KSeF stops at 10 000 records per filter set: narrow the range to the last date seen.
                bound = "to" if sort_order == "Desc" else "from"
                if not edge_date or edge_date == date_range.get(bound):
                    _logger.warning("KSeF truncated a query at a date it cannot move past; stopping")
                    return
                seen_at_edge = set(edge_numbers)
                date_range[bound] = edge_date
                offset = 0
                continue
            if not data.get("hasMore") or not invoices:
                return
            offset += 1

    # -- single download --------------------------------------------------------------------
    def download(self, ksef_number):
        """XML (bytes) of one invoice by KSeF number, checked against ``x-ms-meta-hash``."""
        check_ksef_number(ksef_number)
        response = self._c.api(
            "GET", "/invoices/ksef/%s" % ksef_number, expect_json=False, headers={"Accept": "application/xml"}
        )
        content = response.content
        expected = response.headers.get("x-ms-meta-hash")
        if expected and expected != sha256_b64(content):
            raise _integrity_error("invoice", "plik faktury")
        return content

    # -- export -----------------------------------------------------------------------------
    def export(self, filters, only_metadata=False):
        """An :class:`Export` iterator; nothing is requested before iteration starts."""
        return Export(self, filters, only_metadata)

    def start_export(self, filters, key, iv, only_metadata=False):
        def op(public_key):
            body = {"encryption": encryption_block(self._c, key, iv, public_key), "filters": filters}
            if only_metadata:
                body["onlyMetadata"] = True
            return self._c.api("POST", "/invoices/exports", json_body=body, idempotent=True)

        return self._c.keys.with_key(SYMMETRIC_KEY_ENCRYPTION, op)["referenceNumber"]

    def wait_export(self, reference, policy=None):
        def fetch():
            return self._c.api("GET", "/invoices/exports/%s" % reference)

        def done(data):
            return status_codes.describe_status("export", data.get("status")).final

        data = poll(fetch, done, policy or self._c.poll_policy, self._c.transport.sleep, "the export", "eksport")
        info = status_codes.describe_status("export", data.get("status"))
        if not info.ok:
            raise KsefProcessingError(info.message_en, info.message_pl, status_code=info.code, state=info.state)
        return ExportPackage(reference, data.get("package"))

    def _download_part(self, part, key, iv, out):
        """Download one encrypted part (no bearer), decrypt into ``out``; verify its hashes.

        The encrypted bytes must match the download's ``x-ms-meta-hash`` header (when KSeF
        sends it) and ``encryptedPartHash`` -- checked before the decryption is finished,
        so a tampered part is refused as such -- and the plain bytes ``partHash``.
        """
        transport = self._c.transport
        enc_digest, plain_digest = hashlib.sha256(), hashlib.sha256()
        decryptor = AesCbcStreamDecryptor(key, iv)
        response = transport.request(
            part.get("method") or "GET",
            part["url"],
            expect_json=False,
            headers={"Accept": "*/*"},
            stream=True,
        )
        with response:
            announced = response.headers.get("x-ms-meta-hash")
            for chunk in response.iter_content(1 << 20):
                enc_digest.update(chunk)
                plain = decryptor.update(chunk)
                plain_digest.update(plain)
                out.write(plain)
        enc_hash = b64(enc_digest.digest())
        if announced and announced != enc_hash:
            raise _part_error(part, "x-ms-meta-hash")
        if part.get("encryptedPartHash") and enc_hash != part["encryptedPartHash"]:
            raise _part_error(part, "encryptedPartHash")
        plain = decryptor.finalize()
        plain_digest.update(plain)
        out.write(plain)
        if part.get("partHash") and b64(plain_digest.digest()) != part["partHash"]:
            raise _part_error(part, "partHash")

    def _run_export(self, export):
        key, iv = new_symmetric_key()
        reference = self.start_export(export.filters, key, iv, export.only_metadata)
        export.package = package = self.wait_export(reference)
        if not package.parts:
            return
        if package.compression_type not in (ZIP, TARGZ):
            raise KsefApiError(
                "KSeF packed the export as %r, which this client cannot read." % package.compression_type,
                "KSeF spakował eksport w formacie %r, którego ten klient nie obsługuje." % package.compression_type,
                code="export_compression_unsupported",
            )
        work = tempfile.mkdtemp(prefix="ksef-export-", dir=self.tmp_dir)
        try:
            path = os.path.join(work, "export.archive")
            with open(path, "wb") as out:
                for part in package.parts:
                    self._download_part(part, key, iv, out)
            reader = _TarGzArchive if package.compression_type == TARGZ else _ZipArchive
            with contextlib.closing(reader(path)) as archive:
                names = archive.names()
                metadata = {}
                if "_metadata.json" in names:
                    meta = json.loads(archive.member("_metadata.json").decode("utf-8"))
                    metadata = {m.get("ksefNumber"): m for m in meta.get("invoices") or ()}
                xml_names = {n[:-4]: n for n in names if n.endswith(".xml")}
                order = list(metadata) + [n for n in sorted(xml_names) if n not in metadata]
                for number in order:
                    name = xml_names.get(number)
                    xml = None
                    if name is not None:
                        if archive.size(name) > MAX_INVOICE_BYTES:
                            _logger.warning("Skipping an oversized file in a KSeF export")
                            continue
                        xml = archive.member(name)
                    yield ExportedInvoice(number, xml, metadata.get(number))
        finally:
            shutil.rmtree(work, ignore_errors=True)


class _ZipArchive:
    """The files of a ZIP (``names``, declared ``size``, ``read``)."""

    def __init__(self, path):
        self._zip = zipfile.ZipFile(path)

    def names(self):
        return self._zip.namelist()

    def size(self, name):
        return self._zip.getinfo(name).file_size

    def member(self, name):
        return self._zip.read(name)

    def close(self):
        self._zip.close()


class _TarGzArchive:
    """Regular files of a tar.gz; nothing is extracted to disk (no links, no paths)."""

    def __init__(self, path):
        self._tar = tarfile.open(path, "r:gz")  # noqa: SIM115 -- closed by close()
        try:
            self._members = {m.name: m for m in self._tar.getmembers() if m.isfile()}
        except BaseException:
            self._tar.close()
            raise

    def names(self):
        return list(self._members)

    def size(self, name):
        return self._members[name].size

    def member(self, name):
        with self._tar.extractfile(self._members[name]) as fh:
            return fh.read()

    def close(self):
        self._tar.close()
