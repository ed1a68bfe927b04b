"""Collective identifiers (identyfikatory zbiorcze, API 2.7.0): ``client.collective``.

From 2027 a transfer paying a structured invoice quotes its KSeF number; one transfer paying several invoices
of one seller quotes a collective identifier KSeF issues for them (art. 108g of the VAT Act)::

    number = client.collective.generate([{"ksef_number": k1, "amount": Decimal("123.00"), "currency": "PLN"}, k2])
    for item in client.collective.invoices(number): item.ksef_number, item.amount, item.details_hidden
    found = client.collective.invoices_many([n1, n2, ...])      # {number: [CollectiveInvoice] or None (unknown)}
    refs = client.collective.by_ksef_number(ksef_number)        # [CollectiveIdentifier]

Invoices of identifiers are read with ``POST /collective-identifiers/invoices`` (10 identifiers a request, the
endpoint of the releases after 2.7.0, which current KSeF serves) and, where the server answers that it has no
such endpoint (404/405, API 2.7.0), with ``GET /collective-identifiers/{number}/invoices``.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from ..errors import InputError
from ..ksef_number import is_valid_collective_identifier, is_valid_ksef_number, ksef_number_nip
from .errors import KsefApiError, KsefUnknownOutcome
from .tokens import format_datetime, parse_datetime

MIN_INVOICES = 2
MAX_INVOICES = 500
MAX_DESCRIPTION = 512
NUMBERS_PER_QUERY = 10
QUERY_MAX_DAYS = 100
_KSEF_IN_TEXT = re.compile(r"\d{10}-\d{8}-[0-9A-F]{6}-?[0-9A-F]{6}-[0-9A-F]{2}")


class CollectiveInvoice:
    """One invoice of a collective identifier as KSeF lists it.

    ``amount`` (Decimal) and ``currency`` are None when none was given at creation, or when this context may
    not see them (``details_hidden`` True: only the creator and the invoice's parties see them)."""

    __slots__ = ("amount", "collective_identifier", "currency", "description", "details_hidden", "ksef_number")

    def __init__(self, collective_identifier, item):
        payment = item.get("payment") or {}
        self.collective_identifier = item.get("collectiveIdentifierNumber") or collective_identifier
        self.ksef_number = item.get("ksefNumber")
        self.amount = _decimal(payment.get("amount"))
        self.currency = payment.get("currency")
        self.description = item.get("description")
        self.details_hidden = bool(item.get("detailsHidden", item.get("paymentDetailsHidden", False)))

    def to_dict(self):
        values = ((k, getattr(self, k)) for k in self.__slots__)
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values}

    def __repr__(self):
        return "CollectiveInvoice(%s in %s)" % (self.ksef_number, self.collective_identifier)


class CollectiveIdentifier:
    """An identifier as the lists give it: ``number``, ``date_created`` (aware datetime),
    ``created_in_current_context`` and ``invoice_count`` (None in the by-KSeF-number list)."""

    __slots__ = ("created_in_current_context", "date_created", "invoice_count", "number")

    def __init__(self, item):
        self.number = item.get("collectiveIdentifierNumber")
        self.date_created = parse_datetime(item.get("dateCreated"))
        self.created_in_current_context = bool(item.get("createdInCurrentContext"))
        self.invoice_count = item.get("invoiceCount")

    def to_dict(self):
        out = {k: getattr(self, k) for k in self.__slots__}
        out["date_created"] = format_datetime(self.date_created)
        return out

    def __repr__(self):
        return "CollectiveIdentifier(%s)" % self.number


def _decimal(value):
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def check_collective_identifier(value):
    """Refuse a malformed collective identifier (or a wrong checksum) before any request."""
    if not is_valid_collective_identifier(value):
        raise InputError(
            "%r is not a valid KSeF collective identifier (NIP-IZYYYYMM-12 hex-checksum): check it for a typo."
            % (value,),
            "%r nie jest poprawnym identyfikatorem zbiorczym KSeF (NIP-IZRRRRMM-12 znaków hex-suma kontrolna): "
            "sprawdź, czy nie ma literówki." % (value,),
            code="collective_identifier_invalid",
        )
    return value


