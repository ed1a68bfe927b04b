"""HTTP endpoints of the collective identifiers (API 2.7.0, tag "Identyfikatory zbiorcze").

* ``POST /collective-identifiers`` → 201 ``{collectiveIdentifierNumber}`` (rate group ``collectiveIdentifier``:
  10/s, 60/min, 120/h);
* ``POST /collective-identifiers/query`` → identifiers created in the context, and for a NIP context those of
  invoices it issued (Podmiot 1); ``dateCreatedFrom``/``dateCreatedTo`` required, at most 100 days apart;
* ``GET /collective-identifiers/ksef/{ksefNumber}`` → identifiers holding the invoice;
* ``GET /collective-identifiers/{collectiveIdentifierNumber}/invoices`` → its invoices, ``ksefNumber`` (Desc);
* ``POST /collective-identifiers/invoices`` (after 2.7.0: replaces the GET above in later releases; what
  current SDKs call) → ``{"collectiveIdentifierNumbers": [up to 10]}``, each item also names its identifier,
  ``pageSize`` up to 500.

All need one of InvoiceRead, InvoiceWrite, CollectiveIdentifierManage. Lists page with the ``pageSize`` query
parameter (10–200, default 10) and the ``x-continuation-token`` header; the answer's ``continuationToken``
is absent on the last page. Rules and visibility: :mod:`.collective`.
"""

import datetime as dt

from ..ksef_number import is_valid_collective_identifier, is_valid_ksef_number
from .collective import QUERY_MAX_DAYS, collective_of, newest_first
from .errors import ApiError, validation_error
from .receiving import parse_query_date
from .routing import json_response, route
from .storage_invoices import decode_token, encode_token

PERMISSIONS = ("InvoiceRead", "InvoiceWrite", "CollectiveIdentifierManage")
MAX_NUMBERS_PER_QUERY = 10


def _page_size(ctx, maximum=200):
    raw = ctx.args.get("pageSize")
    if raw in (None, ""):
        return 10
    try:
        size = int(raw)
    except ValueError:
        size = None
    if size is None or not 10 <= size <= maximum:
        raise validation_error("Parametr 'pageSize' musi być liczbą całkowitą od 10 do %d." % maximum)
    return size


def _page(ctx, items, key, render, maximum=200):
    size = _page_size(ctx, maximum)
    offset = decode_token(ctx.headers.get("x-continuation-token"))
    body = {key: [render(item) for item in items[offset : offset + size]]}
    if offset + size < len(items):
        body["continuationToken"] = encode_token(offset + size)
    return json_response(body)


def _identifier_number(value, where="collectiveIdentifierNumber"):
    if not isinstance(value, str) or not is_valid_collective_identifier(value):
        raise validation_error(
            "%s: '%s' nie jest poprawnym identyfikatorem zbiorczym (NIP-IZRRRRMM-XXXXXXXXXXXX-CC)." % (where, value)
        )
    return value


def _existing(sim, number):
    record = collective_of(sim).get(number)
    if record is None:
        raise validation_error("Identyfikator zbiorczy %s nie istnieje." % number)
    return record


@route("POST", "/collective-identifiers", permissions=PERMISSIONS, rate_group="collective_identifier")
def generate(sim, ctx):
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem GenerateCollectiveIdentifierRequest.")
    p = ctx.principal
    record = collective_of(sim).generate({"type": p.context_type, "value": p.context_value}, body.get("invoices"))
    return json_response({"collectiveIdentifierNumber": record["number"]}, status=201)


def _optional_int(body, name):
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise validation_error("Pole '%s' musi być liczbą całkowitą." % name)
    return value


