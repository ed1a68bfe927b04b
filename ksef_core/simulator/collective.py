"""Collective identifiers (identyfikatory zbiorcze) of KSeF API 2.7.0: their store and rules.

One bank transfer paying several invoices of one seller quotes a collective identifier in its title
(art. 108g of the VAT Act, from 2027). The HTTP endpoints are in :mod:`.collective_api`; this module
holds what they share with the admin API and the Python control API (``sim.collective``):

* format ``NIP-IZRRRRMM-XXXXXXXXXXXX-CC``: the seller's NIP, ``IZ``, year and month of creation (Warsaw),
  12 uppercase hex characters, CRC-8 (polynomial 0x07, init 0x00: the KSeF-number checksum) over the
  first 32 characters (:func:`ksef_core.ksef_number.make_collective_identifier`);
* at most :data:`MAX_INVOICES` (500) invoices, all of one seller, each at most once (21405 otherwise);
* every invoice must be stored in KSeF and the creating context must be a party of it (seller, buyer,
  third party or authorised subject), else 71001; an invoice already in :data:`MAX_PER_INVOICE` (132)
  identifiers created in the same context gives 71002;
* amount and currency (``payment``) and ``description`` of an invoice are shown only to the context that
  created the identifier and to the parties of that invoice; anyone else gets ``detailsHidden: true``
  without those fields.

Buckets: ``collective_ids`` (number -> record), ``collective_by_invoice`` (KSeF number -> [numbers]).
"""

import math
import secrets

from ..ksef_number import is_valid_ksef_number, ksef_number_nip, make_collective_identifier
from .errors import ApiError, validation_error
from .routing import hook
from .storage_invoices import iso, store_of, warsaw_date

MAX_INVOICES = 500
MAX_PER_INVOICE = 132
MAX_DESCRIPTION = 512
QUERY_MAX_DAYS = 100