def _input(en, pl, code, **details):
    return InputError(en, pl, code=code, details=details)


def invoice_entries(invoices):
    """The request's ``invoices`` from KSeF numbers or ``{"ksef_number", "amount", "currency", "description"}``
    dicts, checked as KSeF checks them (one seller, 2–500 distinct valid numbers, amount with its currency)."""
    entries, seen = [], set()
    for item in invoices:
        if isinstance(item, str):
            item = {"ksef_number": item}
        number = str(item.get("ksef_number") or "").strip()
        if not is_valid_ksef_number(number):
            raise _input(
                "%r is not a valid KSeF number: check the bill's KSeF number for a typo." % (number,),
                "%r nie jest poprawnym numerem KSeF: sprawdź numer KSeF rachunku, czy nie ma literówki." % (number,),
                "ksef_number_invalid",
                ksef_numbers=[number],
            )
        if number in seen:
            continue  # one invoice once; KSeF refuses repeats
        seen.add(number)
        entry = {"ksefNumber": number}
        amount, currency = item.get("amount"), item.get("currency")
        if (amount is None) != (currency is None):
            raise _input(
                "Give both the amount and the currency paid for invoice %s, or neither." % number,
                "Podaj zarówno kwotę, jak i walutę płatności za fakturę %s, albo żadnej z nich." % number,
                "collective_payment_incomplete",
                ksef_numbers=[number],
            )
        if amount is not None:
            value = _decimal(amount)
            if value is None or not value.is_finite() or not re.fullmatch(r"[A-Z]{3}", str(currency)):
                args = (amount, currency, number)
                raise _input(
                    "The amount (%s) or currency (%s) paid for invoice %s is not valid." % args,
                    "Kwota (%s) lub waluta (%s) płatności za fakturę %s jest nieprawidłowa." % args,
                    "collective_payment_invalid",
                    ksef_numbers=[number],
                )
            entry["payment"] = {"amount": float(value), "currency": str(currency)}
        description = item.get("description")
        if description:
            entry["description"] = str(description)[:MAX_DESCRIPTION]
        entries.append(entry)
    sellers = sorted({ksef_number_nip(e["ksefNumber"]) for e in entries})
    if len(sellers) > 1:
        raise _input(
            "One collective identifier covers invoices of one seller only; these invoices come from sellers with "
            "NIPs %s: pay each seller separately." % ", ".join(sellers),
            "Jeden identyfikator zbiorczy obejmuje faktury tylko jednego sprzedawcy; te faktury pochodzą od "
            "sprzedawców o NIP %s: zapłać każdemu sprzedawcy osobno." % ", ".join(sellers),
            "collective_several_sellers",
            sellers=sellers,
        )
    if len(entries) < MIN_INVOICES:
        raise _input(
            "A collective identifier is for two or more invoices: a payment of one invoice quotes its KSeF number.",
            "Identyfikator zbiorczy dotyczy co najmniej dwóch faktur: płatność za jedną fakturę podaje jej numer KSeF.",
            "collective_too_few",
        )
    if len(entries) > MAX_INVOICES:
        raise _input(
            "One collective identifier covers at most %d invoices (%d given): split the payment."
            % (MAX_INVOICES, len(entries)),
            "Jeden identyfikator zbiorczy obejmuje najwyżej %d faktur (podano %d): podziel płatność."
            % (MAX_INVOICES, len(entries)),
            "collective_too_many",
        )
    return entries


def _refused_numbers(exc):
    """KSeF numbers named in KSeF's details of a 71001/71002 refusal."""
    return sorted(set(_KSEF_IN_TEXT.findall(" ".join(exc.descriptions))))


