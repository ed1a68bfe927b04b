"""Resolve the summary amounts of an invoice (``P_13_x`` / ``P_14_x`` / ``P_14_xW`` / ``P_15``).

Either the caller gives the booked totals per bucket (``Invoice.totals``), and
they are checked against the lines, or they are computed from the lines with
the invoice's rounding method.  Both VAT rounding methods are accepted when
checking booked totals: per line and once per rate.
"""

from collections import OrderedDict
from decimal import Decimal

from . import rates
from .buckets import BUCKETS, ZERO, compute_sums, money
from .model import BucketTotal

#: kinds whose P_15 is the sum of the buckets (ZAL/ROZ carry payments / remaining amounts)
_P15_IS_SUM = ("VAT", "KOR", "UPR")
#: gross total (PLN) above which Annex 15 sales to a taxpayer are paid by split payment (art. 108a ust. 1a)
SPLIT_PAYMENT_THRESHOLD = Decimal("15000")


def _fx(invoice):
    if invoice.currency == "PLN":
        return None
    return invoice.exchange_rate


def _has_fx(invoice):
    return invoice.currency != "PLN" and (
        invoice.exchange_rate is not None or any(line.exchange_rate is not None for line in invoice.lines)
    )


def resolve_totals(invoice, problems, check=True):
    """Return ``(OrderedDict bucket key -> BucketTotal, P_15)``; problems go to ``problems``.

    ``check=False`` takes booked totals as they are (e.g. re-building a received invoice).
    """
    if invoice.kind not in _P15_IS_SUM and not invoice.totals:
        problems.add(
            "P_13_1",
            "Faktura/Fa",
            "for an advance or settlement invoice (%s) give the booked amounts per VAT rate (the advance "
            "received, or the amount remaining after advances): they cannot be derived from the lines."
            % invoice.kind,
            "dla faktury zaliczkowej lub rozliczeniowej (%s) podaj zaksięgowane kwoty w podziale na stawki "
            "(otrzymana zaliczka albo kwota pozostała po zaliczkach): nie da się ich wyliczyć z pozycji."
            % invoice.kind,
        )
    if invoice.totals and (not check or invoice.kind not in _P15_IS_SUM):
        totals = OrderedDict((k, invoice.totals[k]) for k in BUCKETS if k in invoice.totals)
        total = invoice.total
        if total is None:
            total = sum((Decimal(str(t.net)) + Decimal(str(t.vat or 0)) for t in totals.values()), ZERO)
        return totals, total
    computed = compute_sums(invoice.lines, invoice.rounding, invoice.prices_gross, _fx(invoice))
    other = "global" if invoice.rounding == "per_line" else "per_line"
    alternative = (
        compute_sums(invoice.lines, other, invoice.prices_gross, _fx(invoice)) if invoice.totals else {}
    )
    fx = _has_fx(invoice)
    totals = OrderedDict()
    if invoice.totals:
        unknown = [k for k in invoice.totals if k not in BUCKETS]
        for key in unknown:
            problems.add(
                "P_13_1",
                "Faktura/Fa",
                "bucket key '%s' is unknown; use one of %s." % (key, ", ".join(BUCKETS)),
                "klucz grupy stawek '%s' jest nieznany; użyj jednego z %s." % (key, ", ".join(BUCKETS)),
            )
        for key in BUCKETS:
            given = invoice.totals.get(key)
            if given is None:
                if key in computed:
                    b = BUCKETS[key]
                    problems.add(
                        b.net_field,
                        "Faktura/Fa/" + b.net_field,
                        "invoice lines use the %s bucket but no booked total was given for it." % b.name_en,
                        "pozycje faktury mają stawkę z grupy %s, ale nie podano dla niej sumy." % b.name_pl,
                    )
                continue
            totals[key] = _checked(key, given, computed.get(key), alternative.get(key), fx, problems)
    else:
        for key, b in BUCKETS.items():
            sums = computed.get(key)
            if sums is None:
                continue
            vat = money(sums.vat) if b.vat_field else None
            vat_pln = money(sums.vat_pln) if (b.pln_field and fx) else None
            totals[key] = BucketTotal(net=money(sums.net), vat=vat, vat_pln=vat_pln)
    if not totals and invoice.total is None:
        problems.add(
            "P_15",
            "Faktura/Fa/P_15",
            "the invoice has no amounts: add lines with prices and VAT rates, or give the booked totals.",
            "faktura nie zawiera kwot: dodaj pozycje z cenami i stawkami VAT albo podaj zaksięgowane sumy.",
        )
    grand = sum((t.net + (t.vat or ZERO) for t in totals.values()), ZERO)
    total = invoice.total
    if total is None:
        total = grand
    elif invoice.kind in _P15_IS_SUM and totals:
        tolerance = Decimal("0.01") * len(totals)
        if abs(Decimal(total) - grand) > tolerance:
            problems.add(
                "P_15",
                "Faktura/Fa/P_15",
                "the total due does not match the sum of net and VAT amounts of the rate buckets "
                "(difference %s)." % (Decimal(total) - grand),
                "kwota należności ogółem nie zgadza się z sumą kwot netto i VAT grup stawek (różnica %s)."
                % (Decimal(total) - grand),
                safe=(
                    "the total due does not match the sum of net and VAT amounts of the rate buckets.",
                    "kwota należności ogółem nie zgadza się z sumą kwot netto i VAT grup stawek.",
                ),
            )
    return totals, total