# CurrencyCode of the 2.7.0 contract (ISO 4217 and a few more)
_CURRENCY_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GGP GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS IMP INR IQD IRR ISK JEP JMD JOD JPY KES KGS
KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV
MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK
SGD SHP SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW
UZS VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA XXX YER ZAR ZMW ZWL"""
CURRENCIES = frozenset(_CURRENCY_CODES.split())

NOT_ASSIGNABLE = (71001, "Faktura nie może zostac przypisana do Identyfikatora Zbiorczego.")
NOT_ASSIGNABLE_DETAIL = "Faktura o numerze KSeF %s nie może zostac przypisana do Identyfikatora Zbiorczego."
TOO_MANY = (71002, "Faktura jest już przypisana do maksymalnej liczby Identyfikatorów Zbiorczych.")
TOO_MANY_DETAIL = "Faktura o numerze KSeF %s jest już przypisana do maksymalnej liczby Identyfikatorów Zbiorczych."


def parse_invoices(value):
    """The ``invoices`` of a ``GenerateCollectiveIdentifierRequest``, checked and normalised (400/21405).

    Also accepts plain KSeF number strings (admin API and Python convenience)."""
    if not isinstance(value, list) or not value:
        raise validation_error("Pole 'invoices' musi być niepustą listą faktur.")
    if len(value) > MAX_INVOICES:
        raise validation_error(
            "Lista 'invoices' zawiera %d faktur; limit faktur w identyfikatorze zbiorczym wynosi %d."
            % (len(value), MAX_INVOICES)
        )
    out, seen = [], set()
    for index, item in enumerate(value):
        where = "invoices[%d]" % index
        if isinstance(item, str):
            item = {"ksefNumber": item}
        if not isinstance(item, dict):
            raise validation_error("%s musi być obiektem CollectiveIdentifierInvoice." % where)
        number = item.get("ksefNumber")
        if not isinstance(number, str) or not is_valid_ksef_number(number):
            raise validation_error("%s.ksefNumber: '%s' nie jest poprawnym numerem KSeF." % (where, number))
        if number in seen:
            raise validation_error("%s.ksefNumber: numer KSeF %s występuje na liście więcej niż raz." % (where, number))
        seen.add(number)
        out.append(
            {
                "ksefNumber": number,
                "payment": _parse_payment(item.get("payment"), where),
                "description": _parse_description(item.get("description"), where),
            }
        )
    sellers = sorted({ksef_number_nip(i["ksefNumber"]) for i in out})
    if len(sellers) > 1:
        raise validation_error(
            "Identyfikator zbiorczy obejmuje faktury jednego sprzedawcy; lista zawiera faktury sprzedawców: %s."
            % ", ".join(sellers)
        )
    return out


def _parse_payment(payment, where):
    if payment is None:
        return None
    if not isinstance(payment, dict):
        raise validation_error("%s.payment musi być obiektem z polami amount i currency." % where)
    amount, currency = payment.get("amount"), payment.get("currency")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
        raise validation_error("%s.payment.amount: wymagana kwota (liczba)." % where)
    if currency not in CURRENCIES:
        raise validation_error("%s.payment.currency: '%s' nie jest kodem waluty (CurrencyCode)." % (where, currency))
    return {"amount": amount, "currency": currency}


def _parse_description(description, where):
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise validation_error("%s.description: tekst o długości do %d znaków." % (where, MAX_DESCRIPTION))
    return description


class CollectiveStore:
    """``sim.collective``: the collective identifiers of one simulator."""

    def __init__(self, sim):
        self.sim = sim
        self.items = sim.state.bucket("collective_ids")
        self.by_invoice = sim.state.bucket("collective_by_invoice")

    # -- creation ------------------------------------------------------------------------------
    def generate(self, context, invoices):
        """Store a new identifier created in ``context`` (``{"type", "value"}`` or a NIP) → its record.

        ``invoices``: the request's list (dicts or KSeF numbers). Raises :class:`ApiError` 400 with
        21405 (input), 71001 (unknown invoice or the context is no party of it), 71002 (132 reached)."""
        if isinstance(context, str):
            context = {"type": "Nip", "value": context}
        items = parse_invoices(invoices)
        store = store_of(self.sim)
        with self.sim.state.lock:
            refused = [
                i["ksefNumber"]
                for i in items
                if i["ksefNumber"] not in store.invoices
                or not store.party_of(store.invoices[i["ksefNumber"]], context["value"])
            ]
            if refused:
                raise ApiError(400, *NOT_ASSIGNABLE, [NOT_ASSIGNABLE_DETAIL % n for n in refused])
            full = [
                i["ksefNumber"] for i in items if self.count_in_context(i["ksefNumber"], context) >= MAX_PER_INVOICE
            ]
            if full:
                raise ApiError(400, *TOO_MANY, [TOO_MANY_DETAIL % n for n in full])
            seller = store.invoices[items[0]["ksefNumber"]]["seller"]["nip"]
            now = self.sim.clock.now()
            while True:
                number = make_collective_identifier(seller, warsaw_date(now), secrets.token_hex(6))
                if number not in self.items:
                    break
            record = {
                "number": number,
                "dateCreated": now,
                "context": {"type": context.get("type") or "Nip", "value": context["value"]},
                "sellerNip": seller,
                "invoices": items,
            }
            self.items[number] = record
            for item in items:
                self.by_invoice.setdefault(item["ksefNumber"], []).append(number)
            self.sim.state.mark_dirty()
            return record

    def count_in_context(self, ksef_number, context):
        """How many identifiers created in ``context`` already hold the invoice."""
        return sum(
            1
            for n in self.by_invoice.get(ksef_number, ())
            if self.items[n]["context"]["value"] == context["value"]
            and self.items[n]["context"]["type"] == (context.get("type") or "Nip")
        )

    # -- reading -------------------------------------------------------------------------------
    def get(self, number):
        return self.items.get(number)

    @staticmethod
    def created_in(record, principal):
        ctx = record["context"]
        return ctx["value"] == principal.context_value and ctx["type"] == principal.context_type

    def is_party(self, ksef_number, principal):
        invoice = store_of(self.sim).invoices.get(ksef_number)
        return invoice is not None and store_of(self.sim).party_of(invoice, principal.context_value)

    def for_context(self, principal):
        """Identifiers created in the caller's context and, for a NIP context, those of its own invoices."""
        return [
            r
            for r in self.items.values()
            if self.created_in(r, principal) or (principal.context_type == "Nip" and r["sellerNip"] == principal.nip)
        ]

    def for_invoice(self, ksef_number, principal):
        """Identifiers holding the invoice: all of them for a party of it, else those created in the context."""
        records = [self.items[n] for n in self.by_invoice.get(ksef_number, ())]
        if self.is_party(ksef_number, principal):
            return records
        return [r for r in records if self.created_in(r, principal)]

    def invoice_json(self, record, item, principal, with_number=False):
        """A ``CollectiveIdentifierInvoicesQueryResponseItem``; details only for the creator or a party."""
        out = {"ksefNumber": item["ksefNumber"]}
        if with_number:
            out["collectiveIdentifierNumber"] = record["number"]
        has_details = item["payment"] is not None or item["description"] is not None
        if has_details and not (self.created_in(record, principal) or self.is_party(item["ksefNumber"], principal)):
            out["detailsHidden"] = True
            return out
        out["payment"] = dict(item["payment"]) if item["payment"] else None
        out["description"] = item["description"]
        out["detailsHidden"] = False
        return out

    def summary_json(self, record, principal, count=True):
        """A ``CollectiveIdentifiersQueryResponseItem`` (``count=False``: the by-KSeF-number item)."""
        out = {"collectiveIdentifierNumber": record["number"], "dateCreated": iso(record["dateCreated"])}
        if count:
            out["invoiceCount"] = len(record["invoices"])
        out["createdInCurrentContext"] = self.created_in(record, principal)
        return out

    def admin_json(self, record):
        """Everything about one identifier (admin API): creator context, seller, invoices with details."""
        return {
            "collectiveIdentifierNumber": record["number"],
            "dateCreated": iso(record["dateCreated"]),
            "context": dict(record["context"]),
            "sellerNip": record["sellerNip"],
            "invoices": [dict(i, payment=dict(i["payment"]) if i["payment"] else None) for i in record["invoices"]],
        }


def newest_first(records):
    """Sorted as the contract says: dateCreated (Desc), collectiveIdentifierNumber (Desc)."""
    return sorted(records, key=lambda r: (r["dateCreated"], r["number"]), reverse=True)


def collective_of(sim):
    store = getattr(sim, "collective", None)
    if store is None:
        store = sim.collective = CollectiveStore(sim)
    return store


@hook("init")
def _attach(sim):
    collective_of(sim)
