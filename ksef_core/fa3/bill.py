"""The buyer's view of a received FA(3) invoice: the figures of a vendor bill.

:func:`bill_from_invoice` turns a parsed :class:`~.model.Invoice` into a
:class:`BillDraft` whose lines are already in the bill's direction (a
correction that lowers the amount becomes a credit note with positive lines)
and whose unit prices reproduce the FA(3) net amounts exactly at the given
price precision.  The Odoo layer only maps the draft to records (partner,
taxes, accounts).  Pure Python: no Odoo import.

Lines come from ``FaWiersz``; advance and settlement invoices (``ZAL``,
``ROZ``, ``KOR_ZAL``, ``KOR_ROZ``), invoices without lines and invoices whose
lines carry no amounts (simplified invoices, ``UPR``: only ``P_7``) take one
line per VAT bucket of the booked totals (``P_13_x``), so the bill's total is
the amount actually due (``P_15``); the descriptions of such lines are kept
in :attr:`BillDraft.items`.  :attr:`BillDraft.booked` gives the supplier's
net and VAT per bucket (``P_13_x`` / ``P_14_x`` / ``P_14_xW``) so that the
bill can be compared rate by rate, and :attr:`BillDraft.exchange_rate` the
rate the invoice states (``KursWaluty``, ``KursWalutyZ``, ...).
"""

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..errors import KsefError
from .buckets import BUCKETS, CENT, HUNDRED, ZERO, line_bucket, line_gross, line_net, money
from .model import CORRECTION_KINDS, BucketTotal
from .rates import rate_kind, rate_percent  # noqa: F401  (re-exported for the import)

#: invoice kinds whose amounts due are the booked totals, not the sum of the lines
TOTALS_KINDS = ("ZAL", "ROZ", "KOR_ZAL", "KOR_ROZ")

#: invoice kinds whose lines may leave out the rate (a simplified invoice gives the VAT per bucket)
_RATELESS_KINDS = ("UPR",)

_ZIP_CITY = re.compile(r"^(\d{2}-\d{3})\s+(.+)$")
_TRAILING_ZIP_CITY = re.compile(r"^(.*?),?\s+(\d{2}-\d{3})\s+([^,]+)$")


@dataclass
class BillLine:
    """One bill line, in the bill's direction.

    ``net`` = ``quantity`` x ``price_unit`` exactly (rounded to the cent); ``rate`` is the FA(3)
    code (``None`` when the invoice gives none).  ``bucket`` is the key of the VAT bucket the line
    belongs to (``None`` when it has none).  ``description`` is ``None`` for lines made from a VAT
    bucket.  ``merged`` is True when quantity and unit price could not reproduce the net amount
    and the line was booked as 1 x net.
    """

    description: str
    quantity: Decimal
    price_unit: Decimal
    net: Decimal
    rate: str = None
    before: bool = False
    bucket: str = None
    merged: bool = False
    original_quantity: Decimal = None
    original_unit_price: Decimal = None
    gtin: str = None
    index: str = None


@dataclass
class BillDraft:
    """What the bill must say; amounts are in the bill's direction.

    ``total`` is ``P_15``; ``booked`` maps bucket keys to the supplier's
    :class:`~.model.BucketTotal` (``P_13_x`` / ``P_14_x`` / ``P_14_xW``); ``items`` are the
    descriptions of invoice lines that carry no amounts (booked per bucket instead);
    ``exchange_rate`` is the PLN rate the invoice states (``None``: none stated or PLN) and
    ``exchange_rates`` every distinct rate it states, the one used first.
    """

    refund: bool
    lines: list = field(default_factory=list)
    total: Decimal = ZERO
    due_date: object = None
    correction: bool = False
    from_totals: bool = False
    items: list = field(default_factory=list)
    booked: dict = field(default_factory=dict)
    exchange_rate: Decimal = None
    exchange_rates: list = field(default_factory=list)

    @property
    def net_total(self):
        return sum((line.net for line in self.lines), ZERO)

    def bucket_lines(self, key):
        """The lines of bucket ``key``."""
        return [line for line in self.lines if line.bucket == key]


def _quantize(value, digits):
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def _fit(quantity, unit_price, net, digits):
    """``(quantity, price_unit, merged)`` with ``money(quantity * price_unit) == net``."""
    qty = abs(quantity) if quantity else None
    if qty:
        candidates = []
        if unit_price is not None:
            candidates.append(_quantize(abs(unit_price), digits).copy_sign(net) if net else ZERO)
        candidates.append(_quantize(net / qty, digits))
        for price in candidates:
            if money(qty * price) == net:
                return qty, price, False
    return Decimal(1), net, bool(qty and qty != 1)