def _checked(key, given, sums, alt, fx, problems):
    b = BUCKETS[key]
    path = "Faktura/Fa/" + b.net_field
    net = given.net
    vat = given.vat
    vat_pln = given.vat_pln
    if sums is not None:
        if Decimal(net) != money(sums.net) and (alt is None or Decimal(net) != money(alt.net)):
            problems.add(
                b.net_field,
                path,
                "the booked net amount differs from the sum of the invoice lines at %s (lines give %s)."
                % (b.name_en, money(sums.net)),
                "zaksięgowana kwota netto różni się od sumy pozycji faktury dla %s (z pozycji: %s)."
                % (b.name_pl, money(sums.net)),
                safe=(
                    "the booked net amount differs from the sum of the invoice lines at %s." % b.name_en,
                    "zaksięgowana kwota netto różni się od sumy pozycji faktury dla %s." % b.name_pl,
                ),
            )
        if b.vat_field and b.vat_required and vat is None:
            vat = money(sums.vat)
        elif b.vat_field and vat is not None:
            allowed = {money(sums.vat)} | ({money(alt.vat)} if alt is not None else set())
            if Decimal(vat) not in allowed:
                problems.add(
                    b.vat_field,
                    "Faktura/Fa/" + b.vat_field,
                    "the booked VAT amount at %s matches neither per-line nor per-rate rounding of the "
                    "lines (expected %s)." % (b.name_en, " or ".join(str(v) for v in sorted(allowed))),
                    "zaksięgowana kwota VAT dla %s nie odpowiada zaokrągleniu ani od pozycji, ani od sumy "
                    "(oczekiwano %s)." % (b.name_pl, " lub ".join(str(v) for v in sorted(allowed))),
                    safe=(
                        "the booked VAT amount at %s matches neither per-line nor per-rate rounding of the "
                        "lines." % b.name_en,
                        "zaksięgowana kwota VAT dla %s nie odpowiada zaokrągleniu ani od pozycji, "
                        "ani od sumy." % b.name_pl,
                    ),
                )
        if b.pln_field and fx and vat_pln is None:
            vat_pln = money(sums.vat_pln)
    if b.vat_field and b.vat_required and vat is None:
        problems.add(
            b.vat_field,
            "Faktura/Fa/" + b.vat_field,
            "the VAT amount of the %s bucket is missing." % b.name_en,
            "brak kwoty VAT dla grupy %s." % b.name_pl,
        )
    if not b.vat_field:
        vat = None
    if not b.pln_field:
        vat_pln = None
    return BucketTotal(net=net, vat=vat, vat_pln=vat_pln)


def derived_annotations(invoice, total):
    """Return the ``Adnotacje`` values (dict element -> value) derived from the invoice data.

    ``P_18`` (art. 106e ust. 1 pkt 18): a line or booked bucket whose code means the buyer accounts for the
    VAT ("oo", "np II"; "np I" only when the caller says so in ``annotations.reverse_charge``).
    ``P_18A`` (art. 106e ust. 1 pkt 18a, art. 108a ust. 1a): Annex 15 goods or services sold to a taxpayer
    (a buyer with a Polish NIP) on an invoice whose total exceeds 15 000 PLN.
    """
    ann = invoice.annotations
    reverse = ann.reverse_charge
    if reverse is None:
        reverse = any(rates.buyer_accounts(line.rate) for line in invoice.lines) or any(
            rates.buyer_accounts_in_bucket(key) for key in invoice.totals or ()
        )
    split = ann.split_payment
    if split is None:
        total_pln = Decimal(total or 0)
        if invoice.currency != "PLN":
            fx_rates = [invoice.exchange_rate] + [line.exchange_rate for line in invoice.lines]
            rate = next((r for r in fx_rates if r is not None), 0)
            total_pln = total_pln * Decimal(rate)
        taxpayer = bool(invoice.buyer is not None and invoice.buyer.nip)
        split = taxpayer and any(line.annex15 for line in invoice.lines) and abs(total_pln) > SPLIT_PAYMENT_THRESHOLD
    return {"reverse_charge": reverse, "split_payment": split}
