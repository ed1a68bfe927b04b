"""Read-only session endpoints shared by online and batch sessions, and the UPO downloads.

* ``GET /sessions`` – list of the context's sessions (x-continuation-token paging),
* ``GET /sessions/{ref}`` – ``SessionStatusResponse`` (with ``upo.pages`` once processed),
* ``GET /sessions/{ref}/invoices`` and ``.../invoices/failed`` – ``SessionInvoicesResponse``,
* ``GET /sessions/{ref}/invoices/{invoiceRef}`` – ``SessionInvoiceStatusResponse``,
* ``GET /sessions/{ref}/invoices/{invoiceRef}/upo``, ``.../invoices/ksef/{ksefNumber}/upo``,
  ``GET /sessions/{ref}/upo/{upoRef}`` – UPO XML with ``x-ms-meta-hash``,
* ``GET /_storage/upo/...`` – the same UPO documents through pre-signed URLs (no bearer).
"""

from ..hashing import sha256_b64
from .clock import parse_iso
from .errors import bad_request, validation_error
from .inv_common import STORAGE_PREFIX, check_signature, signed_url
from .routing import json_response, route, xml_response
from .storage_invoices import decode_token, encode_token, iso, store_of
from .upo import MAX_DOCUMENTS_PER_PAGE, invoice_upo, session_upo

READ_PERMISSIONS = ("InvoiceWrite", "Introspection", "PefInvoiceWrite", "EnforcementOperations")
_COMMON_STATUS = {"InProgress": (100, 150, 170), "Succeeded": (200,), "Cancelled": (440,)}


def _iso(value):
    return iso(value) if value is not None else None


def _page_size(ctx, default=10, minimum=10, maximum=1000):
    raw = ctx.args.get("pageSize")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size < minimum or size > maximum:
        raise validation_error("Parametr pageSize musi mieścić się w zakresie %d–%d." % (minimum, maximum))
    return size


def upo_entry(entry):
    """The dict :mod:`.upo` needs for one accepted entry."""
    return {
        "sellerNip": entry["sellerNip"],
        "ksefNumber": entry["ksefNumber"],
        "invoiceNumber": entry["invoiceNumber"],
        "issueDate": entry["issueDate"],
        "invoicingDate": iso(entry["invoicingDate"]),
        "acquisitionDate": iso(entry["acquisitionDate"]),
        "invoiceHash": entry["invoiceHash"],
        "invoicingMode": entry["invoicingMode"],
    }


def _pending_json(entry):
    return {
        "ordinalNumber": entry["ordinalNumber"],
        "referenceNumber": entry["referenceNumber"],
        "invoiceHash": entry["invoiceHash"],
        "invoicingDate": _iso(entry["invoicingDate"]),
        "status": {"code": 150, "description": "Trwa przetwarzanie"},
    }


def entry_json(store, ctx, entry, poll=False):
    """``SessionInvoiceStatusResponse`` of one entry (fresh UPO link for accepted invoices).

    While ``pendingPolls`` > 0 the entry still looks "processing" (150); ``poll=True``
    (the single-invoice status endpoint) counts one poll down.
    """
    if entry.get("pendingPolls"):
        if poll:
            entry["pendingPolls"] -= 1
        return _pending_json(entry)
    out = {
        "ordinalNumber": entry["ordinalNumber"],
        "invoiceNumber": entry.get("invoiceNumber"),
        "ksefNumber": entry.get("ksefNumber"),
        "referenceNumber": entry["referenceNumber"],
        "invoiceHash": entry["invoiceHash"],
        "invoicingDate": _iso(entry["invoicingDate"]),
        "status": dict(entry["status"]),
    }
    if entry.get("invoiceFileName"):
        out["invoiceFileName"] = entry["invoiceFileName"]
    if entry.get("ksefNumber"):
        out["acquisitionDate"] = _iso(entry["acquisitionDate"])
        if store.clock.now() >= entry["permanentStorageDate"]:
            out["permanentStorageDate"] = _iso(entry["permanentStorageDate"])
        out["invoicingMode"] = entry["invoicingMode"]
        url, expires = signed_url(
            store, ctx, "/upo/%s/%s" % (entry["sessionReferenceNumber"], entry["referenceNumber"])
        )
        out["upoDownloadUrl"] = url
        out["upoDownloadUrlExpirationDate"] = iso(expires)
    return {k: v for k, v in out.items() if v is not None}


