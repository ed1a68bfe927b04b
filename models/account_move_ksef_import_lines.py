"""Amounts of a vendor bill made from an FA(3) invoice: lines, taxes, exchange rate, VAT per rate."""

import datetime

from odoo import _, models
from odoo.exceptions import UserError
from odoo.fields import Command, Domain
from odoo.tools.misc import format_date, formatLang

from ..ksef_core.fa3.buckets import BUCKETS
from ..ksef_core.fa3.rates import rate_kind, rate_percent

#: rates for which a line without tax is right (no Polish VAT on the invoice, nothing to book)
_NO_TAX_NEEDED = ("not_subject",)
#: Odoo's rate of the day before the tax point (art. 31a) older than this: the rate is missing
_RATE_MAX_AGE = datetime.timedelta(days=7)


class AccountMove(models.Model):
    _inherit = "account.move"

    # ------------------------------------------------------------------ lines

    def _l10n_pl_ksef_line_commands(self, invoice, draft):
        """``(commands, {rate code: tax}, rate codes without a tax)`` for the bill lines of ``draft``.

        Product lines get the sequences 10, 11, ... in the order of ``draft.lines``; the goods of
        an invoice booked per VAT rate are listed in one note line before them.
        """
        taxes = {}
        untaxed = set()
        before_after = any(line.before for line in draft.lines)
        commands = []
        if draft.items:
            text = "\n".join(["- %s" % item for item in draft.items])
            commands.append(
                Command.create(
                    {
                        "display_type": "line_note",
                        "sequence": 1,
                        "name": _(
                            "Goods and services on the invoice (amounts given per VAT rate):\n%(items)s", items=text
                        ),
                    }
                )
            )
        for index, line in enumerate(draft.lines):
            if line.rate not in taxes:
                taxes[line.rate] = self._l10n_pl_ksef_purchase_tax(line.rate)
            tax = taxes[line.rate]
            # no code (margin scheme, OSS): the checks per VAT rate tell if VAT is missing
            if not tax and line.rate and rate_kind(line.rate) not in _NO_TAX_NEEDED:
                untaxed.add(line.rate)
            commands.append(
                Command.create(
                    {
                        "sequence": 10 + index,
                        "name": self._l10n_pl_ksef_line_name(invoice, line, before_after),
                        "quantity": float(line.quantity),
                        "price_unit": float(line.price_unit),
                        "tax_ids": [Command.set(tax.ids)],
                        "is_imported": True,
                    }
                )
            )
        return commands, taxes, untaxed

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

    def _l10n_pl_ksef_purchase_tax(self, code):
        """The company's purchase tax for an FA(3) rate code (empty when none fits).

        First a purchase tax whose KSeF rate code is ``code`` (for 0 WDT / 0 EX also 0 KR), then, for a
        rate that charges VAT, a plain purchase tax of that percentage.
        """
        company = self.company_id
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
        if kind in ("reverse_charge", "not_subject"):
            return Tax  # a reverse charge needs a tax marked "oo"; "np" has no Polish VAT
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

    def _l10n_pl_ksef_set_rate(self, invoice, draft):
        """Give this draft (currency and date set) the exchange rate of the invoice; returns notes.

        The rate the invoice states (``KursWaluty``) is the one its VAT in PLN was computed with.
        Without one, art. 31a applies: the rate of the last working day before the tax point
        (the sale date, else the issue date), taken from Odoo's rates.
        """
        self.ensure_one()
        company_currency = self.company_currency_id
        if self.currency_id == company_currency or company_currency.name != "PLN":
            return []
        notes = []
        if draft.exchange_rate:
            self.invoice_currency_rate = 1.0 / float(draft.exchange_rate)
            if len(draft.exchange_rates) > 1:
                notes.append(
                    _(
                        "The invoice states several exchange rates (%(rates)s); the bill uses %(rate)s, the one of "
                        "most of its amount. Check the VAT in PLN before confirming the bill.",
                        rates=", ".join(str(rate) for rate in draft.exchange_rates),
                        rate=str(draft.exchange_rate),
                    )
                )
            return notes
        tax_point = invoice.sale_date or invoice.issue_date
        day_before = tax_point - datetime.timedelta(days=1)
        latest = self.env["res.currency.rate"].search(
            [
                ("currency_id", "=", self.currency_id.id),
                ("name", "<=", day_before),
                ("company_id", "in", (False, self.company_id.root_id.id)),
            ],
            order="name desc",
            limit=1,
        )
        self.invoice_currency_rate = self.env["res.currency"]._get_conversion_rate(
            company_currency, self.currency_id, self.company_id, day_before
        )
        if not latest or latest.name < day_before - _RATE_MAX_AGE:
            notes.append(
                _(
                    "The invoice states no exchange rate and Odoo has no %(currency)s rate for %(date)s (the day "
                    "before the tax point, art. 31a): the bill uses %(rate)s PLN. Enter the NBP rate of the last "
                    "working day before %(tax_point)s before confirming the bill.",
                    currency=self.currency_id.name,
                    date=format_date(self.env, day_before),
                    rate=_rate_text(self.invoice_currency_rate),
                    tax_point=format_date(self.env, tax_point),
                )
            )
        return notes

    # ------------------------------------------------------------------ VAT per rate

    def _l10n_pl_ksef_check_amounts(self, draft, taxes, untaxed):
        """Compare the bill with the supplier's sums per VAT rate and with the amount due; returns notes.

        A VAT difference of rounding size (a cent per line of that rate) is moved onto the tax line,
        so that the bill's VAT is the supplier's (``P_14_x``, and ``P_14_xW`` in PLN for an invoice
        in another currency); larger differences are only reported, rate by rate.
        """
        self.ensure_one()
        notes = []
        if untaxed:
            notes.append(
                _(
                    "No purchase tax of this company matches the VAT rate %(rates)s: these lines have no tax. "
                    "Choose the tax before confirming the bill.",
                    rates=", ".join(sorted(untaxed)),
                )
            )
        currency = self.currency_id
        company_currency = self.company_currency_id
        in_pln = currency != company_currency and company_currency.name == "PLN"
        sign = self.direction_sign
        product_lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        ordered = product_lines.sorted(lambda line: (line.sequence, line.id))
        subtotals = {id(line): bill_line.price_subtotal for line, bill_line in zip(draft.lines, ordered, strict=False)}
        fixes = []
        for key, booked in draft.booked.items():
            members = draft.bucket_lines(key)
            label = _bucket_label(key, members)
            if booked.net is not None:
                net = sum(subtotals.get(id(line), 0.0) for line in members)
                notes += self._l10n_pl_ksef_difference_note(_("Net amount at VAT rate %s", label), net, booked.net)
            no_tax = self.env["account.tax"]
            tax_set = no_tax.union(*[taxes.get(line.rate) or no_tax for line in members])
            if booked.vat is None or not tax_set or any(line.rate in untaxed for line in members):
                continue
            tax_lines = self.line_ids.filtered(lambda line, tax_set=tax_set: line.tax_line_id in tax_set)
            vat = sign * sum(tax_lines.mapped("amount_currency"))
            diff = currency.round(float(booked.vat) - vat)
            tolerance = 0.01 * max(1, len(members))
            if tax_lines and not currency.is_zero(diff) and abs(diff) <= tolerance + 1e-6:
                fixes.append((tax_lines[0], sign * diff, booked, tolerance, label))
            elif not currency.is_zero(diff):
                notes += self._l10n_pl_ksef_difference_note(_("VAT at rate %s", label), vat, booked.vat)
            elif in_pln and tax_lines:
                fixes.append((tax_lines[0], 0.0, booked, tolerance, label))
        if fixes:
            notes += self._l10n_pl_ksef_fix_vat(fixes, in_pln)
        if currency.compare_amounts(self.amount_total, float(draft.total)):
            notes.append(
                _(
                    "The total of this bill (%(bill)s) differs from the amount due on the invoice in KSeF "
                    "(%(ksef)s) by %(diff)s. Check the lines and taxes before confirming the bill.",
                    bill=formatLang(self.env, self.amount_total, currency_obj=currency),
                    ksef=formatLang(self.env, float(draft.total), currency_obj=currency),
                    diff=formatLang(self.env, float(draft.total) - self.amount_total, currency_obj=currency),
                )
            )
        return notes

    def _l10n_pl_ksef_fix_vat(self, fixes, in_pln):
        """Move rounding cents onto tax lines: ``fixes`` are (tax line, delta, booked, tolerance, label)."""
        notes = []
        sign = self.direction_sign
        company_currency = self.company_currency_id
        with self._get_edi_creation() as move:
            for tax_line, delta, booked, tolerance, label in fixes:
                amount = tax_line.amount_currency + delta
                values = {"amount_currency": amount}
                if move.currency_id != company_currency:
                    values["balance"] = company_currency.round(amount / move.invoice_currency_rate)
                if in_pln and booked.vat_pln is not None:
                    tax_lines = move.line_ids.filtered(lambda line, tax=tax_line.tax_line_id: line.tax_line_id == tax)
                    others = sign * sum((tax_lines - tax_line).mapped("balance"))
                    pln = sign * values["balance"] + others
                    diff = company_currency.round(float(booked.vat_pln) - pln)
                    if abs(diff) <= tolerance + 1e-6:
                        values["balance"] += sign * diff
                    else:
                        notes += self._l10n_pl_ksef_difference_note(
                            _("VAT in PLN at rate %s", label), pln, booked.vat_pln, company_currency
                        )
                tax_line.write(values)
        return notes

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