def _line_net(line):
    """Net amount of an FA(3) line in the invoice's direction (gross-price lines: gross - VAT)."""
    if line.margin or (line.rate is None and line.oss_rate is None):
        amount = line_net(line)
        return amount if amount is not None else (line_gross(line) or ZERO)
    net = line_net(line)
    if net is not None and line.gross is None and line.unit_price_gross is None:
        return net
    gross = line_gross(line)
    if gross is None:
        return net if net is not None else ZERO
    if line.vat is not None:
        return gross - Decimal(line.vat)
    percent = rate_percent(line.rate) if line.rate is not None else Decimal(line.oss_rate or 0)
    if not percent:
        return gross
    return gross - money(gross * percent / (HUNDRED + percent))


def _fa_line_bucket(invoice, line):
    """Bucket of an FA(3) line; a line without rate on a margin-scheme invoice is in ``P_13_11``."""
    try:
        key = line_bucket(line)
    except KsefError:
        return None
    if key is None and invoice.annotations.margin_scheme and line.oss_rate is None:
        return "11"
    return key


def lines_carry_amounts(invoice):
    """True when every ``FaWiersz`` gives an amount (and, on a simplified invoice, a rate).

    A simplified invoice (``UPR``) may list the goods by name only (``P_7``) and give the
    amounts per VAT bucket: such an invoice is booked from its totals.
    """
    for line in invoice.lines:
        if line_net(line) is None and line_gross(line) is None:
            return False
        if invoice.kind in _RATELESS_KINDS and line.rate is None and line.oss_rate is None:
            return False
    return True


def _item(line):
    """Description of an invoice line booked through the totals ("Drill (2 szt.)")."""
    text = (line.name or "-").strip()
    if line.quantity is not None:
        unit = " %s" % line.unit if line.unit else ""
        text = "%s (%s%s)" % (text, format(Decimal(line.quantity).normalize(), "f"), unit)
    return text


def _lines_from_fa_lines(invoice, direction, digits):
    lines = []
    for line in invoice.lines:
        sign = -direction if line.before else direction
        net = sign * _line_net(line)
        # a discount or a gross price: the unit price alone does not give the net amount
        plain = not line.discount and line.gross is None and line.unit_price_gross is None
        unit_price = line.unit_price if plain else None
        qty, price, merged = _fit(line.quantity, unit_price, net, digits)
        lines.append(
            BillLine(
                description=line.name or "-",
                quantity=qty,
                price_unit=price,
                net=net,
                rate=line.rate,
                before=line.before,
                bucket=_fa_line_bucket(invoice, line),
                merged=merged,
                original_quantity=line.quantity,
                original_unit_price=line.unit_price if line.unit_price is not None else line.unit_price_gross,
                gtin=line.gtin,
                index=line.index,
            )
        )
    _match_booked_nets(invoice, lines, direction, digits)
    return lines


def _match_booked_nets(invoice, lines, direction, digits):
    """Gross-price invoices: move the rounding cent(s) of VAT extraction so each bucket's net is the booked one.

    Extracting VAT line by line from gross amounts can differ by a cent from the issuer's
    extraction per rate; the difference goes to the bucket's last line (at most 1 cent per line).
    """
    if not invoice.prices_gross or not invoice.totals:
        return
    by_bucket = {}
    for line in lines:
        if line.bucket is not None:
            by_bucket.setdefault(line.bucket, []).append(line)
    for key, members in by_bucket.items():
        booked = invoice.totals.get(key)
        if booked is None or booked.net is None:
            continue
        diff = direction * Decimal(booked.net) - sum((m.net for m in members), ZERO)
        if not diff or abs(diff) > CENT * len(members):
            continue
        last = members[-1]
        last.net += diff
        last.quantity, last.price_unit, last.merged = _fit(last.original_quantity, None, last.net, digits)


def _bucket_rate(key, total):
    """The FA(3) code of a bucket; for 23/22 or 8/7 the one matching the booked VAT."""
    rates = BUCKETS[key].rates
    if len(rates) <= 1:
        return rates[0] if rates else None
    if total.vat is None or not total.net:
        return rates[0]
    ratio = Decimal(total.vat) * HUNDRED / Decimal(total.net)
    return min(rates, key=lambda code: abs(rate_percent(code) - ratio))


def _lines_from_totals(invoice, direction):
    lines = []
    for key in BUCKETS:
        total = invoice.totals.get(key)
        if total is None or total.net is None:
            continue
        net = direction * Decimal(total.net)
        lines.append(
            BillLine(
                description=None,
                quantity=Decimal(1),
                price_unit=net,
                net=net,
                rate=_bucket_rate(key, total),
                bucket=key,
            )
        )
    return lines


def _signed(value, direction):
    return None if value is None else direction * Decimal(value)