def session_json(store, ctx, session):
    total, ok, failed = store.counts(session)
    out = {
        "status": dict(session["status"]),
        "dateCreated": iso(session["dateCreated"]),
        "dateUpdated": iso(session["dateUpdated"]),
        "invoiceCount": total,
        "successfulInvoiceCount": ok,
        "failedInvoiceCount": failed,
    }
    if session.get("validUntil"):
        out["validUntil"] = iso(session["validUntil"])
    if session.get("upoPages"):
        pages = []
        for upo_ref in session["upoPages"]:
            url, expires = signed_url(store, ctx, "/upo/%s/page/%s" % (session["referenceNumber"], upo_ref))
            pages.append({"referenceNumber": upo_ref, "downloadUrl": url, "downloadUrlExpirationDate": iso(expires)})
        out["upo"] = {"pages": pages}
    return out


@route("GET", "/sessions/{referenceNumber}", permissions=READ_PERMISSIONS, rate_group="session_status")
def get_session_status(sim, ctx):
    store = store_of(sim)
    session = store.get_session(ctx.param("referenceNumber"), ctx.principal)
    return json_response(session_json(store, ctx, session))


def _list_entries(sim, ctx, failed_only):
    store = store_of(sim)
    session = store.get_session(ctx.param("referenceNumber"), ctx.principal)
    size = _page_size(ctx)
    offset = decode_token(ctx.headers.get("x-continuation-token"))
    entries = store.session_entries(session)
    if failed_only:
        entries = [e for e in entries if e["status"]["code"] >= 400]
    chunk = entries[offset : offset + size]
    body = {"invoices": [entry_json(store, ctx, e) for e in chunk]}
    if offset + size < len(entries):
        body["continuationToken"] = encode_token(offset + size)
    return json_response(body)


@route("GET", "/sessions/{referenceNumber}/invoices", permissions=READ_PERMISSIONS, rate_group="session_invoices")
def get_session_invoices(sim, ctx):
    return _list_entries(sim, ctx, failed_only=False)


@route(
    "GET",
    "/sessions/{referenceNumber}/invoices/failed",
    permissions=READ_PERMISSIONS,
    rate_group="session_invoices",
)
def get_session_failed(sim, ctx):
    return _list_entries(sim, ctx, failed_only=True)


def _entry(store, session, invoice_ref):
    entry = store.entries.get(invoice_ref)
    if entry is None or entry["sessionReferenceNumber"] != session["referenceNumber"]:
        raise bad_request(
            21405,
            "Błąd walidacji danych wejściowych.",
            [
                "Faktura o numerze referencyjnym %s nie została odnaleziona w sesji %s."
                % (invoice_ref, session["referenceNumber"])
            ],
        )
    return entry


@route(
    "GET",
    "/sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}",
    permissions=READ_PERMISSIONS,
    rate_group="invoice_status",
)
def get_invoice_status(sim, ctx):
    store = store_of(sim)
    session = store.get_session(ctx.param("referenceNumber"), ctx.principal)
    entry = _entry(store, session, ctx.param("invoiceReferenceNumber"))
    return json_response(entry_json(store, ctx, entry, poll=True))


# -- UPO ---------------------------------------------------------------------------------------
def _upo_response(data):
    return xml_response(data, headers={"x-ms-meta-hash": sha256_b64(data)})


def _no_upo(session_ref, what):
    return bad_request(
        21178,
        "Nie znaleziono UPO dla podanych kryteriów.",
        ["UPO %s dla sesji %s nie zostało znalezione." % (what, session_ref)],
    )


def invoice_upo_bytes(store, session, entry):
    if entry.get("status", {}).get("code") != 200 or entry.get("pendingPolls"):
        raise _no_upo(session["referenceNumber"], "faktury %s" % entry["referenceNumber"])
    return invoice_upo(session, upo_entry(entry))


def session_upo_bytes(store, session, upo_ref):
    pages = session.get("upoPages") or []
    if upo_ref not in pages:
        raise _no_upo(session["referenceNumber"], "o numerze referencyjnym %s" % upo_ref)
    accepted = [upo_entry(e) for e in store.session_entries(session) if e["status"]["code"] == 200]
    return session_upo(session, accepted, page=pages.index(upo_ref) + 1, page_size=MAX_DOCUMENTS_PER_PAGE)


@route(
    "GET",
    "/sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}/upo",
    permissions=READ_PERMISSIONS,
    rate_group="session_status",
)
def get_invoice_upo(sim, ctx):
    store = store_of(sim)
    session = store.get_session(ctx.param("referenceNumber"), ctx.principal)
    entry = _entry(store, session, ctx.param("invoiceReferenceNumber"))
    return _upo_response(invoice_upo_bytes(store, session, entry))


