"""Amounts of a vendor bill made from an FA(3) invoice: lines, taxes, exchange rate, VAT per rate."""

import datetime

from odoo import _, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools.misc import formatLang

from ..ksef_core.fa3.buckets import BUCKETS
from ..ksef_core.fa3.rates import rate_kind, rate_percent

#: rates for which a line without tax is right (no Polish VAT on the invoice, nothing to book)
_NO_TAX_NEEDED = ("not_subject",)
#: Odoo's rate of the day before the tax point (art. 31a) older than this: the rate is missing
_RATE_MAX_AGE = datetime.timedelta(days=7)


class AccountMove(models.Model):
    _inherit = "account.move"

    # ------------------------------------------------------------------ lines

    def _l10n_pl_ksef_line_name(self, invoice, line, before_after):
        if line.description is None:
            return _("Invoice %(number)s, VAT rate %(rate)s", number=invoice.number, rate=line.rate or "-")
        name = line.description
        if line.merged:
            name = "%s (%s × %s)" % (name, _fmt(line.original_quantity), _fmt(line.original_unit_price))
        if before_after and line.before:
            return _("%(name)s (before correction)", name=name)
        if before_after:
            return _("%(name)s (after correction)", name=name)
        return name

    def _l10n_pl_ksef_purchase_tax(self, code, company=None):
        """The company's purchase tax for an FA(3) rate code (empty when none fits).

        First a purchase tax whose KSeF rate code is ``code`` (for 0 WDT / 0 EX also 0 KR), then, for a
        rate that charges VAT, a plain purchase tax of that percentage.
        """
        company = company or self.company_id
        Tax = self.env["account.tax"]
        kind = rate_kind(code)
        if kind is None:
            return Tax
        base = Domain.AND(
            [
                Domain(Tax._check_company_domain(company)),
                Domain("type_tax_use", "=", "purchase"),
                Domain("amount_type", "=", "percent"),
            ]
        )
        codes = [code, "0 KR"] if kind == "zero" else [code]
        for wanted in codes:
            taxes = Tax.search(Domain.AND([base, Domain("l10n_pl_ksef_rate_code", "=", wanted)]), order="sequence, id")
            tax = taxes.filtered(lambda t: kind == "reverse_charge" or _charges_full_vat(t))[:1]
            if tax:
                return tax
        if kind in ("reverse_charge", "not_subject") or not rate_percent(code):
            # a reverse charge needs a tax marked "oo"; "np" has no Polish VAT; any other 0 % tax of the chart
            # (an import tax of a foreign-trade fiscal position...) is not the exemption or 0 % rate of the invoice
            return Tax
        for tax in Tax.search(
            Domain.AND([base, Domain("amount", "=", float(rate_percent(code)))]), order="sequence, id"
        ):
            if _charges_full_vat(tax):
                return tax
        return Tax

    # ------------------------------------------------------------------ currency

    def _l10n_pl_ksef_currency(self, code):
        Currency = self.env["res.currency"].with_context(active_test=False)
        currency = Currency.search([("name", "=", code or "PLN")], limit=1)
        if not currency.active:
            raise UserError(
                _(
                    "The invoice is in %(currency)s, which is not active in Odoo: activate the currency, then "
                    "import the invoice again.",
                    currency=code,
                )
            )
        return currency

    def _l10n_pl_ksef_difference_note(self, what, bill_amount, ksef_amount, currency=None):
        currency = currency or self.currency_id
        ksef_amount = float(ksef_amount)
        if not currency.compare_amounts(bill_amount, ksef_amount):
            return []
        return [
            _(
                "%(what)s: %(bill)s on this bill, %(ksef)s on the invoice in KSeF (difference %(diff)s). "
                "Check the lines and taxes before confirming the bill.",
                what=what,
                bill=formatLang(self.env, bill_amount, currency_obj=currency),
                ksef=formatLang(self.env, ksef_amount, currency_obj=currency),
                diff=formatLang(self.env, ksef_amount - bill_amount, currency_obj=currency),
            )
        ]


def _charges_full_vat(tax):
    """A tax that is not included in the price and charges its whole rate (not a self-cancelling one)."""
    repartition = tax.invoice_repartition_line_ids.filtered(lambda r: r.repartition_type == "tax")
    return not tax.price_include and round(sum(repartition.mapped("factor_percent")), 2) == 100.0


def _bucket_label(key, lines):
    """The rate codes of a bucket's lines ("23", "8, 7"), else the bucket's name."""
    codes = sorted({line.rate for line in lines if line.rate})
    return ", ".join(codes) if codes else BUCKETS[key].name_en


def _rate_text(rate):
    """PLN for one unit of the bill's currency, from Odoo's company-to-bill rate."""
    return "%.4f" % (1.0 / rate) if rate else "-"


def _fmt(value):
    """A Decimal without trailing zeros ("12.50" -> "12.5", "2.000" -> "2")."""
    if value is None:
        return "-"
    return format(value.normalize(), "f")