@route("POST", "/collective-identifiers/query", permissions=PERMISSIONS, rate_group=None)
def query(sim, ctx):
    body = ctx.json
    if not isinstance(body, dict):
        raise validation_error("Treść żądania musi być obiektem CollectiveIdentifiersQueryRequest.")
    date_from = parse_query_date(body.get("dateCreatedFrom"), "dateCreatedFrom")
    date_to = parse_query_date(body.get("dateCreatedTo"), "dateCreatedTo")
    if date_from > date_to:
        raise validation_error("Data 'dateCreatedFrom' jest późniejsza niż 'dateCreatedTo'.")
    if date_to - date_from > dt.timedelta(days=QUERY_MAX_DAYS):
        raise validation_error("Maksymalny przedział dat utworzenia to %d dni." % QUERY_MAX_DAYS)
    count_from, count_to = _optional_int(body, "invoiceCountFrom"), _optional_int(body, "invoiceCountTo")
    number = body.get("collectiveIdentifierNumber")
    if number is not None and not isinstance(number, str):
        raise validation_error("Pole 'collectiveIdentifierNumber' musi być tekstem.")
    current = body.get("createdInCurrentContext")
    if current is not None and not isinstance(current, bool):
        raise validation_error("Pole 'createdInCurrentContext' musi mieć wartość true lub false.")
    store, p = collective_of(sim), ctx.principal
    records = [
        r
        for r in store.for_context(p)
        if date_from <= r["dateCreated"] <= date_to
        and (count_from is None or len(r["invoices"]) >= count_from)
        and (count_to is None or len(r["invoices"]) <= count_to)
        and (number is None or r["number"] == number)
        and (current is None or store.created_in(r, p) == current)
    ]
    return _page(ctx, newest_first(records), "collectiveIdentifiers", lambda r: store.summary_json(r, p))


@route("GET", "/collective-identifiers/ksef/{ksefNumber}", permissions=PERMISSIONS, rate_group=None)
def by_ksef_number(sim, ctx):
    number = ctx.param("ksefNumber")
    if not is_valid_ksef_number(number):
        raise validation_error("ksefNumber: '%s' nie jest poprawnym numerem KSeF." % number)
    store, p = collective_of(sim), ctx.principal
    records = newest_first(store.for_invoice(number, p))
    return _page(ctx, records, "collectiveIdentifiers", lambda r: store.summary_json(r, p, count=False))


def _invoice_rows(record):
    return sorted(record["invoices"], key=lambda i: i["ksefNumber"], reverse=True)


@route(
    "GET",
    "/collective-identifiers/{collectiveIdentifierNumber}/invoices",
    permissions=PERMISSIONS,
    rate_group=None,
)
def invoices(sim, ctx):
    record = _existing(sim, _identifier_number(ctx.param("collectiveIdentifierNumber")))
    store, p = collective_of(sim), ctx.principal
    return _page(ctx, _invoice_rows(record), "invoices", lambda i: store.invoice_json(record, i, p))


@route("POST", "/collective-identifiers/invoices", permissions=PERMISSIONS, rate_group=None)
def invoices_of_many(sim, ctx):
    body = ctx.json
    numbers = body.get("collectiveIdentifierNumbers") if isinstance(body, dict) else None
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= MAX_NUMBERS_PER_QUERY:
        raise validation_error(
            "Pole 'collectiveIdentifierNumbers' musi zawierać od 1 do %d identyfikatorów zbiorczych."
            % MAX_NUMBERS_PER_QUERY
        )
    numbers = list(dict.fromkeys(_identifier_number(n, "collectiveIdentifierNumbers") for n in numbers))
    unknown = [n for n in numbers if collective_of(sim).get(n) is None]
    if unknown:
        raise validation_error("Identyfikator zbiorczy %s nie istnieje." % ", ".join(unknown))
    store, p = collective_of(sim), ctx.principal
    rows = [(store.get(n), item) for n in numbers for item in _invoice_rows(store.get(n))]
    return _page(ctx, rows, "invoices", lambda row: store.invoice_json(row[0], row[1], p, with_number=True), 500)


# -- admin API (``/_sim``, no auth): tests, benchmarks and the demo --------------------------------------------
def _admin(method, path):
    return route(method, path, auth="none", rate_group=None, prefix="/_sim")


@_admin("POST", "/collective-identifiers")
def admin_create(sim, ctx):
    """``{context: NIP, invoices: [KSeF number | CollectiveIdentifierInvoice]}`` → 201 ``{collectiveIdentifierNumber}``:
    an identifier created in ``context`` as if it had called the API (same rules, no login, no rate limit)."""
    body = ctx.json if isinstance(ctx.json, dict) else {}
    context = body.get("context")
    if not isinstance(context, str) or not context.isdigit() or len(context) != 10:
        raise validation_error("context: the NIP (10 digits) of the context creating the identifier")
    record = collective_of(sim).generate(context, body.get("invoices"))
    return json_response({"collectiveIdentifierNumber": record["number"]}, status=201)


@_admin("GET", "/collective-identifiers/{collectiveIdentifierNumber}")
def admin_get(sim, ctx):
    """Everything about one identifier: creator context, seller, invoices with their payment details."""
    record = collective_of(sim).get(ctx.param("collectiveIdentifierNumber"))
    if record is None:
        raise ApiError(404, None, "unknown collective identifier")
    return json_response(collective_of(sim).admin_json(record))
