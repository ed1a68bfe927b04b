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

from ..ksef_core.fa3.buckets import BUCKETS, money
from ..ksef_core.fa3.model import BucketTotal, Line, NewVehicle
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

    def _l10n_pl_ksef_fa3_rows(self):
        """``{move id: {"products": [row], "taxes": [row]}}``: the invoice and tax lines of these moves in one read.

        A row is a dict of the line's stored values (amounts as exact ``Decimal``), with ``tax_ids`` and
        ``tag_ids``; product lines in their order on the invoice.
        """
        self.env["account.move.line"].flush_model()
        result = {move_id: {"products": [], "taxes": []} for move_id in self.ids}
        if not self.ids:
            return result
        price_digits = max(self.env["decimal.precision"].precision_get("Product Price"), 2)  # before the query
        self.env.cr.execute(
            """
            SELECT l.id, l.move_id, l.display_type, l.name, l.quantity, l.price_unit, l.discount,
                   l.amount_currency, l.price_subtotal, l.product_id, l.product_uom_id, l.tax_line_id,
                   l.l10n_pl_ksef_sale_date, l.l10n_pl_ksef_vehicle_first_use,
                   ARRAY(SELECT r.account_tax_id FROM account_move_line_account_tax_rel r
                         WHERE r.account_move_line_id = l.id ORDER BY r.account_tax_id) AS tax_ids,
                   ARRAY(SELECT t.account_account_tag_id FROM account_account_tag_account_move_line_rel t
                         WHERE t.account_move_line_id = l.id) AS tag_ids
              FROM account_move_line l
             WHERE l.move_id IN %s AND (l.display_type = 'product' OR l.tax_line_id IS NOT NULL)
             ORDER BY l.move_id, l.sequence, l.id
            """,
            [tuple(self.ids)],
        )
        fetched = self.env.cr.dictfetchall()
        for row in fetched:
            # Odoo reads NUMERIC columns as floats: back to the exact decimals they stand for
            row["quantity"] = dec(row["quantity"], 6)
            row["price_unit"] = dec(row["price_unit"], price_digits)
            row["discount"] = dec(row["discount"], 6)
            row["amount_currency"] = dec(row["amount_currency"])
            row["price_subtotal"] = dec(row["price_subtotal"])
            key = "products" if row["display_type"] == "product" else "taxes"
            result[row["move_id"]][key].append(row)
        return result

    def _l10n_pl_ksef_line_code(self, row, problems, shared):
        """``(RateCode, tax id)`` of an invoice line, or ``None`` (a problem is added)."""
        taxes = shared["taxes"]
        flat = []
        for tax_id in row["tax_ids"]:
            flat += taxes[tax_id]["children"] or [tax_id]
        vat = [tax_id for tax_id in flat if taxes[tax_id]["code"]]
        product = shared["products"].get(row["product_id"], {})
        label = (row["name"] or product.get("name") or "").split("\n")[0][:60]
        if not row["tax_ids"]:
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
            for tax_id in flat:
                problems.append(
                    problem(
                        _lt(
                            "The tax '%(tax)s' has no KSeF rate code: set it in Accounting ▸ Configuration ▸ Taxes ▸ "
                            "%(tax)s ▸ KSeF rate code.",
                            tax=taxes[tax_id]["name"],
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
                        taxes=", ".join(taxes[tax_id]["name"] for tax_id in vat),
                    )
                )
            )
            return None
        return taxes[vat[0]]["code"], vat[0]

    def _l10n_pl_ksef_fa3_lines(self, problems, rate, shared):
        """``(lines, totals, total, details)`` of this invoice for the FA(3) model.

        ``rate`` is the PLN exchange rate for the VAT in PLN (``None`` for a PLN invoice).
        ``details`` gives what the annotations need: the taxes per code, the tags, the new vehicles.
        """
        self.ensure_one()
        sign = -1 if self.move_type == "out_refund" else 1
        rows = shared["rows"][self.id]
        tag_names = shared["tags"]
        voucher = next((code for name, code in _VOUCHER_FIELDS.items() if self._fields.get(name) and self[name]), None)
        kind = self.l10n_pl_ksef_kind
        per_line_dates = len({row["l10n_pl_ksef_sale_date"] for row in rows["products"]}) > 1
        Tax = self.env["account.tax"]
        lines, net_by_bucket, details = [], {}, {"taxes": {}, "tags": set(), "vehicles": []}
        for row in rows["products"]:
            found = self._l10n_pl_ksef_line_code(row, problems, shared)
            if found is None:
                continue
            code, tax_id = found
            details["taxes"][code.code] = details["taxes"].get(code.code, Tax) | Tax.browse(tax_id)
            net = -row["amount_currency"]  # credit on an invoice, debit (negative) on a credit note
            net_by_bucket[code.bucket] = net_by_bucket.get(code.bucket, ZERO) + net
            tags = {tag_names[tag_id] for tag_id in row["tag_ids"] if tag_id in tag_names}
            details["tags"] |= tags
            if kind == "ROZ" and row["price_subtotal"] < 0:
                continue  # a deducted advance: named in FakturaZaliczkowa, counted in the sums only
            line = self._l10n_pl_ksef_fa3_line(row, code, tax_id, net, sign, shared, rate)
            line.procedure = next((p for t, p in _PROCEDURE_TAGS.items() if t in tags), None) or voucher
            lines.append(line)
            if row["l10n_pl_ksef_vehicle_first_use"]:
                details["vehicles"].append((self.env["account.move.line"].browse(row["id"]), len(lines)))
            if per_line_dates:
                line.sale_date = row["l10n_pl_ksef_sale_date"] or self.taxable_supply_date or self.invoice_date
        totals = self._l10n_pl_ksef_fa3_totals(net_by_bucket, rate, shared)
        total = dec(self.amount_total) * sign
        return lines, totals, total, details

    def _l10n_pl_ksef_fa3_line(self, row, code, tax_id, net, sign, shared, rate):
        quantity = row["quantity"] * sign
        price = row["price_unit"]
        discount_percent = row["discount"] or ZERO
        taxes_included = any(shared["taxes"][t]["price_include"] for t in row["tax_ids"])
        if taxes_included and quantity:
            # the price includes the tax: the net unit price before discount, at full precision
            factor = Decimal(1) - discount_percent / Decimal(100)
            price = (abs(net) / abs(quantity) / (factor or 1)).quantize(Decimal("0.00000001"))
        # P_11 = P_8B x P_9A - P_10: the discount is whatever separates the full price from Odoo's subtotal
        discount = money(quantity * price) - net
        if not discount or not (discount_percent or taxes_included):
            discount = None
        product = shared["products"].get(row["product_id"], {})
        barcode = product.get("barcode") or ""
        return Line(
            name=(row["name"] or product.get("name") or "").strip()[:512] or None,
            quantity=quantity,
            unit=shared["units"].get(row["product_uom_id"]),
            unit_price=price,
            discount=discount,
            net=net,
            rate=code.p_12,
            oss_rate=Decimal(str(shared["taxes"][tax_id]["amount"])) if code.kind == "oss" else None,
            annex15=bool(product.get("annex15")),
            gtu=product.get("gtu"),
            exchange_rate=rate,
            margin=code.kind == "margin",
            index=product.get("code"),
            gtin=barcode if _GTIN.match(barcode) else None,
        )

    def _l10n_pl_ksef_fa3_totals(self, net_by_bucket, rate, shared):
        """Per-bucket :class:`BucketTotal` from Odoo's base and tax amounts."""
        vat_by_bucket = {}
        for row in shared["rows"][self.id]["taxes"]:
            tax = shared["taxes"].get(row["tax_line_id"])
            code = tax["code"] if tax else self.env["account.tax"].browse(row["tax_line_id"])._l10n_pl_ksef_rate()
            if code is None:
                continue  # a tax without a code: already a problem on its line
            vat_by_bucket[code.bucket] = vat_by_bucket.get(code.bucket, ZERO) - row["amount_currency"]
        totals = {}
        for key, bucket in BUCKETS.items():
            if key not in net_by_bucket and key not in vat_by_bucket:
                continue
            vat = vat_by_bucket.get(key, ZERO) if bucket.vat_field else None
            vat_pln = money(vat * rate) if (rate is not None and bucket.pln_field) else None
            totals[key] = BucketTotal(net=net_by_bucket.get(key, ZERO), vat=vat, vat_pln=vat_pln)
        return totals

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