def exchange_rates(invoice):
    """Distinct exchange rates (PLN per unit) the invoice states, the one covering most of it first.

    Sources, in this order: the lines' ``KursWaluty`` (weighted by their net amounts); for an
    advance invoice ``KursWalutyZ`` and the partial advances' ``KursWalutyZW``; for a correction
    that states none, the corrected invoice's ``KursWalutyZK``.  Empty for a PLN invoice.
    """
    if (invoice.currency or "PLN") == "PLN":
        return []
    weights = {}
    for line in invoice.lines:
        if line.exchange_rate is not None:
            rate = Decimal(line.exchange_rate)
            weights[rate] = weights.get(rate, ZERO) + abs(_line_net(line))
    rates = sorted(weights, key=lambda rate: -weights[rate])
    extra = [invoice.advance_rate] + [advance[2] for advance in invoice.partial_advances]
    if not rates and invoice.correction is not None:
        extra.append(invoice.correction.rate_before)
    for rate in extra:
        if rate is not None and Decimal(rate) not in rates:
            rates.append(Decimal(rate))
    return rates


def bill_from_invoice(invoice, price_digits=2):
    """A :class:`BillDraft` for ``invoice`` (an :class:`~.model.Invoice` from :func:`~.parser.parse_fa3`).

    :param price_digits: decimals the bill keeps on unit prices (Odoo's "Product Price" precision)
    """
    total = Decimal(invoice.total) if invoice.total is not None else None
    correction = invoice.kind in CORRECTION_KINDS
    refund = bool(correction and total is not None and total <= 0)
    direction = -1 if refund else 1
    from_totals = invoice.kind in TOTALS_KINDS or not invoice.lines or not lines_carry_amounts(invoice)
    if from_totals:
        lines = _lines_from_totals(invoice, direction)
    else:
        lines = _lines_from_fa_lines(invoice, direction, price_digits)
    draft = BillDraft(refund=refund, lines=lines, correction=correction, from_totals=from_totals)
    if from_totals and invoice.kind not in TOTALS_KINDS:
        draft.items = [_item(line) for line in invoice.lines]
    draft.total = direction * total if total is not None else draft.net_total
    draft.booked = {
        key: BucketTotal(
            net=_signed(booked.net, direction),
            vat=_signed(booked.vat, direction),
            vat_pln=_signed(booked.vat_pln, direction),
        )
        for key, booked in invoice.totals.items()
    }
    draft.exchange_rates = exchange_rates(invoice)
    draft.exchange_rate = draft.exchange_rates[0] if draft.exchange_rates else None
    if invoice.payment is not None:
        dates = [term.due_date for term in invoice.payment.terms if term.due_date]
        draft.due_date = min(dates) if dates else None
    return draft


def account_key(number):
    """A bank account number for comparison: letters and digits only, upper case, a Polish IBAN
    without its ``PL`` (``"PL61 1090 ..."`` and ``"61109010..."`` are the same account)."""
    text = re.sub(r"[^0-9A-Za-z]", "", number or "").upper()
    if re.fullmatch(r"PL\d{26}", text):
        return text[2:]
    return text


def split_address(address):
    """``{"street", "street2", "zip", "city", "country"}`` of an FA(3) :class:`~.model.Address`.

    Polish addresses usually put the postcode and town on the second line ("00-001 Warszawa"),
    or at the end of a single line ("ul. Polna 1, 00-001 Warszawa").
    """
    out = {"street": None, "street2": None, "zip": None, "city": None, "country": None}
    if address is None:
        return out
    out["country"] = address.country
    line1 = (address.line1 or "").strip()
    line2 = (address.line2 or "").strip()
    match = _ZIP_CITY.match(line2) if line2 else None
    if match:
        out.update(street=line1 or None, zip=match.group(1), city=match.group(2).strip())
        return out
    if not line2:
        match = _TRAILING_ZIP_CITY.match(line1)
        if match and match.group(1).strip():
            out.update(street=match.group(1).strip(), zip=match.group(2), city=match.group(3).strip())
            return out
    out.update(street=line1 or None, street2=line2 or None)
    return out


def party_nips(invoice):
    """NIPs of the buyer (``Podmiot2``) and third parties (``Podmiot3``): who may book this as a purchase."""
    nips = [invoice.buyer.nip] if invoice.buyer is not None else []
    nips += [party.nip for party in invoice.third_parties]
    return {nip for nip in nips if nip}


def party_tax_ids(invoice):
    """Every tax number naming the buyer or a third party, upper case without spaces or dashes:
    Polish NIPs as is, EU VAT numbers with their country ("DE999999999"), other tax IDs with theirs
    when given."""
    parties = ([invoice.buyer] if invoice.buyer is not None else []) + list(invoice.third_parties)
    found = set()
    for party in parties:
        if party.nip:
            found.add(party.nip)
        if party.eu_vat:
            found.add(_compact((party.eu_country or "") + party.eu_vat))
        if party.tax_id:
            found.add(_compact((party.tax_country or "") + party.tax_id))
            found.add(_compact(party.tax_id))
    return found


def _compact(text):
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())
