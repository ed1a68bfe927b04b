"""Receiving invoices: ``POST /invoices/query/metadata`` and ``GET /invoices/ksef/{ksefNumber}``.

Every accepted invoice is visible to all its parties: the seller (Subject1,
Podmiot1 NIP), the buyer (Subject2, Podmiot2 NIP), third parties (Subject3,
Podmiot3 identifiers) and the authorised subject (SubjectAuthorized) – also when
both companies use the same simulator.  An invoice becomes visible once the
simulated clock reaches its ``permanentStorageDate`` (acquisition + a small
configurable delay); the permanent-storage high-water mark (HWM) is therefore
"now": every invoice stored at or before it is already visible.

One query is evaluated at one moment, its snapshot: ``pageOffset=0`` starts a
query, later pages with the same filters (any ``pageSize``/``sortOrder``) read
the same snapshot, so ``permanentStorageHwmDate`` is constant for all pages of
one query and a page never shows invoices stored after it (the contract:
"Wartość jest stała dla wszystkich stron tego samego zapytania").  It is null
for dateType Issue or Invoicing, and ``restrictToPermanentStorageHwmDate``
applies only to dateType PermanentStorage.

``pageOffset`` is a page index (0, 1, 2...), as in the official clients.
"""

import datetime as dt
import json
import re

from .errors import bad_request, validation_error
from .routing import json_response, route, xml_response
from .storage_invoices import WARSAW, iso, metadata_json, store_of, warsaw_date

READ_PERMISSIONS = ("InvoiceRead",)
SUBJECT_TYPES = ("Subject1", "Subject2", "Subject3", "SubjectAuthorized")
DATE_TYPES = {"Issue": "issueDate", "Invoicing": "invoicingDate", "PermanentStorage": "permanentStorageDate"}
AMOUNT_FIELDS = {"Brutto": "grossAmount", "Netto": "netAmount", "Vat": "vatAmount"}
INVOICE_TYPES = (
    "Vat",
    "Zal",
    "Kor",
    "Roz",
    "Upr",
    "KorZal",
    "KorRoz",
    "VatPef",
    "VatPefSp",
    "KorPef",
    "VatRr",
    "KorVatRr",
)
_FRACTION = re.compile(r"(\.\d{6})\d+")
#: how long later pages of a query keep reading its snapshot
SNAPSHOT_TTL = dt.timedelta(hours=1)
_SNAPSHOTS = "inv_query_snapshots"


