"""The order an advance invoice (ZAL) is paid on: FA(3) ``Zamowienie`` (art. 106f ust. 1 pkt 4 of the VAT act).

An advance invoice names the whole order or contract, not its own down payment: its gross value
(``WartoscZamowienia``) and the ordered goods or services with their quantities, values and rates
(``ZamowienieWiersz``).  They come from the sale order when the down payment was invoiced from one
(``sale`` installed), otherwise from what the user enters on the invoice's KSeF tab.  No order is
ever made up from the advance invoice's own lines: without one the FA(3) document has a problem.
"""

import re
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools.translate import LazyTranslate

from ..ksef_core.fa3.model import Order, OrderLine
from .account_move_fa3_lines import ZERO, dec
from .fa3_problems import problem

_lt = LazyTranslate(__name__)

#: entered lines may differ from the order value by rounding, at most one grosz (cent)
TOLERANCE = Decimal("0.01")
_GTIN = re.compile(r"^(\d{8}|\d{12,14})$")


class L10nPlKsefOrderLine(models.Model):
    _name = "l10n_pl_ksef.order.line"
    _description = "Ordered goods or service named on a KSeF advance invoice"
    _order = "sequence, id"
    _check_company_auto = True

    move_id = fields.Many2one("account.move", string="Invoice", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id", store=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        help="Optional: fills in the description, unit, price and tax, and gives the line its internal reference, "
        "barcode and GTU group.",
    )
    name = fields.Char(string="Goods or service", required=True, help="Name (kind) of the ordered goods or service.")
    quantity = fields.Float(digits="Product Unit", default=1.0, help="Quantity ordered.")
    product_uom_id = fields.Many2one(
        "uom.uom", string="Unit", compute="_compute_product_uom_id", store=True, readonly=False, precompute=True
    )
    price_unit = fields.Float(string="Unit price (net)", digits="Product Price", help="Net price of one unit.")
    tax_id = fields.Many2one(
        "account.tax",
        string="VAT",
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
        help="The VAT rate of the ordered goods or service (its tax's KSeF rate code).",
    )
    price_subtotal = fields.Monetary(string="Net", compute="_compute_amounts", store=True)
    price_tax = fields.Monetary(string="VAT amount", compute="_compute_amounts", store=True)
    price_total = fields.Monetary(string="Gross", compute="_compute_amounts", store=True)

    @api.depends("product_id")
    def _compute_product_uom_id(self):
        for line in self:
            line.product_uom_id = line.product_id.uom_id or line.product_uom_id

    @api.depends("quantity", "price_unit", "tax_id", "currency_id")
    def _compute_amounts(self):
        for line in self:
            currency = line.currency_id or line.company_id.currency_id
            if line.tax_id:
                # the unit price is net, whatever the tax says about prices including it
                result = line.tax_id.compute_all(
                    line.price_unit, currency=currency, quantity=line.quantity, handle_price_include=False
                )
                net, gross = result["total_excluded"], result["total_included"]
            else:
                net = gross = currency.round(line.price_unit * line.quantity)
            line.price_subtotal = net
            line.price_tax = gross - net
            line.price_total = gross

    @api.onchange("product_id")
    def _onchange_product_id(self):
        for line in self.filtered("product_id"):
            product = line.product_id
            line.name = product.name  # its internal reference goes to IndeksZ
            line.price_unit = product.lst_price
            taxes = product.taxes_id._filter_taxes_by_company(line.move_id.company_id or self.env.company)
            line.tax_id = taxes.filtered("l10n_pl_ksef_rate_code")[:1] or taxes[:1]


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_order_value = fields.Monetary(
        string="Order value",
        copy=True,
        help="Advance invoice: the gross value (VAT included) of the whole order or contract the down payment is "
        "paid on (WartoscZamowienia, art. 106f ust. 1 pkt 4 of the VAT act). Not needed when the down payment is "
        "invoiced from a sale order.",
    )
    l10n_pl_ksef_order_line_ids = fields.One2many(
        "l10n_pl_ksef.order.line",
        "move_id",
        string="Ordered goods and services",
        copy=True,
        help="Advance invoice: the goods or services of the whole order, with their quantities, net values and "
        "VAT rates (ZamowienieWiersz). They add up to the order value. Not needed when the down payment is "
        "invoiced from a sale order.",
    )
    l10n_pl_ksef_order_from_sale = fields.Boolean(
        string="Order from a sale order",
        compute="_compute_l10n_pl_ksef_order_from_sale",
        help="The advance invoice was made from a sale order: its KSeF document describes that order.",
    )

    @api.depends("invoice_line_ids")
    def _compute_l10n_pl_ksef_order_from_sale(self):
        for move in self:
            move.l10n_pl_ksef_order_from_sale = bool(move._l10n_pl_ksef_sale_orders())

    def _l10n_pl_ksef_sale_orders(self):
        """The sale orders this invoice's lines come from (empty without the ``sale`` module)."""
        lines = self.invoice_line_ids
        if "sale_line_ids" not in lines._fields:
            return self.env["account.move"].browse()  # an empty recordset: no sale orders without sale
        return lines.sale_line_ids.order_id

    def _l10n_pl_ksef_fa3_order(self, problems):
        """``Zamowienie`` of an advance invoice (art. 106f ust. 1 pkt 4): its sale orders, else the entered order.

        Problems are appended when there is no order, when the entered lines do not add up to the order
        value, or when the order is worth less than this advance.
        """
        self.ensure_one()
        orders = self._l10n_pl_ksef_sale_orders()
        if orders:
            order = self._l10n_pl_ksef_order_from_sale_orders(orders, problems)
        else:
            order = self._l10n_pl_ksef_order_entered(problems)
        if order is not None and order.value < dec(self.amount_total):
            problems.append(
                problem(
                    _lt(
                        "The order value %(value)s is less than this advance payment %(advance)s: an advance pays "
                        "part of the order's price. Correct the KSeF tab ▸ Order value (the gross value of the "
                        "whole order).",
                        value=order.value,
                        advance=dec(self.amount_total),
                    )
                )
            )
        return order

    def _l10n_pl_ksef_order_from_sale_orders(self, orders, problems):
        sources = orders.order_line.filtered(lambda ol: not ol.display_type and not ol.is_downpayment)
        units = self._l10n_pl_ksef_unit_names(sources.product_uom_id)
        lines = []
        for source in sources:
            label = (source.name or "").split("\n")[0][:60]
            code, tax = self._l10n_pl_ksef_order_code(source.tax_ids)
            if code is None:
                problems.append(
                    problem(
                        _lt(
                            "The line '%(line)s' of the sale order %(order)s has no VAT tax with a KSeF rate code: "
                            "set its tax on the sale order, or the tax's KSeF rate code in Accounting ▸ "
                            "Configuration ▸ Taxes.",
                            line=label,
                            order=source.order_id.name,
                        )
                    )
                )
                continue
            lines.append(
                self._l10n_pl_ksef_order_line(
                    source.name,
                    dec(source.product_uom_qty, 6),
                    units.get(source.product_uom_id.id),
                    dec(source.price_unit, 8),
                    dec(source.price_subtotal),
                    dec(source.price_tax),
                    code,
                    tax,
                    source.product_id,
                )
            )
        return Order(value=dec(sum(orders.mapped("amount_total"))), lines=lines)

    def _l10n_pl_ksef_order_entered(self, problems):
        """The order typed in the KSeF tab, or ``None`` (with its problems) when it is missing or inconsistent."""
        entered = self.l10n_pl_ksef_order_line_ids
        value = dec(self.l10n_pl_ksef_order_value)
        if not value:
            problems.append(
                problem(
                    _lt(
                        "This advance invoice (ZAL) does not give the value of the order it is paid on (art. 106f "
                        "ust. 1 pkt 4 of the VAT act): fill in the KSeF tab ▸ Order value, the gross value of the "
                        "whole order or contract."
                    )
                )
            )
        if not entered:
            problems.append(
                problem(
                    _lt(
                        "This advance invoice (ZAL) does not list the ordered goods or services (art. 106f ust. 1 "
                        "pkt 4 of the VAT act): list the whole order, not this down payment, in the KSeF tab ▸ "
                        "Ordered goods and services."
                    )
                )
            )
        if not value or not entered:
            return None
        units = self._l10n_pl_ksef_unit_names(entered.product_uom_id)
        lines, gross, complete = [], ZERO, True
        for entry in entered:
            code, tax = self._l10n_pl_ksef_order_code(entry.tax_id)
            if code is None:
                complete = False
                problems.append(
                    problem(
                        _lt(
                            "The ordered item '%(line)s' has no VAT tax with a KSeF rate code: choose its VAT in "
                            "the KSeF tab ▸ Ordered goods and services (or set the tax's KSeF rate code in "
                            "Accounting ▸ Configuration ▸ Taxes).",
                            line=(entry.name or "")[:60],
                        )
                    )
                )
                continue
            gross += dec(entry.price_total)
            lines.append(
                self._l10n_pl_ksef_order_line(
                    entry.name,
                    dec(entry.quantity, 6),
                    units.get(entry.product_uom_id.id),
                    dec(entry.price_unit, 8),
                    dec(entry.price_subtotal),
                    dec(entry.price_tax),
                    code,
                    tax,
                    entry.product_id,
                )
            )
        if complete and abs(gross - value) > TOLERANCE:
            problems.append(
                problem(
                    _lt(
                        "The ordered goods and services add up to %(sum)s gross, but the order value is %(value)s: "
                        "correct the KSeF tab ▸ Ordered goods and services or ▸ Order value so that they agree.",
                        sum=gross,
                        value=value,
                    )
                )
            )
        return Order(value=value, lines=lines)

    def _l10n_pl_ksef_order_code(self, taxes):
        """``(RateCode, tax)`` of the VAT among ``taxes`` (groups flattened), or ``(None, None)``."""
        vat = taxes.flatten_taxes_hierarchy().filtered("l10n_pl_ksef_rate_code")[:1]
        return (vat._l10n_pl_ksef_rate(), vat) if vat else (None, None)

    def _l10n_pl_ksef_order_line(self, name, quantity, unit, price, net, vat, code, tax, product):
        """One ``ZamowienieWiersz``: what was ordered, how much of it, its net value, VAT and rate."""
        barcode = (product.barcode or "").strip()
        native_gtu = "l10n_pl_vat_gtu" in product._fields
        return OrderLine(
            name=(name or product.display_name or "").strip()[:512] or None,
            quantity=quantity,
            unit=unit,
            unit_price=price,
            net=net,
            vat=vat,
            rate=code.p_12,
            oss_rate=Decimal(str(tax.amount)) if code.kind == "oss" else None,
            annex15=bool(product.l10n_pl_ksef_annex15),
            gtu=(native_gtu and product.l10n_pl_vat_gtu) or product.l10n_pl_ksef_gtu or None,
            index=(product.default_code or "").strip()[:50] or None,
            gtin=barcode if _GTIN.match(barcode) else None,
        )
