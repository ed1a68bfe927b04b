"""Asynchronous invoice export: ``POST /invoices/exports`` and ``GET /invoices/exports/{ref}``.

The package is built when the export is requested (the status is 200 at the
first poll): invoices matching the filters, ascending by the filter's date,
until ``export_max_invoices`` (10,000) or 1 GB; files ``{ksefNumber}.xml`` and
``_metadata.json`` (``{"invoices": [InvoiceMetadata...]}``) in a ZIP (default)
or tar.gz, cut into parts of at most ``export_part_size`` bytes (50 MB), each
part AES-256-CBC encrypted with the caller's key and IV and downloadable
without a bearer token from a pre-signed URL.

As the contract (``InvoicePackage`` / ``InvoicePackagePart``) says:

* ``package.compressionType`` names the archive format (``Zip`` | ``TarGz``),
* ``permanentStorageHwmDate`` is set for dateType PermanentStorage only (null
  for Issue and Invoicing),
* ``lastIssueDate`` / ``lastInvoicingDate`` / ``lastPermanentStorageDate`` (the
  one of the filter's date type) appear only when the package was truncated,
* a part download answers with ``x-ms-meta-hash``: Base64 SHA-256 of the
  encrypted part, the bytes downloaded (= ``encryptedPartHash``).

Over time, as the status description says: the first ``export_pending_polls``
status requests answer 100 (being prepared); every status request signs the part
URLs anew (each valid ``url_ttl`` seconds, its ``expirationDate``), so a client
that comes back later gets working URLs; after ``packageExpirationDate``
(``export_package_ttl`` after the request) the status is 210 (expired, no
package) and the parts are gone; after 7 days the status answers 410.
"""

import datetime as dt
import json

from ..crypto import aes_encrypt
from ..hashing import sha256_b64
from .errors import ApiError, bad_request, validation_error
from .inv_archive import TARGZ, ZIP, build_archive
from .inv_common import STORAGE_PREFIX, bool_field, check_signature, session_key, signed_url
from .numbering import KIND_EXPORT, reference_number
from .receiving import Query, find_invoices
from .routing import bytes_response, json_response, route
from .storage_invoices import iso, metadata_json, store_of

READ_PERMISSIONS = ("InvoiceRead",)
MAX_PACKAGE_BYTES = 1000 * 1000 * 1000
STATUS_KEPT = dt.timedelta(days=7)
_PART_BLOB = "export_part"
_LAST_FIELDS = {
    "Issue": ("lastIssueDate", "issueDate"),
    "Invoicing": ("lastInvoicingDate", "invoicingDate"),
    "PermanentStorage": ("lastPermanentStorageDate", "permanentStorageDate"),
}


def _select(store, query, context, only_metadata):
    """Invoices of the package (ascending), XML contents, truncation flag."""
    found = find_invoices(store, query, context)
    limit = int(store.settings["export_max_invoices"])
    chosen, files, total = [], [], 0
    for record in found:
        if len(chosen) >= limit:
            break
        data = b"" if only_metadata else store.invoice_xml(record["ksefNumber"]) or b""
        if total + len(data) > MAX_PACKAGE_BYTES and chosen:
            break
        chosen.append(record)
        total += len(data)
        if not only_metadata:
            files.append(("%s.xml" % record["ksefNumber"], data))
    return chosen, files, len(chosen) < len(found)


