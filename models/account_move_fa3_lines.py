"""FA(3) lines and VAT sums of a customer invoice, taken from Odoo's own amounts.

Every product line becomes an ``FaWiersz`` (net amount = Odoo's subtotal, unit price at
full precision, discount as an amount); the sums per VAT bucket (``P_13_x``/``P_14_x``)
are Odoo's booked base and tax amounts, so they equal Odoo's totals to the grosz under
either of Odoo's rounding methods.  A credit note is written by the difference method:
negative quantities and amounts.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from odoo import models
from odoo.tools.translate import LazyTranslate

from ..ksef_core.fa3 import rates as ksef_rates
from ..ksef_core.fa3.buckets import BUCKETS, money
from ..ksef_core.fa3.model import BucketTotal, Line, NewVehicle, Order, OrderLine
from .fa3_problems import problem

_lt = LazyTranslate(__name__)

ZERO = Decimal("0")
#: Polish symbols of Odoo's standard units of measure (P_8A), by XML id
PL_UNITS = {
    "uom.product_uom_unit": "szt.",
    "uom.product_uom_dozen": "tuz.",
    "uom.product_uom_kgm": "kg",
    "uom.product_uom_gram": "g",
    "uom.product_uom_ton": "t",
    "uom.product_uom_lb": "lb",
    "uom.product_uom_oz": "oz",
    "uom.product_uom_hour": "godz.",
    "uom.product_uom_day": "dzień",
    "uom.product_uom_meter": "m",
    "uom.product_uom_km": "km",
    "uom.product_uom_cm": "cm",
    "uom.product_uom_millimeter": "mm",
    "uom.product_uom_litre": "l",
    "uom.product_uom_cubic_meter": "m³",
    "uom.product_uom_square_meter": "m²",
    "uom.product_uom_pack_6": "opak.",
}
#: Polish chart tags that mark a special procedure on a line (FA(3) ``Procedura``)
_PROCEDURE_TAGS = {"I_42": "I_42", "I_63": "I_63", "Triangular Sale": "TT_D"}
#: l10n_pl's single-purpose-voucher flags on the invoice -> ``Procedura``
_VOUCHER_FIELDS = {
    "l10n_pl_vat_b_spv": "B_SPV",
    "l10n_pl_vat_b_spv_dostawa": "B_SPV_DOSTAWA",
    "l10n_pl_vat_b_mpv_prowizja": "B_MPV_PROWIZJA",
}
_GTIN = re.compile(r"^(\d{8}|\d{12,14})$")


def dec(value, digits=2):
    """A float from the ORM as the Decimal it stands for (rounded to ``digits``)."""
    return Decimal(repr(round(value or 0.0, digits))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _l10n_pl_ksef_unit_names(self, uoms):
        """``{uom id: Polish unit symbol}``: our table, else Odoo's Polish name, else its name."""
        names = {}
        xmlids = uoms.get_external_id()
        polish = uoms.with_context(lang="pl_PL")
        for uom, uom_pl in zip(uoms, polish, strict=True):
            names[uom.id] = PL_UNITS.get(xmlids.get(uom.id)) or uom_pl.name or uom.name
        return names

    def _l10n_pl_ksef_line_code(self, line, problems):
        """The :class:`RateCode` of an invoice line, or ``None`` (a problem is added)."""
        coded = line.tax_ids.filtered(lambda tax: tax.amount_type != "group")
        coded |= line.tax_ids.children_tax_ids
        vat = coded.filtered("l10n_pl_ksef_rate_code")
        label = (line.name or line.product_id.display_name or "").split("\n")[0][:60]
        if not line.tax_ids:
            problems.append(
                problem(
                    _lt(
                        "Invoice line '%(line)s' has no tax: every line of a KSeF invoice needs its VAT rate. Choose "
                        "a tax (also for exempt or out-of-scope sales).",
                        line=label,
                    )
                )
            )
            return None
        if not vat:
            for tax in coded:
                problems.append(
                    problem(
                        _lt(
                            "The tax '%(tax)s' has no KSeF rate code: set it in Accounting ▸ Configuration ▸ Taxes ▸ "
                            "%(tax)s ▸ KSeF rate code.",
                            tax=tax.name,
                        )
                    )
                )
            return None
        if len(vat) > 1:
            problems.append(
                problem(
                    _lt(
                        "Invoice line '%(line)s' has several VAT taxes (%(taxes)s): a KSeF invoice line has one VAT "
                        "rate. Keep one of them.",
                        line=label,
                        taxes=", ".join(vat.mapped("name")),
                    )
                )
            )
            return None
        return vat._l10n_pl_ksef_rate(), vat

    def _l10n_pl_ksef_fa3_lines(self, problems, rate):
        """``(lines, totals, total, details)`` of this invoice for the FA(3) model.

        ``rate`` is the PLN exchange rate for the VAT in PLN (``None`` for a PLN invoice).
        ``details`` gives what the annotations need: the taxes per code and the procedures.
        """
        self.ensure_one()
        sign = -1 if self.move_type == "out_refund" else 1
        products = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        units = self._l10n_pl_ksef_unit_names(products.product_uom_id)
        price_digits = self.env["decimal.precision"].precision_get("Product Price")
        voucher = next((code for name, code in _VOUCHER_FIELDS.items() if self._fields.get(name) and self[name]), None)
        kind = self.l10n_pl_ksef_kind
        dates = {line.l10n_pl_ksef_sale_date for line in products}
        per_line_dates = len(dates) > 1
        lines, net_by_bucket, details = [], {}, {"taxes": {}, "tags": set(), "vehicles": []}
        for line in products:
            found = self._l10n_pl_ksef_line_code(line, problems)
            if found is None:
                continue
            code, tax = found
            details["taxes"].setdefault(code.code, self.env["account.tax"])
            details["taxes"][code.code] |= tax
            net = -dec(line.amount_currency)  # credit on an invoice, debit (negative) on a credit note
            net_by_bucket[code.bucket] = net_by_bucket.get(code.bucket, ZERO) + net
            tags = set(line.tax_tag_ids.with_context(lang="en_US").mapped(lambda t: (t.name or "").lstrip("+-")))
            details["tags"] |= tags
            if kind == "ROZ" and line.price_subtotal < 0:
                continue  # a deducted advance: named in FakturaZaliczkowa, counted in the sums only
            lines.append(self._l10n_pl_ksef_fa3_line(line, code, net, sign, units, price_digits, rate))
            lines[-1].procedure = next((p for t, p in _PROCEDURE_TAGS.items() if t in tags), None) or voucher
            if line.l10n_pl_ksef_vehicle_first_use:
                details["vehicles"].append((line, len(lines)))
            if per_line_dates:
                lines[-1].sale_date = line.l10n_pl_ksef_sale_date or self.taxable_supply_date or self.invoice_date
        totals = self._l10n_pl_ksef_fa3_totals(net_by_bucket, details, rate)
        total = dec(self.amount_total) * sign
        return lines, totals, total, details

    def _l10n_pl_ksef_fa3_line(self, line, code, net, sign, units, price_digits, rate):
        quantity = dec(line.quantity, 6) * sign
        price = dec(line.price_unit, max(price_digits, 2))
        taxes_included = any(line.tax_ids.mapped("price_include"))
        if taxes_included and line.quantity:
            # the price includes the tax: the net unit price before discount, at full precision
            factor = Decimal(1) - dec(line.discount, 6) / Decimal(100)
            price = (abs(net) / abs(dec(line.quantity, 6)) / (factor or 1)).quantize(Decimal("0.00000001"))
        # P_11 = P_8B x P_9A - P_10: the discount is whatever separates the full price from Odoo's subtotal
        discount = money(quantity * price) - net
        if not discount or not (line.discount or taxes_included):
            discount = None
        product = line.product_id
        gtu = None
        template = product.product_tmpl_id
        if template:
            native = template._fields.get("l10n_pl_vat_gtu") and template.l10n_pl_vat_gtu
            gtu = native or template.l10n_pl_ksef_gtu or None
        barcode = (product.barcode or "").strip()
        return Line(
            name=(line.name or product.display_name or "").strip()[:512] or None,
            quantity=quantity,
            unit=units.get(line.product_uom_id.id) if line.product_uom_id else None,
            unit_price=price,
            discount=discount,
            net=net,
            rate=code.p_12,
            oss_rate=dec(line.tax_ids.filtered("l10n_pl_ksef_rate_code")[:1].amount, 6) if code.kind == "oss" else None,
            annex15=bool(template.l10n_pl_ksef_annex15),
            gtu=gtu,
            exchange_rate=rate,
            margin=code.kind == "margin",
            index=(product.default_code or "").strip()[:50] or None,
            gtin=barcode if _GTIN.match(barcode) else None,
            uuid=None,
        )

    def _l10n_pl_ksef_fa3_totals(self, net_by_bucket, details, rate):
        """Per-bucket :class:`BucketTotal` from Odoo's base and tax amounts."""
        vat_by_bucket = {}
        for tax_line in self.line_ids.filtered("tax_line_id"):
            code = tax_line.tax_line_id._l10n_pl_ksef_rate()
            if code is None:
                continue  # a tax without a code: already a problem on its line
            vat_by_bucket[code.bucket] = vat_by_bucket.get(code.bucket, ZERO) - dec(tax_line.amount_currency)
        totals = {}
        for key, bucket in BUCKETS.items():
            if key not in net_by_bucket and key not in vat_by_bucket:
                continue
            vat = vat_by_bucket.get(key, ZERO) if bucket.vat_field else None
            vat_pln = money(vat * rate) if (rate is not None and bucket.pln_field) else None
            totals[key] = BucketTotal(net=net_by_bucket.get(key, ZERO), vat=vat, vat_pln=vat_pln)
        return totals

    def _l10n_pl_ksef_fa3_order(self, problems):
        """The order (``Zamowienie``) an advance invoice is paid on: the sale orders, else its own lines."""
        self.ensure_one()
        sign = -1 if self.move_type == "out_refund" else 1
        orders = self.invoice_line_ids.sale_line_ids.order_id if "sale_line_ids" in self.invoice_line_ids else None
        order_lines = []
        if orders:
            value = sum(orders.mapped("amount_total"))
            sources = orders.order_line.filtered(lambda ol: not ol.display_type and not ol.is_downpayment)
            units = self._l10n_pl_ksef_unit_names(sources.product_uom_id)
            for source in sources:
                code = ksef_rates.get(source.tax_ids[:1].l10n_pl_ksef_rate_code) if source.tax_ids else None
                order_lines.append(
                    OrderLine(
                        name=(source.name or "").strip()[:512] or None,
                        quantity=dec(source.product_uom_qty, 6),
                        unit=units.get(source.product_uom_id.id),
                        unit_price=dec(source.price_unit, 8),
                        net=dec(source.price_subtotal),
                        vat=dec(source.price_tax),
                        rate=code.p_12 if code else None,
                    )
                )
            return Order(value=dec(value) * sign, lines=order_lines)
        products = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        units = self._l10n_pl_ksef_unit_names(products.product_uom_id)
        for line in products:
            code = ksef_rates.get(line.tax_ids.filtered("l10n_pl_ksef_rate_code")[:1].l10n_pl_ksef_rate_code)
            order_lines.append(
                OrderLine(
                    name=(line.name or "").strip()[:512] or None,
                    quantity=dec(line.quantity, 6) * sign,
                    unit=units.get(line.product_uom_id.id),
                    unit_price=dec(line.price_unit, 8),
                    net=dec(line.price_subtotal) * sign,
                    vat=dec(line.price_total - line.price_subtotal) * sign,
                    rate=code.p_12 if code else None,
                )
            )
        return Order(value=dec(self.amount_total) * sign, lines=order_lines)

    def _l10n_pl_ksef_fa3_vehicles(self, details, problems):
        """``NowySrodekTransportu`` of the lines that supply a new means of transport (P_22)."""
        vehicles = []
        usage_tags = {"land": ("P_22B", "P_22B1"), "water": ("P_22C", "P_22C1"), "air": ("P_22D", "P_22D1")}
        for line, position in details["vehicles"]:
            usage = (line.l10n_pl_ksef_vehicle_usage or "").strip()
            kind = line.l10n_pl_ksef_vehicle_kind or "land"
            if not usage:
                problems.append(
                    problem(
                        _lt(
                            "Invoice line '%(line)s' supplies a new means of transport: give its mileage or hours of "
                            "use (column 'New vehicle: mileage or hours').",
                            line=(line.name or "").split("\n")[0][:60],
                        )
                    )
                )
                continue
            extra = []
            if line.l10n_pl_ksef_vehicle_make:
                extra.append(("P_22BMK", line.l10n_pl_ksef_vehicle_make.strip()[:256]))
            usage_tag, number_tag = usage_tags[kind]
            extra.append((usage_tag, usage[:256]))
            if line.l10n_pl_ksef_vehicle_number:
                extra.append((number_tag, line.l10n_pl_ksef_vehicle_number.strip()[:256]))
            vehicles.append(NewVehicle(line.l10n_pl_ksef_vehicle_first_use, position, extra))
        return vehicles
