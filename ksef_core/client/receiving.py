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

An export can be resumed by its reference (:meth:`Receiving.wait_export` then
:meth:`Receiving.read_package` with the key and IV it was started with): the part
URLs are made anew at every status request, so a later run downloads the parts again
with the fresh ones.  The invoices of a package come out ascending by
``permanentStorageDate``.  An invoice that cannot be handed over (a file larger than
``MAX_INVOICE_BYTES``, or listed in ``_metadata.json`` without its file) still comes
out, with ``xml=None`` and its ``problem`` (a bilingual :class:`KsefError`).
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
from ..errors import XmlInputError
from ..hashing import b64, sha256_b64
from . import status_codes
from .errors import KsefApiError, KsefIntegrityError, KsefProcessingError
from .keys import SYMMETRIC_KEY_ENCRYPTION
from .online import check_ksef_number, encryption_block
from .polling import poll
from .tokens import parse_datetime

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


def too_large_error(limit=None):
    """The invoice file is larger than this client reads (same words for an export and a download)."""
    limit = MAX_INVOICE_BYTES if limit is None else limit
    size = "%g MB" % (limit / 1000000.0) if limit >= 100000 else "%d B" % limit
    return XmlInputError(
        "The invoice file in KSeF is larger than %s, the most this system reads: it cannot become a bill "
        "automatically. Enter the bill by hand from the invoice in KSeF, then drop it from the invoices waiting."
        % size,
        "Plik faktury w KSeF jest większy niż %s, czyli więcej, niż ten system odczytuje: nie może automatycznie "
        "stać się rachunkiem. Wprowadź rachunek ręcznie na podstawie faktury w KSeF, a potem usuń ją z listy "
        "faktur oczekujących." % size,
        code="invoice_too_large",
        details={"limit": limit},
    )


def missing_file_error():
    """The package lists an invoice in ``_metadata.json`` but does not hold its file."""
    return KsefIntegrityError(
        "KSeF listed this invoice in the export package without its file: it is downloaded again by its "
        "KSeF number later.",
        "KSeF ujął tę fakturę w paczce eksportu bez jej pliku: zostanie później pobrana ponownie po numerze KSeF.",
        code="export_file_missing",
    )


class ExportedInvoice:
    """One invoice of an export: ``ksef_number``, ``xml`` (bytes, may be None) and ``metadata`` (dict).

    ``problem`` (a :class:`KsefError`, or None) says why ``xml`` is None when the file was expected.
    """

    __slots__ = ("ksef_number", "metadata", "problem", "xml")

    def __init__(self, ksef_number, xml, metadata, problem=None):
        self.ksef_number = ksef_number
        self.xml = xml
        self.metadata = metadata or {}
        self.problem = problem

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
        self.expiration_date = None  # packageExpirationDate of the status (set by wait_export)


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
    def download(self, ksef_number, max_bytes=None):
        """XML (bytes) of one invoice by KSeF number, checked against ``x-ms-meta-hash``.

        :raises XmlInputError: (``invoice_too_large``) the file is larger than ``max_bytes``
            (default ``MAX_INVOICE_BYTES``); no more than that is downloaded.
        """
        check_ksef_number(ksef_number)
        limit = MAX_INVOICE_BYTES if max_bytes is None else max_bytes
        response = self._c.api(
            "GET",
            "/invoices/ksef/%s" % ksef_number,
            expect_json=False,
            headers={"Accept": "application/xml"},
            stream=True,
        )
        with response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise too_large_error(limit)
            chunks, total = [], 0
            for chunk in response.iter_content(1 << 16):
                total += len(chunk)
                if total > limit:
                    raise too_large_error(limit)
                chunks.append(chunk)
        content = b"".join(chunks)
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
        package = ExportPackage(reference, data.get("package"))
        package.expiration_date = data.get("packageExpirationDate")
        return package

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
        yield from self.read_package(package, key, iv, export.only_metadata)

    def read_package(self, package, key, iv, only_metadata=False):
        """Download, check and unpack the parts of a finished export; yield its :class:`ExportedInvoice`.

        The invoices listed in ``_metadata.json`` come first, ascending by ``permanentStorageDate``, then
        files the metadata does not name.  The parts are downloaded from the URLs of ``package`` (those of
        the latest status: they expire).
        """
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
                yield from _package_invoices(archive, only_metadata)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _storage_order(entries):
    """``entries`` (InvoiceMetadata dicts) ascending by ``permanentStorageDate``; undated ones last, in order."""

    def key(indexed):
        index, entry = indexed
        stored = entry.get("permanentStorageDate")
        try:
            moment = parse_datetime(stored) if stored else None
        except ValueError:
            moment = None
        return (moment is None, moment or 0, index)

    return [entry for _index, entry in sorted(enumerate(entries), key=key)]


def _package_invoices(archive, only_metadata):
    names = archive.names()
    entries = []
    if "_metadata.json" in names:
        meta = json.loads(archive.member("_metadata.json").decode("utf-8"))
        entries = [m for m in meta.get("invoices") or () if m.get("ksefNumber")]
    metadata = {m["ksefNumber"]: m for m in entries}
    xml_names = {n[:-4]: n for n in names if n.endswith(".xml")}
    order = [m["ksefNumber"] for m in _storage_order(list(metadata.values()))]
    order += [n for n in sorted(xml_names) if n not in metadata]
    for number in order:
        name = xml_names.get(number)
        xml = problem = None
        if name is not None:
            if archive.size(name) > MAX_INVOICE_BYTES:
                _logger.warning("An invoice file of a KSeF export is larger than %d bytes", MAX_INVOICE_BYTES)
                problem = too_large_error()
            else:
                xml = archive.member(name)
        elif not only_metadata:
            _logger.warning("A KSeF export package lists an invoice without its file")
            problem = missing_file_error()
        yield ExportedInvoice(number, xml, metadata.get(number), problem)


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