def parse_query_date(value, name):
    """ISO-8601 date-time with ``Z``, an offset, or none (= Europe/Warsaw local time)."""
    if not isinstance(value, str) or not value:
        raise validation_error("Pole '%s' musi zawierać datę i czas w formacie ISO 8601." % name)
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        except ValueError:
            raise validation_error("Pole '%s' ('%s') nie jest poprawną datą ISO 8601." % (name, value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WARSAW)
    return moment.astimezone(dt.timezone.utc)


def _add_months(moment, months):
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(
        moment.day,
        [
            31,
            29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][month - 1],
    )
    return moment.replace(year=year, month=month, day=day)


class Query:
    """Validated ``InvoiceQueryFilters`` plus the matching logic."""

    def __init__(self, filters, now):
        if not isinstance(filters, dict):
            raise validation_error("Treść żądania musi zawierać obiekt InvoiceQueryFilters.")
        self.subject_type = filters.get("subjectType")
        if self.subject_type not in SUBJECT_TYPES:
            raise validation_error("Pole 'subjectType' musi mieć jedną z wartości: %s." % ", ".join(SUBJECT_TYPES))
        date_range = filters.get("dateRange")
        if not isinstance(date_range, dict):
            raise validation_error("Pole 'dateRange' jest wymagane.")
        self.date_type = date_range.get("dateType")
        if self.date_type not in DATE_TYPES:
            raise validation_error("Pole 'dateRange.dateType' musi mieć wartość Issue, Invoicing lub PermanentStorage.")
        self.field = DATE_TYPES[self.date_type]
        self.date_from = parse_query_date(date_range.get("from"), "dateRange.from")
        self.hwm = now
        restrict = self.date_type == "PermanentStorage" and bool(date_range.get("restrictToPermanentStorageHwmDate"))
        if restrict and self.date_from > self.hwm:
            raise bad_request(
                21183,
                "Zakres filtrowania wykracza poza dostępny zakres danych.",
                [
                    "Parametr dateRange.from jest późniejszy niż PermanentStorageHwmDate przy włączonym "
                    "restrictToPermanentStorageHwmDate."
                ],
            )
        to = date_range.get("to")
        self.date_to = parse_query_date(to, "dateRange.to") if to else max(now, self.date_from)
        if self.date_to < self.date_from:
            raise validation_error("Data 'dateRange.to' jest wcześniejsza niż 'dateRange.from'.")
        if self.date_to > _add_months(self.date_from, 3):
            raise validation_error("Zakres dat 'dateRange' nie może przekraczać 3 miesięcy.")
        if restrict:
            self.date_to = min(self.date_to, self.hwm)
        self.ksef_number = filters.get("ksefNumber")
        self.invoice_number = filters.get("invoiceNumber")
        self.seller_nip = filters.get("sellerNip")
        self.amount = filters.get("amount")
        if self.amount is not None and (
            not isinstance(self.amount, dict) or self.amount.get("type") not in AMOUNT_FIELDS
        ):
            raise validation_error("Pole 'amount.type' musi mieć wartość Brutto, Netto lub Vat.")
        if self.amount is not None:
            for bound in ("from", "to"):
                value = self.amount.get(bound)
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    raise validation_error("Pole 'amount.%s' musi być liczbą." % bound)
        for name in ("currencyCodes", "invoiceTypes"):
            if filters.get(name) is not None and not isinstance(filters.get(name), list):
                raise validation_error("Pole '%s' musi być tablicą." % name)
        self.buyer = filters.get("buyerIdentifier")
        if self.buyer is not None and (
            not isinstance(self.buyer, dict) or self.buyer.get("type") not in ("Nip", "VatUe", "Other", "None")
        ):
            raise validation_error("Pole 'buyerIdentifier.type' musi mieć wartość Nip, VatUe, Other lub None.")
        self.currencies = set(filters.get("currencyCodes") or ())
        self.invoicing_mode = filters.get("invoicingMode")
        self.self_invoicing = filters.get("isSelfInvoicing")
        self.form_type = filters.get("formType")
        self.invoice_types = set(filters.get("invoiceTypes") or ())
        unknown = self.invoice_types.difference(INVOICE_TYPES)
        if unknown:
            raise validation_error("Nieznany rodzaj faktury w 'invoiceTypes': %s." % ", ".join(sorted(unknown)))
        self.has_attachment = filters.get("hasAttachment")

    def _date_ok(self, record):
        if self.field == "issueDate":
            if not record["issueDate"]:
                return False
            issued = dt.date.fromisoformat(record["issueDate"])
            return warsaw_date(self.date_from) <= issued <= warsaw_date(self.date_to)
        value = record[self.field]
        return self.date_from <= value <= self.date_to

    def _subject_ok(self, record, context):
        if context in record["_parties"].get(self.subject_type, ()):
            return True
        if self.subject_type == "Subject3":
            return any(s["identifier"].get("value") == context for s in record.get("thirdSubjects") or ())
        return False

    def matches(self, record, context):
        if not self._subject_ok(record, context) or not self._date_ok(record):
            return False
        if self.ksef_number and record["ksefNumber"] != self.ksef_number:
            return False
        if self.invoice_number and record["invoiceNumber"] != self.invoice_number:
            return False
        if self.seller_nip and record["seller"]["nip"] != self.seller_nip:
            return False
        if self.amount:
            value = record[AMOUNT_FIELDS[self.amount["type"]]]
            low, high = self.amount.get("from"), self.amount.get("to")
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        if self.buyer:
            ident = record["buyer"]["identifier"]
            if ident["type"] != self.buyer["type"]:
                return False
            if self.buyer.get("value") and ident.get("value") != self.buyer["value"]:
                return False
        if self.currencies and record["currency"] not in self.currencies:
            return False
        if self.invoicing_mode and record["invoicingMode"] != self.invoicing_mode:
            return False
        if self.self_invoicing is not None and record["isSelfInvoicing"] != self.self_invoicing:
            return False
        if self.form_type and record["formCode"].get("value") != self.form_type:
            return False
        if self.invoice_types and record["invoiceType"] not in self.invoice_types:
            return False
        return self.has_attachment is None or record["hasAttachment"] == self.has_attachment

    def sort_key(self, record):
        return (record[self.field], record["acquisitionDate"], record["ksefNumber"])

    def hwm_date(self):
        """``permanentStorageHwmDate`` of the answer: only for dateType PermanentStorage, else null."""
        return iso(self.hwm) if self.date_type == "PermanentStorage" else None


def find_invoices(store, query, context, descending=False):
    """Invoices stored by the query's moment matching ``query`` for ``context``, sorted by its date."""
    found = [r for r in store.invoices.values() if query.hwm >= r["permanentStorageDate"] and query.matches(r, context)]
    found.sort(key=query.sort_key, reverse=descending)
    return found


def _snapshot_query(store, context, filters, offset, now):
    """The :class:`Query` of this page, evaluated at the moment its query started (see module doc)."""
    snapshots = store.state.bucket(_SNAPSHOTS)
    for key in [k for k, moment in snapshots.items() if not now - SNAPSHOT_TTL <= moment <= now]:
        del snapshots[key]  # expired, or the clock was set back
    key = "%s|%s" % (context, json.dumps(filters, sort_keys=True, separators=(",", ":"), default=str))
    moment = snapshots.get(key) if offset else None
    query = Query(filters, moment or now)
    snapshots[key] = moment or now
    return query


def _int_arg(ctx, name, default, minimum, maximum=None):
    raw = ctx.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        raise validation_error(
            "Parametr %s musi być liczbą całkowitą%s."
            % (name, " od %d do %d" % (minimum, maximum) if maximum else " nieujemną")
        )
    return value


@route("POST", "/invoices/query/metadata", permissions=READ_PERMISSIONS, rate_group="query_metadata")
def post_query_metadata(sim, ctx):
    store = store_of(sim)
    offset = _int_arg(ctx, "pageOffset", 0, 0)
    size = _int_arg(ctx, "pageSize", 10, 10, 250)
    order = ctx.args.get("sortOrder", "Asc")
    if order not in ("Asc", "Desc"):
        raise validation_error("Parametr sortOrder musi mieć wartość Asc lub Desc.")
    context = ctx.principal.context_value
    query = _snapshot_query(store, context, ctx.json, offset, sim.clock.now())
    found = find_invoices(store, query, context, descending=order == "Desc")
    cap = int(store.settings["query_cap"])
    window = found[:cap]
    start = offset * size
    page = window[start : start + size]
    more_in_window = start + size < len(window)
    truncated = len(found) > cap and not more_in_window
    return json_response(
        {
            "hasMore": more_in_window or truncated,
            "isTruncated": truncated,
            "permanentStorageHwmDate": query.hwm_date(),
            "invoices": [metadata_json(r) for r in page],
        }
    )


@route("GET", "/invoices/ksef/{ksefNumber}", permissions=READ_PERMISSIONS, rate_group="invoice_download")
def get_invoice(sim, ctx):
    store = store_of(sim)
    number = ctx.param("ksefNumber")
    record = store.invoices.get(number)
    if record is None or not store.party_of(record, ctx.principal.context_value):
        raise bad_request(
            21164,
            "Faktura o podanym identyfikatorze nie istnieje.",
            ["Faktura o numerze KSeF %s nie została znaleziona." % number],
        )
    if not store.is_stored(record):
        raise bad_request(
            21165,
            "Faktura o podanym numerze KSeF nie jest jeszcze dostępna.",
            [
                "Faktura o numerze KSeF %s została przetworzona, ale nie jest jeszcze dostępna do pobrania. "
                "Spróbuj ponownie później." % number
            ],
        )
    data = store.invoice_xml(number)
    return xml_response(data, headers={"x-ms-meta-hash": record["invoiceHash"]})
