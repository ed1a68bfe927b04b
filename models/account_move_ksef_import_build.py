"""A vendor bill from an FA(3) invoice, computed in memory and saved with one ``create``.

Odoo's usual way -- create the bill, then let ``_sync_dynamic_lines`` add the tax lines and the
payable line, write after write -- costs about half a second for a 20-line bill. Here the journal
items Odoo would make are computed first, with Odoo's own tax engine (``account.tax``
``_add_tax_details_in_base_lines``, ``_round_base_lines_tax_details``,
``_add_accounting_data_in_base_lines_tax_details``, ``_prepare_tax_lines``: the functions its sync
calls): product lines with their tax tags, one line per tax repartition, the payable line. The
supplier's VAT per rate is applied to the tax lines before anything is written, and the bill is
created (or an uploaded draft written) once, with ``skip_invoice_sync`` (a received batch's items
in one INSERT: see account_move_line_ksef_insert). A bill made this way is
the bill Odoo's sync makes (a test compares both line by line); edited later, it syncs as usual.

Everything a batch of invoices needs from the database (taxes, currencies, suppliers' accounts,
products) is read once per run through :class:`BillCache`.
"""

import datetime

from odoo import _, api, fields, models
from odoo.fields import Command
from odoo.tools.misc import format_date, formatLang

from ..ksef_core.fa3.bill import bill_from_invoice
from ..ksef_core.fa3.rates import rate_kind
from .account_move_ksef_import_lines import _NO_TAX_NEEDED, _RATE_MAX_AGE, _bucket_label, _rate_text

#: at most this many earlier bill lines per supplier are read to recognise products by their text
_HISTORY_LINES = 2000