@route(
    "GET",
    "/sessions/{referenceNumber}/invoices/ksef/{ksefNumber}/upo",
    permissions=READ_PERMISSIONS,
    rate_group="session_status",
)
def get_invoice_upo_by_ksef(sim, ctx):
    store = store_of(sim)
    session = store.get_session(ctx.param("referenceNumber"), ctx.principal)
    number = ctx.param("ksefNumber")
    record = store.invoices.get(number)
    if record is None or record["_sessionReferenceNumber"] != session["referenceNumber"]:
        raise _no_upo(session["referenceNumber"], "faktury o numerze KSeF %s" % number)
    entry = store.entries[record["_invoiceReferenceNumber"]]
    return _upo_response(invoice_upo_bytes(store, session, entry))


@route(
    "GET",
    "/sessions/{referenceNumber}/upo/{upoReferenceNumber}",
    permissions=READ_PERMISSIONS,
    rate_group="session_status",
)
def get_session_upo(sim, ctx):
    store = store_of(sim)
    session = store.get_session(ctx.param("referenceNumber"), ctx.principal)
    return _upo_response(session_upo_bytes(store, session, ctx.param("upoReferenceNumber")))


@route("GET", "/upo/{sessionRef}/{invoiceRef}", auth="none", rate_group=None, prefix=STORAGE_PREFIX)
def download_invoice_upo(sim, ctx):
    store = store_of(sim)
    check_signature(store, ctx)
    session = store.get_session(ctx.param("sessionRef"))
    entry = _entry(store, session, ctx.param("invoiceRef"))
    return _upo_response(invoice_upo_bytes(store, session, entry))


@route("GET", "/upo/{sessionRef}/page/{upoRef}", auth="none", rate_group=None, prefix=STORAGE_PREFIX)
def download_session_upo(sim, ctx):
    store = store_of(sim)
    check_signature(store, ctx)
    session = store.get_session(ctx.param("sessionRef"))
    return _upo_response(session_upo_bytes(store, session, ctx.param("upoRef")))


# -- GET /sessions -----------------------------------------------------------------------------
def _date_arg(ctx, name):
    raw = ctx.args.get(name)
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise validation_error("Parametr %s nie jest poprawną datą ISO 8601." % name)


def _common_status(code):
    for name, codes in _COMMON_STATUS.items():
        if code in codes:
            return name
    return "Failed"


@route("GET", "/sessions", permissions=READ_PERMISSIONS, rate_group="sessions_list")
def get_sessions(sim, ctx):
    store = store_of(sim)
    kind = ctx.args.get("sessionType")
    if kind not in ("Online", "Batch"):
        raise validation_error("Parametr sessionType jest wymagany: Online lub Batch.")
    size = _page_size(ctx)
    offset = decode_token(ctx.headers.get("x-continuation-token"))
    ref = ctx.args.get("referenceNumber")
    statuses = set(ctx.args.getlist("statuses"))
    ranges = [
        ("dateCreated", _date_arg(ctx, "dateCreatedFrom"), _date_arg(ctx, "dateCreatedTo")),
        ("dateClosed", _date_arg(ctx, "dateClosedFrom"), _date_arg(ctx, "dateClosedTo")),
        ("dateUpdated", _date_arg(ctx, "dateModifiedFrom"), _date_arg(ctx, "dateModifiedTo")),
    ]
    context = ctx.principal.context_value
    found = []
    for session in store.sessions.values():
        if session["type"] != kind or session["context"].get("value") != context:
            continue
        if ref and session["referenceNumber"] != ref:
            continue
        store.expire_if_due(session)
        if statuses and _common_status(session["status"]["code"]) not in statuses:
            continue
        skip = False
        for field, low, high in ranges:
            value = session.get(field)
            if ((low or high) and value is None) or (low and value < low) or (high and value > high):
                skip = True
        if not skip:
            found.append(session)
    found.sort(key=lambda s: s["dateCreated"], reverse=True)
    chunk = found[offset : offset + size]
    items = []
    for session in chunk:
        total, ok, failed = store.counts(session)
        item = {
            "referenceNumber": session["referenceNumber"],
            "status": dict(session["status"]),
            "dateCreated": iso(session["dateCreated"]),
            "dateUpdated": iso(session["dateUpdated"]),
            "totalInvoiceCount": total,
            "successfulInvoiceCount": ok,
            "failedInvoiceCount": failed,
        }
        if session.get("validUntil"):
            item["validUntil"] = iso(session["validUntil"])
        items.append(item)
    body = {"sessions": items}
    if offset + size < len(found):
        body["continuationToken"] = encode_token(offset + size)
    return json_response(body)