def build_export(sim, principal, body):
    """Create an export from an ``InvoiceExportRequest`` body; returns the export dict."""
    store = store_of(sim)
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem InvoiceExportRequest.")
    now = sim.clock.now()
    query = Query(body.get("filters"), now)
    only_metadata = bool_field(body, "onlyMetadata")
    compression = body.get("compressionType") or ZIP
    if compression not in (ZIP, TARGZ):
        raise validation_error("Pole 'compressionType' przyjmuje wartości Zip lub TarGz.")
    key, iv = session_key(sim, body)
    ref = reference_number(sim.clock, KIND_EXPORT)
    export = {
        "referenceNumber": ref,
        "context": principal.context_value,
        "dateCreated": now,
        "parts": [],
    }
    if key is None:
        export["status"] = {"code": 415, "description": "Błąd odszyfrowania dostarczonego klucza"}
        store.exports[ref] = export
        return export
    chosen, files, truncated = _select(store, query, principal.context_value, only_metadata)
    files.append(
        (
            "_metadata.json",
            json.dumps({"invoices": [metadata_json(r) for r in chosen]}, ensure_ascii=False).encode("utf-8"),
        )
    )
    archive = build_archive(files, compression)
    part_size = int(store.settings["export_part_size"])
    suffix = ".zip.aes" if compression == ZIP else ".tar.gz.aes"
    for number, start in enumerate(range(0, len(archive), part_size), 1):
        plain = archive[start : start + part_size]
        encrypted = aes_encrypt(key, iv, plain)
        sim.state.put_blob(_PART_BLOB, "%s-%d" % (ref, number), encrypted)
        export["parts"].append(
            {
                "ordinalNumber": number,
                "partName": "%s-%03d%s" % (ref, number, suffix),
                "partSize": len(plain),
                "partHash": sha256_b64(plain),
                "encryptedPartSize": len(encrypted),
                "encryptedPartHash": sha256_b64(encrypted),
            }
        )
    package = {
        "invoiceCount": len(chosen),
        "size": len(archive),
        "compressionType": compression,
        "isTruncated": truncated,
        "permanentStorageHwmDate": query.hwm_date(),
    }
    if truncated and chosen:
        name, field = _LAST_FIELDS[query.date_type]
        last = chosen[-1][field]
        package[name] = last if isinstance(last, str) else iso(last)
    export["package"] = package
    export["status"] = {"code": 200, "description": "Eksport faktur zakończony sukcesem"}
    export["completedDate"] = sim.clock.now()
    store.exports[ref] = export
    return export


@route("POST", "/invoices/exports", permissions=READ_PERMISSIONS, rate_group="exports")
def post_export(sim, ctx):
    export = build_export(sim, ctx.principal, ctx.json)
    return json_response({"referenceNumber": export["referenceNumber"]}, status=201)


def _package_expiry(store, export):
    return export["dateCreated"] + dt.timedelta(seconds=float(store.settings["export_package_ttl"]))


def _package_expired(store, export):
    return export.get("package") is not None and store.clock.now() > _package_expiry(store, export)


def export_json(store, ctx, export):
    pending = int(store.settings["export_pending_polls"])
    if export.get("package") is not None and export.get("polls", 0) < pending:
        export["polls"] = export.get("polls", 0) + 1
        return {"status": {"code": 100, "description": "Eksport faktur w toku"}}
    if _package_expired(store, export):
        return {
            "status": {"code": 210, "description": "Eksport faktur wygasł i nie jest już dostępny do pobrania"},
            "completedDate": iso(export["completedDate"]),
            "packageExpirationDate": iso(_package_expiry(store, export)),
        }
    out = {"status": dict(export["status"])}
    if export.get("completedDate"):
        out["completedDate"] = iso(export["completedDate"])
    if export.get("package") is not None:
        package = dict(export["package"])
        package.setdefault("compressionType", ZIP)  # exports persisted by an older simulator
        parts = []
        for part in export["parts"]:
            url, expires = signed_url(store, ctx, "/export/%s/%d" % (export["referenceNumber"], part["ordinalNumber"]))
            item = dict(part)
            item.update({"method": "GET", "url": url, "expirationDate": iso(expires)})
            parts.append(item)
        package["parts"] = parts
        out["package"] = package
        out["packageExpirationDate"] = iso(_package_expiry(store, export))
    return out


def _export(store, ref, context):
    export = store.exports.get(ref)
    if export is None or (context is not None and export["context"] != context):
        raise bad_request(
            21175,
            "Wynik zapytania o podanym identyfikatorze nie istnieje.",
            ["Eksport o numerze referencyjnym %s nie został odnaleziony." % ref],
        )
    if store.clock.now() > export["dateCreated"] + STATUS_KEPT:
        raise ApiError(410, None, "Status eksportu %s wygasł (przechowywany 7 dni)." % ref)
    return export


@route("GET", "/invoices/exports/{referenceNumber}", permissions=READ_PERMISSIONS, rate_group="export_status")
def get_export(sim, ctx):
    store = store_of(sim)
    export = _export(store, ctx.param("referenceNumber"), ctx.principal.context_value)
    return json_response(export_json(store, ctx, export))


@route("GET", "/export/{ref}/{ordinal}", auth="none", rate_group=None, prefix=STORAGE_PREFIX)
def download_part(sim, ctx):
    store = store_of(sim)
    check_signature(store, ctx)
    export = _export(store, ctx.param("ref"), None)
    data = sim.state.get_blob(_PART_BLOB, "%s-%s" % (export["referenceNumber"], ctx.param("ordinal")))
    if data is None or _package_expired(store, export):
        raise ApiError(404, None, "Nie znaleziono części eksportu.")
    return bytes_response(data, headers={"x-ms-meta-hash": sha256_b64(data)})