class BillCache:
    """What the bills of one company need from the database, read once per run."""

    def __init__(self, env, company):
        self.env = env
        self.company = company
        self.taxes = {}
        self.currencies = {}
        self.rates = {}
        self.partner_data = {}
        self.by_gtin = {}
        self.by_index = {}
        self.history = {}
        self.banks = {}
        self.distributions = {}
        self.partners = {}
        self.digits = env["decimal.precision"].precision_get("Product Price")

    def forget_created(self):
        """Forget the suppliers and bank accounts read or made so far (after a rollback)."""
        self.partners.clear()
        self.banks.clear()
        self.partner_data.clear()

    def tax(self, code):
        if code not in self.taxes:
            move = self.env["account.move"].with_company(self.company)
            self.taxes[code] = move._l10n_pl_ksef_purchase_tax(code, company=self.company)
        return self.taxes[code]

    def currency(self, code):
        if code not in self.currencies:
            self.currencies[code] = self.env["account.move"]._l10n_pl_ksef_currency(code)
        return self.currencies[code]

    def partner(self, partner, move_type):
        """``(payable account, expense account Odoo proposes, fiscal position, delivery address)`` of a
        supplier; the last two as a bill computes them."""
        key = (partner.id, move_type)
        if key not in self.partner_data:
            company = self.company
            partner = partner.with_company(company)
            delivery = partner.browse(partner.address_get(["delivery"])["delivery"])
            position = (
                self.env["account.fiscal.position"]
                .with_company(company)
                ._get_fiscal_position(partner, delivery=delivery)
            )
            payable = (
                partner.property_account_payable_id
                or company.partner_id.with_company(company).property_account_payable_id
            )
            if position:
                payable = position.map_account(payable)
            account_id = self.env["account.account"]._get_most_frequent_account_for_partner(
                company_id=company.id, partner_id=partner.id, move_type=move_type
            )
            self.partner_data[key] = (payable, self.env["account.account"].browse(account_id), position, delivery)
        return self.partner_data[key]

    def prefetch_products(self, drafts_by_partner):
        """Read at once the products the lines of these bills may be: ``{partner: [BillDraft]}``."""
        Product = self.env["product.product"].with_company(self.company)
        company_domain = Product._check_company_domain(self.company)
        gtins = {line.gtin for drafts in drafts_by_partner.values() for d in drafts for line in d.lines if line.gtin}
        gtins -= set(self.by_gtin)
        if gtins:
            for product in Product.search([("barcode", "in", list(gtins)), *company_domain]):
                self.by_gtin.setdefault(product.barcode, product)
            for gtin in gtins:
                self.by_gtin.setdefault(gtin, Product)
        indexes = {
            (partner.id, line.index)
            for partner, drafts in drafts_by_partner.items()
            for d in drafts
            for line in d.lines
            if line.index
        } - set(self.by_index)
        if indexes:
            infos = self.env["product.supplierinfo"].search(
                [
                    ("partner_id", "in", list({partner for partner, _index in indexes})),
                    ("product_code", "in", list({index for _partner, index in indexes})),
                    ("company_id", "in", (False, self.company.id)),
                ],
                order="sequence, id",
            )
            for info in infos:
                product = info.product_id or info.product_tmpl_id.product_variant_id
                if product.active and (not product.company_id or product.company_id == self.company):
                    self.by_index.setdefault((info.partner_id.id, info.product_code), product)
            for key in indexes:
                self.by_index.setdefault(key, Product)
        partners = [partner.id for partner in drafts_by_partner if partner.id not in self.history]
        if partners:
            self._read_history(partners)

    def _read_history(self, partner_ids):
        """The product of each line text on the suppliers' earlier bills (the latest wins)."""
        self.env["account.move.line"].flush_model(["name", "product_id", "partner_id", "display_type"])
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (line.partner_id, line.name) line.partner_id, line.name, line.product_id
              FROM account_move_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.company_id = %s
               AND line.partner_id = ANY(%s)
               AND line.display_type = 'product'
               AND line.product_id IS NOT NULL
               AND move.move_type IN ('in_invoice', 'in_refund')
             ORDER BY line.partner_id, line.name, line.id DESC
             LIMIT %s
            """,
            (self.company.id, partner_ids, _HISTORY_LINES * len(partner_ids)),
        )
        rows = self.env.cr.fetchall()
        products = self.env["product.product"].browse({row[2] for row in rows}).exists()
        usable = {p.id for p in products if p.active and (not p.company_id or p.company_id == self.company)}
        for partner_id in partner_ids:
            self.history[partner_id] = {}
        for partner_id, name, product_id in rows:
            if product_id in usable:
                self.history[partner_id][name] = product_id

    def distribution(self, partner, values):
        """The analytic distribution Odoo's models give a bill line (once per product, supplier, account)."""
        key = (values.get("product_id"), partner.id, values["account_id"])
        if key not in self.distributions:
            Line = self.env["account.move.line"].with_company(self.company)
            line = Line.new(
                {
                    "product_id": key[0],
                    "partner_id": partner.id,
                    "account_id": key[2],
                    "company_id": self.company.id,
                    "display_type": "product",
                }
            )
            arguments = line._get_analytic_distribution_arguments(self.env["account.analytic.plan"])
            distribution = self.env["account.analytic.distribution.model"]._get_distribution(arguments)
            self.distributions[key] = distribution or False
        return self.distributions[key]

    def product(self, partner, line):
        """The product of a bill line: by GTIN, by the supplier's code (Indeks), by earlier bills."""
        Product = self.env["product.product"]
        if line.gtin and self.by_gtin.get(line.gtin):
            return self.by_gtin[line.gtin]
        if line.index and self.by_index.get((partner.id, line.index)):
            return self.by_index[(partner.id, line.index)]
        product_id = self.history.get(partner.id, {}).get(line.description)
        return Product.browse(product_id) if product_id else Product


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _l10n_pl_ksef_bill_values(self, cache, invoice, partner, journal, draft=None):
        """``(values, draft, notes)``: the ``create`` values of the bill of ``invoice`` with all its journal
        items, its :class:`~..ksef_core.fa3.bill.BillDraft` and the notes for its chatter.

        ``partner`` is the supplier (commercial partner), ``journal`` the purchase journal. Raises
        ``UserError`` when the invoice cannot be booked (e.g. its currency is not active).
        """
        company = cache.company
        draft = draft or bill_from_invoice(invoice, price_digits=cache.digits)
        move_type = "in_refund" if draft.refund else "in_invoice"
        currency = cache.currency(invoice.currency)
        rate, notes = self._l10n_pl_ksef_rate(cache, currency, invoice, draft)
        payable, proposed, position, delivery = cache.partner(partner, move_type)
        fallback = proposed or journal.default_account_id
        sign = 1 if move_type == "in_invoice" else -1
        AccountTax = self.env["account.tax"]
        line_values, base_lines, untaxed = [], [], set()
        if draft.items:
            text = "\n".join(["- %s" % item for item in draft.items])
            line_values.append(
                {
                    "display_type": "line_note",
                    "sequence": 1,
                    "price_subtotal": 0.0,
                    "price_total": 0.0,
                    "name": _("Goods and services on the invoice (amounts given per VAT rate):\n%(items)s", items=text),
                }
            )
        before_after = any(line.before for line in draft.lines)
        for index, line in enumerate(draft.lines):
            tax = cache.tax(line.rate)
            if not tax and line.rate and rate_kind(line.rate) not in _NO_TAX_NEEDED:
                untaxed.add(line.rate)
            product = cache.product(partner, line)
            account = fallback
            if product:
                expense = product.product_tmpl_id.with_company(company).get_product_accounts(fiscal_pos=position)
                account = expense["expense"] or fallback
            values = {
                "display_type": "product",
                "sequence": 10 + index,
                "name": self._l10n_pl_ksef_line_name(invoice, line, before_after),
                "quantity": float(line.quantity),
                "price_unit": float(line.price_unit),
                "tax_ids": [Command.set(tax.ids)],
                "account_id": account.id,
                "partner_id": partner.id,
                "currency_id": currency.id,
                "is_imported": True,
            }
            if product:
                values["product_id"] = product.id
            line_values.append(values)
            line_kwargs = {
                "id": index,
                "tax_ids": tax,
                "price_unit": values["price_unit"],
                "quantity": values["quantity"],
                "account_id": account,
                "product_id": product,
                "name": values["name"],
            }
            if not base_lines:
                template = AccountTax._prepare_base_line_for_taxes_computation(
                    None,
                    discount=0.0,
                    currency_id=currency,
                    rate=rate,
                    sign=sign,
                    is_refund=draft.refund,
                    partner_id=partner,
                    special_mode=False,
                    **line_kwargs,
                )
                base_lines.append(template)
            else:  # the other lines differ from the first by what they are given only
                base_lines.append(dict(template, **line_kwargs))
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        AccountTax._add_accounting_data_in_base_lines_tax_details(base_lines, company, include_caba_tags=False)
        tax_results = AccountTax._prepare_tax_lines(base_lines, company)
        product_values = [values for values in line_values if values["display_type"] == "product"]
        for (base_line, amounts), values in zip(tax_results["base_lines_to_update"], product_values, strict=True):
            values.update(amounts)
            details = base_line["tax_details"]
            # as account.move.line._compute_totals: the line alone, rounded (the bill's rounding is in its balance)
            values["price_subtotal"] = details["total_excluded_currency"]
            values["price_total"] = details["total_included_currency"]
            values["analytic_distribution"] = cache.distribution(partner, values)
        # price_subtotal/price_total are a product line's (Odoo computes them empty on the others)
        tax_values = [
            dict(values, display_type="tax", price_subtotal=0.0, price_total=0.0)
            for values in tax_results["tax_lines_to_add"]
        ]
        subtotals = [
            base_line["tax_details"]["total_excluded_currency"]
            + base_line["tax_details"]["delta_total_excluded_currency"]
            for base_line in base_lines
        ]
        notes += self._l10n_pl_ksef_amount_notes(cache, draft, currency, rate, sign, subtotals, tax_values, untaxed)
        untaxed_amount = sum(values["amount_currency"] for values in product_values)
        tax_amount = sum(values["amount_currency"] for values in tax_values)
        total = sign * (untaxed_amount + tax_amount)
        if currency.compare_amounts(total, float(draft.total)):
            notes.append(
                _(
                    "The total of this bill (%(bill)s) differs from the amount due on the invoice in KSeF "
                    "(%(ksef)s) by %(diff)s. Check the lines and taxes before confirming the bill.",
                    bill=formatLang(self.env, total, currency_obj=currency),
                    ksef=formatLang(self.env, float(draft.total), currency_obj=currency),
                    diff=formatLang(self.env, float(draft.total) - total, currency_obj=currency),
                )
            )
        values = {
            "move_type": move_type,
            "partner_id": partner.id,
            "ref": invoice.number,
            "invoice_date": invoice.issue_date,
            "currency_id": currency.id,
            "invoice_currency_rate": rate,
            # as the bill would compute them (read once per supplier)
            "partner_shipping_id": delivery.id,
            "fiscal_position_id": position.id,
            "l10n_pl_ksef_split_payment": bool(invoice.annotations.split_payment),
        }
        if invoice.sale_date and invoice.sale_date != invoice.issue_date:
            values["taxable_supply_date"] = invoice.sale_date
        terms = self._l10n_pl_ksef_term_values(cache, partner, invoice, draft, currency, product_values, tax_values)
        for term in terms:
            term.update(display_type="payment_term", account_id=payable.id, partner_id=partner.id)
            term.update(price_subtotal=0.0, price_total=0.0)
            term["currency_id"] = currency.id
        if draft.due_date or not partner.with_company(company).property_supplier_payment_term_id:
            values.update(invoice_payment_term_id=False, invoice_date_due=terms[0]["date_maturity"])
        else:
            values["invoice_payment_term_id"] = partner.with_company(company).property_supplier_payment_term_id.id
        values["line_ids"] = [Command.create(line) for line in line_values + tax_values + terms]
        return values, draft, notes

    @api.model
    def _l10n_pl_ksef_term_values(self, cache, partner, invoice, draft, currency, product_values, tax_values):
        """The payable lines: one for the due date the invoice gives (its issue date when none), else
        those of the supplier's payment terms in Odoo."""
        untaxed_currency = sum(values["amount_currency"] for values in product_values)
        untaxed = sum(values["balance"] for values in product_values)
        tax_currency = sum(values["amount_currency"] for values in tax_values)
        tax = sum(values["balance"] for values in tax_values)
        term = partner.with_company(cache.company).property_supplier_payment_term_id
        if draft.due_date or not term:
            return [
                {
                    "date_maturity": draft.due_date or invoice.issue_date,
                    "amount_currency": -(untaxed_currency + tax_currency),
                    "balance": -(untaxed + tax),
                }
            ]
        # signed as account.move.amount_*_signed: negative on a bill, positive on a refund
        computed = term._compute_terms(
            date_ref=invoice.issue_date,
            currency=currency,
            company=cache.company,
            tax_amount=-tax,
            tax_amount_currency=-tax_currency,
            untaxed_amount=-untaxed,
            untaxed_amount_currency=-untaxed_currency,
            sign=-1 if not draft.refund else 1,
        )
        lines = {}
        for line in computed["line_ids"]:
            day = fields.Date.to_date(line.get("date"))
            found = lines.setdefault(
                day,
                {
                    "date_maturity": day,
                    "amount_currency": 0.0,
                    "balance": 0.0,
                    "discount_date": computed.get("discount_date"),
                    "discount_balance": computed.get("discount_balance") or 0.0,
                    "discount_amount_currency": computed.get("discount_amount_currency") or 0.0,
                },
            )
            found["amount_currency"] += line["foreign_amount"]
            found["balance"] += line["company_amount"]
        return list(lines.values())

    # ------------------------------------------------------------------ amounts

    @api.model
    def _l10n_pl_ksef_amount_notes(self, cache, draft, currency, rate, sign, subtotals, tax_values, untaxed):
        """Compare with the supplier's sums per VAT rate; move rounding cents onto the tax lines; notes.

        A VAT difference of rounding size (a cent per line of that rate) is moved onto the rate's
        first tax line, so that the bill's VAT is the supplier's (``P_14_x``, and ``P_14_xW`` in PLN
        for an invoice in another currency); larger differences are only reported, rate by rate.
        """
        notes = []
        if untaxed:
            notes.append(
                _(
                    "No purchase tax of this company matches the VAT rate %(rates)s: these lines have no tax. "
                    "Choose the tax before confirming the bill.",
                    rates=", ".join(sorted(untaxed)),
                )
            )
        company_currency = cache.company.currency_id
        in_pln = currency != company_currency and company_currency.name == "PLN"
        Repartition = self.env["account.tax.repartition.line"]
        by_line = {id(line): subtotal for line, subtotal in zip(draft.lines, subtotals, strict=True)}
        for key, booked in draft.booked.items():
            members = draft.bucket_lines(key)
            label = _bucket_label(key, members)
            if booked.net is not None:
                net = sum(by_line.get(id(line), 0.0) for line in members)
                notes += self._l10n_pl_ksef_difference_note(
                    _("Net amount at VAT rate %s", label), net, booked.net, currency
                )
            tax_set = {tax.id for line in members for tax in cache.tax(line.rate)}
            if booked.vat is None or not tax_set or any(line.rate in untaxed for line in members):
                continue
            lines = [
                values
                for values in tax_values
                if Repartition.browse(values["tax_repartition_line_id"]).tax_id.id in tax_set
            ]
            vat = sign * sum(values["amount_currency"] for values in lines)
            diff = currency.round(float(booked.vat) - vat)
            tolerance = 0.01 * max(1, len(members))
            if lines and not currency.is_zero(diff) and abs(diff) <= tolerance + 1e-6:
                first = lines[0]
                first["amount_currency"] += sign * diff
                if currency != company_currency:
                    first["balance"] = company_currency.round(first["amount_currency"] / rate)
                else:
                    first["balance"] = first["amount_currency"]
            elif not currency.is_zero(diff):
                notes += self._l10n_pl_ksef_difference_note(_("VAT at rate %s", label), vat, booked.vat, currency)
                continue
            if in_pln and lines and booked.vat_pln is not None:
                pln = sign * sum(values["balance"] for values in lines)
                diff_pln = company_currency.round(float(booked.vat_pln) - pln)
                if abs(diff_pln) <= tolerance + 1e-6:
                    lines[0]["balance"] += sign * diff_pln
                else:
                    notes += self._l10n_pl_ksef_difference_note(
                        _("VAT in PLN at rate %s", label), pln, booked.vat_pln, company_currency
                    )
        return notes

    @api.model
    def _l10n_pl_ksef_rate(self, cache, currency, invoice, draft):
        """``(rate, notes)``: Odoo's company-to-bill rate of the invoice (1.0 in the company's currency).

        The rate the invoice states (``KursWaluty``) is the one its VAT in PLN was computed with.
        Without one, art. 31a applies: the rate of the last working day before the tax point
        (the sale date, else the issue date), taken from Odoo's rates.
        """
        company = cache.company
        company_currency = company.currency_id
        if currency == company_currency or company_currency.name != "PLN":
            return 1.0, []
        if draft.exchange_rate:
            notes = []
            if len(draft.exchange_rates) > 1:
                notes.append(
                    _(
                        "The invoice states several exchange rates (%(rates)s); the bill uses %(rate)s, the one of "
                        "most of its amount. Check the VAT in PLN before confirming the bill.",
                        rates=", ".join(str(rate) for rate in draft.exchange_rates),
                        rate=str(draft.exchange_rate),
                    )
                )
            return 1.0 / float(draft.exchange_rate), notes
        tax_point = invoice.sale_date or invoice.issue_date
        day_before = tax_point - datetime.timedelta(days=1)
        key = (currency.id, day_before)
        if key not in cache.rates:
            latest = self.env["res.currency.rate"].search(
                [
                    ("currency_id", "=", currency.id),
                    ("name", "<=", day_before),
                    ("company_id", "in", (False, company.root_id.id)),
                ],
                order="name desc",
                limit=1,
            )
            rate = self.env["res.currency"]._get_conversion_rate(company_currency, currency, company, day_before)
            cache.rates[key] = (rate, bool(latest) and latest.name >= day_before - _RATE_MAX_AGE)
        rate, recent = cache.rates[key]
        if recent:
            return rate, []
        return rate, [
            _(
                "The invoice states no exchange rate and Odoo has no %(currency)s rate for %(date)s (the day "
                "before the tax point, art. 31a): the bill uses %(rate)s PLN. Enter the NBP rate of the last "
                "working day before %(tax_point)s before confirming the bill.",
                currency=currency.name,
                date=format_date(self.env, day_before),
                rate=_rate_text(rate),
                tax_point=format_date(self.env, tax_point),
            )
        ]