class CollectiveIdentifiers:
    """Collective-identifier operations of a :class:`~ksef_core.client.KsefClient` (``client.collective``)."""

    def __init__(self, client):
        self._c = client
        #: True / False once known whether the server has ``POST /collective-identifiers/invoices``
        self.multi_endpoint = None

    # -- create ---------------------------------------------------------------------------------
    def generate(self, invoices, reuse_existing=False):
        """A new collective identifier for ``invoices`` (one seller, 2–500) → its number (text).

        :param invoices: KSeF numbers, or dicts ``{"ksef_number", "amount", "currency", "description"}``
            (amount and currency together, when known: KSeF shows them to the seller).
        :param reuse_existing: first look for an identifier this context already made for exactly these
            invoices (and amounts) and return it instead of making another.
        :raises InputError: the list breaks a rule (checked before any request; ``code`` says which).
        :raises KsefApiError: ``collective_invoice_not_assignable`` (KSeF has no such invoice for this company,
            71001) or ``collective_invoice_limit`` (an invoice is in 132 identifiers already, 71002); both with
            ``details["ksef_numbers"]``; and the usual transport errors (``KsefUnavailable``, ``KsefRateLimited``).
        """
        entries = invoice_entries(invoices)
        if reuse_existing:
            found = self.find(entries)
            if found:
                return found
        try:
            data = self._c.api("POST", "/collective-identifiers", json_body={"invoices": entries}, idempotent=False)
        except KsefUnknownOutcome as unknown:
            # the request may have created one: use it if so, never make a second blindly
            try:
                found = self.find(entries)
            except KsefApiError:
                raise unknown from None
            if found:
                return found
            raise
        except KsefApiError as exc:
            if exc.code in ("collective_invoice_not_assignable", "collective_invoice_limit"):
                exc.details["ksef_numbers"] = _refused_numbers(exc)
            raise
        number = data.get("collectiveIdentifierNumber") if isinstance(data, dict) else None
        if not is_valid_collective_identifier(number):
            raise KsefApiError(
                "KSeF answered without a valid collective identifier: try again.",
                "KSeF odpowiedział bez poprawnego identyfikatora zbiorczego: spróbuj ponownie.",
                code="collective_answer_invalid",
            )
        return number

    def find(self, invoices):
        """An identifier this context made for exactly ``invoices`` (same amounts), or None."""
        entries = invoice_entries(invoices) if not _is_entries(invoices) else invoices
        wanted = {e["ksefNumber"]: _payment_key(e.get("payment")) for e in entries}
        candidates = [r.number for r in self.by_ksef_number(entries[0]["ksefNumber"]) if r.created_in_current_context]
        for number, items in self.invoices_many(candidates).items():
            if items is not None and {i.ksef_number: _payment_key(i) for i in items} == wanted:
                return number
        return None

    # -- read -----------------------------------------------------------------------------------
    def invoices(self, number):
        """Every invoice of the identifier ``number`` → list of :class:`CollectiveInvoice`.

        :raises KsefApiError: ``collective_identifier_unknown`` when KSeF does not know it."""
        found = self.invoices_many([number])[number]
        if found is None:
            raise KsefApiError(
                "KSeF does not know the collective identifier %s: check it against the payment title." % number,
                "KSeF nie zna identyfikatora zbiorczego %s: porównaj go z tytułem płatności." % number,
                code="collective_identifier_unknown",
            )
        return found

    def invoices_many(self, numbers):
        """``{number: [CollectiveInvoice]}`` for many identifiers, 10 a request; an identifier KSeF does not
        know maps to None. Malformed ones raise :class:`InputError` before any request."""
        numbers = list(dict.fromkeys(check_collective_identifier(n) for n in numbers))
        out = {}
        for start in range(0, len(numbers), NUMBERS_PER_QUERY):
            out.update(self._resolve(numbers[start : start + NUMBERS_PER_QUERY]))
        return out

    def _resolve(self, numbers):
        if self.multi_endpoint is not False:
            try:
                result = self._post_invoices(numbers)
                self.multi_endpoint = True
                return result
            except KsefApiError as exc:
                if _endpoint_missing(exc):
                    self.multi_endpoint = False
                elif exc.http_status in (400, 404) and len(numbers) > 1:
                    # an unknown identifier spoils the batch: ask one by one
                    out = {}
                    for number in numbers:
                        out.update(self._resolve([number]))
                    return out
                elif exc.http_status in (400, 404):
                    return {numbers[0]: None}
                else:
                    raise
        out = {}
        for number in numbers:
            try:
                rows = self._pages("GET", "/collective-identifiers/%s/invoices" % number, "invoices", 200)
                out[number] = [CollectiveInvoice(number, r) for r in rows]
            except KsefApiError as exc:
                if exc.http_status not in (400, 404):
                    raise
                out[number] = None
        return out

    def _post_invoices(self, numbers):
        rows = self._pages(
            "POST", "/collective-identifiers/invoices", "invoices", 500, {"collectiveIdentifierNumbers": numbers}
        )
        out = {n: [] for n in numbers}
        for row in rows:
            item = CollectiveInvoice(numbers[0] if len(numbers) == 1 else None, row)
            out.setdefault(item.collective_identifier, []).append(item)
        return out

    def by_ksef_number(self, ksef_number):
        """The identifiers holding the invoice ``ksef_number`` (this context sees all of them when it is a party
        of the invoice, else only its own) → list of :class:`CollectiveIdentifier`, newest first."""
        if not is_valid_ksef_number(ksef_number):
            raise _input(
                "%r is not a valid KSeF number: check it for a typo." % (ksef_number,),
                "%r nie jest poprawnym numerem KSeF: sprawdź, czy nie ma literówki." % (ksef_number,),
                "ksef_number_invalid",
            )
        rows = self._pages("GET", "/collective-identifiers/ksef/%s" % ksef_number, "collectiveIdentifiers", 200)
        return [CollectiveIdentifier(r) for r in rows]

    def query(
        self,
        date_from,
        date_to=None,
        number=None,
        invoice_count_from=None,
        invoice_count_to=None,
        created_in_current_context=None,
    ):
        """Yield the identifiers made in this context (and, for a NIP context, those of its own invoices) created
        between ``date_from`` and ``date_to`` (aware datetimes; default now) as :class:`CollectiveIdentifier`;
        a range longer than KSeF's 100 days is asked in 100-day windows."""
        date_to = date_to or self._c.clock()
        window = datetime.timedelta(days=QUERY_MAX_DAYS)
        start = date_from
        while start <= date_to:
            end = min(start + window, date_to)
            body = {"dateCreatedFrom": format_datetime(start), "dateCreatedTo": format_datetime(end)}
            optional = {
                "collectiveIdentifierNumber": number,
                "invoiceCountFrom": invoice_count_from,
                "invoiceCountTo": invoice_count_to,
                "createdInCurrentContext": created_in_current_context,
            }
            body.update({k: v for k, v in optional.items() if v is not None})
            for row in self._pages("POST", "/collective-identifiers/query", "collectiveIdentifiers", 200, body):
                if end < date_to and parse_datetime(row.get("dateCreated")) == end:
                    continue  # the next window starts at this instant and lists it
                yield CollectiveIdentifier(row)
            if end >= date_to:
                return
            start = end

    def _pages(self, method, path, key, page_size, body=None):
        rows, token = [], None
        while True:
            headers = {"x-continuation-token": token} if token else None
            data = self._c.api(
                method, path, json_body=body, params={"pageSize": page_size}, headers=headers, idempotent=True
            )
            data = data if isinstance(data, dict) else {}
            rows.extend(r for r in data.get(key) or () if isinstance(r, dict))
            token = data.get("continuationToken")
            if not token:
                return rows


def _endpoint_missing(exc):
    """The server has no such endpoint (an older API): 404/405 without a KSeF exception code."""
    return exc.http_status == 405 or (exc.http_status == 404 and not any(exc.exception_codes))


def _is_entries(invoices):
    return isinstance(invoices, list) and all(isinstance(i, dict) and "ksefNumber" in i for i in invoices)


def _payment_key(payment):
    if payment is None:
        return None
    if isinstance(payment, CollectiveInvoice):
        return None if payment.amount is None else (payment.amount, payment.currency)
    return (_decimal(payment["amount"]), payment["currency"])
