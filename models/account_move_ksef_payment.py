"""Paying a supplier's bill lawfully: the title of the transfer (art. 108g and art. 108a ust. 3 of the VAT Act).

* A bill from KSeF (imported, uploaded, or with the KSeF number typed in from the supplier's PDF) takes its
  KSeF number as its payment reference: every payment Odoo makes from it carries it as its memo.
* A bill of a Polish supplier that is not in KSeF takes the KSeF number typed in from the supplier's PDF
  (checked: format, CRC-8, the supplier's NIP), or says why it has none (the law's exceptions).
* From :data:`~..ksef_core.payment_title.TITLE_RULE_FROM` the title of a transfer paying one bill is its
  KSeF number, the MPP message naming it (split payment), or the exception's text; several bills paid by one
  transfer quote the collective identifier KSeF issues for their KSeF numbers (asked for when the payment is
  made: ``account_move_ksef_collective.py``).
  Before that day Odoo's own memo stays, with the KSeF number already proposed by the payment reference.

Bills of suppliers without a Polish NIP (foreign, or not VAT payers) are left as Odoo makes them.
"""

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.sql import column_exists, create_column

from ..ksef_core import payment_title
from ..ksef_core.ksef_number import is_valid_ksef_number, ksef_number_nip

PURCHASE_TYPES = ("in_invoice", "in_refund")

NO_NUMBER_REASONS = [
    ("exempt", "VAT-exempt seller (art. 113)"),
    ("outage", "Issued during a KSeF failure, no KSeF number yet"),
]


def _clean_number(value):
    """A KSeF number as typed from a PDF ("5265877635-20260105-0100001AF629-AF ", lower case): the number."""
    return re.sub(r"\s+", "", value).upper() if isinstance(value, str) else value


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_number_typable = fields.Boolean(
        string="KSeF number typed in",
        compute="_compute_l10n_pl_ksef_number_typable",
        help="A bill of a Polish supplier not imported from KSeF: its KSeF number is typed in from the supplier's "
        "invoice.",
    )
    l10n_pl_ksef_no_number_reason = fields.Selection(
        NO_NUMBER_REASONS,
        string="Paid without KSeF number",
        compute="_compute_l10n_pl_ksef_no_number_reason",
        store=True,
        readonly=False,
        copy=False,
        help="Why this bill of a Polish supplier has no KSeF number, as the law allows (art. 108g ustawy o VAT): "
        "from 1 January 2027 the transfer paying it says so in its title instead of quoting a KSeF number. Set "
        "from the supplier's 'VAT-exempt seller' box; choose 'KSeF failure' for an invoice the supplier issued "
        "while KSeF was down and that KSeF has not numbered yet. Ignored once the bill has a KSeF number.",
    )

    def _auto_init(self):
        # no supplier is marked VAT-exempt when the column is made: every bill's reason is empty, which the ORM
        # would otherwise compute bill by bill (minutes on a large database)
        if not column_exists(self.env.cr, self._table, "l10n_pl_ksef_no_number_reason"):
            create_column(self.env.cr, self._table, "l10n_pl_ksef_no_number_reason", "varchar")
        return super()._auto_init()

    @api.depends("move_type", "company_id", "commercial_partner_id", "l10n_pl_ksef_invoice_hash", "state")
    def _compute_l10n_pl_ksef_number_typable(self):
        for move in self:
            move.l10n_pl_ksef_number_typable = bool(
                move._l10n_pl_ksef_polish_bill() and not move.l10n_pl_ksef_invoice_hash and move.state != "cancel"
            )

    @api.depends("commercial_partner_id.l10n_pl_ksef_vat_exempt", "move_type")
    def _compute_l10n_pl_ksef_no_number_reason(self):
        for move in self:
            if move.move_type not in PURCHASE_TYPES:
                move.l10n_pl_ksef_no_number_reason = False
            elif move.commercial_partner_id.l10n_pl_ksef_vat_exempt:
                move.l10n_pl_ksef_no_number_reason = "exempt"
            elif move.l10n_pl_ksef_no_number_reason == "exempt":
                move.l10n_pl_ksef_no_number_reason = False
            else:  # a reason chosen by hand stays
                move.l10n_pl_ksef_no_number_reason = move.l10n_pl_ksef_no_number_reason

    def _l10n_pl_ksef_polish_bill(self):
        """A bill of a Polish VAT payer from a supplier with a Polish NIP: the bills art. 108g is about."""
        self.ensure_one()
        return bool(
            self.move_type in PURCHASE_TYPES
            and self.company_id.l10n_pl_ksef_nip
            and self.commercial_partner_id.l10n_pl_ksef_nip_normalized
        )

    # ------------------------------------------------------------------ the KSeF number as payment reference

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("l10n_pl_ksef_number"):
                vals["l10n_pl_ksef_number"] = _clean_number(vals["l10n_pl_ksef_number"])
                move_type = vals.get("move_type") or self.env.context.get("default_move_type")
                if move_type in PURCHASE_TYPES and not vals.get("payment_reference"):
                    vals["payment_reference"] = vals["l10n_pl_ksef_number"]
        return super().create(vals_list)

    def write(self, vals):
        if "l10n_pl_ksef_number" not in vals:
            return super().write(vals)
        vals = dict(vals, l10n_pl_ksef_number=_clean_number(vals["l10n_pl_ksef_number"]) or False)
        bills = self.filtered(lambda m: m.move_type in PURCHASE_TYPES)
        before = {bill: (bill.l10n_pl_ksef_number, bill.payment_reference) for bill in bills}
        result = super().write(vals)
        if "payment_reference" not in vals:
            for bill, (number, reference) in before.items():
                followed = not reference or reference == number  # not one the user chose
                if followed and bill.payment_reference != bill.l10n_pl_ksef_number:
                    bill.payment_reference = bill.l10n_pl_ksef_number or False
        return result

    @api.onchange("l10n_pl_ksef_number")
    def _onchange_l10n_pl_ksef_number(self):
        if self.move_type not in PURCHASE_TYPES:
            return
        number = _clean_number(self.l10n_pl_ksef_number) or False
        if number != self.l10n_pl_ksef_number:
            self.l10n_pl_ksef_number = number
        if not self.payment_reference or self.payment_reference == self._origin.l10n_pl_ksef_number:
            self.payment_reference = number

    @api.constrains("l10n_pl_ksef_number", "partner_id")
    def _check_l10n_pl_ksef_typed_number(self):
        """A KSeF number typed in (a bill not imported from KSeF) is one KSeF gives, of the supplier's NIP."""
        for bill in self.filtered(
            lambda m: m.move_type in PURCHASE_TYPES and m.l10n_pl_ksef_number and not m.l10n_pl_ksef_invoice_hash
        ):
            number = bill.l10n_pl_ksef_number
            if not is_valid_ksef_number(number):
                raise ValidationError(
                    _(
                        "%(number)s is not a KSeF number (bill %(bill)s). A KSeF number has 35 characters: the "
                        "supplier's NIP, the issue date, 12 characters and a 2-character check code, e.g. "
                        "5265877635-20260105-0100001AF629-AF. Copy it again from the supplier's invoice.",
                        number=number,
                        bill=bill.display_name,
                    )
                )
            supplier_nip = bill.commercial_partner_id.l10n_pl_ksef_nip_normalized
            if supplier_nip and ksef_number_nip(number) != supplier_nip:
                raise ValidationError(
                    _(
                        "KSeF number %(number)s belongs to an invoice of NIP %(nip)s, but the supplier of bill "
                        "%(bill)s, %(supplier)s, has NIP %(supplier_nip)s. Check the number or the supplier.",
                        number=number,
                        nip=ksef_number_nip(number),
                        bill=bill.display_name,
                        supplier=bill.commercial_partner_id.display_name,
                        supplier_nip=supplier_nip,
                    )
                )

    # ------------------------------------------------------------------ transfer titles

    def _l10n_pl_ksef_payment_title(self, day, paid=None):
        """The title of a transfer made on ``day`` paying this one bill, or ``None`` for Odoo's own memo.

        ``paid``: the amount the transfer pays, in the bill's currency (default: what is left to pay); it
        sets the VAT part of a split payment.
        """
        self.ensure_one()
        if self.move_type != "in_invoice" or not self._l10n_pl_ksef_polish_bill():
            return None
        rule = payment_title.title_rule_applies(day)
        number = self.l10n_pl_ksef_number
        if self.l10n_pl_ksef_split_payment:
            invoice_id = number if rule and number else (self.ref or self.name)
            text = self.ref if invoice_id == number else ""
            return payment_title.mpp_message(
                self._l10n_pl_ksef_mpp_vat(paid),
                self.commercial_partner_id.l10n_pl_ksef_nip_normalized,
                invoice_id,
                text,
            )
        if number:
            return number  # before 2027 too: it is already the bill's payment reference (harmless)
        if rule and self.l10n_pl_ksef_no_number_reason:
            return payment_title.exception_title(self.l10n_pl_ksef_no_number_reason, self.ref or self.name)
        return None

    def _l10n_pl_ksef_mpp_vat(self, paid=None):
        """The VAT (in PLN, the company's currency) a split payment of ``paid`` sends to the VAT account:
        the bill's VAT, in proportion when the transfer pays part of the bill."""
        self.ensure_one()
        vat = abs(self.amount_tax_signed)
        total = abs(self.amount_total)
        if paid is None:
            paid = abs(self.amount_residual)
        if not total or self.currency_id.compare_amounts(paid, total) >= 0:
            return vat
        return self.company_currency_id.round(vat * paid / total)

    def _l10n_pl_ksef_collective_title(self, day):
        """``(title, problem)`` of one transfer made on ``day`` paying these bills (of one supplier) together.

        ``title``: the memo (``None``: Odoo's own); ``problem``: why the transfer cannot go out (the payment
        is refused with it). When the bills have KSeF numbers, art. 108g wants the collective identifier KSeF
        issues for them as the title: it is asked for when the payment is made
        (:meth:`_l10n_pl_ksef_collective_bills`, :meth:`_l10n_pl_ksef_collective_identifier`), so ``title``
        is ``None`` then.
        """
        bills = self.filtered(lambda m: m.move_type == "in_invoice" and m._l10n_pl_ksef_polish_bill())
        if len(self) < 2 or not bills or not payment_title.title_rule_applies(day):
            return None, None
        names = ", ".join(bills.mapped(lambda m: m.ref or m.name))
        if any(bills.mapped("l10n_pl_ksef_split_payment")):
            return None, _(
                "A split payment (MPP) pays one invoice per transfer, with its VAT message: pay the bills "
                "%(bills)s one by one (untick Group Payments).",
                bills=names,
            )
        numbered = bills.filtered("l10n_pl_ksef_number")
        if numbered:
            return None, self._l10n_pl_ksef_collective_problem(numbered)
        reasons = set(bills.mapped("l10n_pl_ksef_no_number_reason"))
        if len(reasons) == 1 and False not in reasons and bills == self:
            text = payment_title.EXCEPTION_TEXTS[reasons.pop()]
            refs = payment_title.ascii_title(", ".join(self.mapped(lambda m: m.ref or m.name)))
            return ("%s %s" % (refs[: payment_title.MAX_TITLE - len(text) - 1], text)), None
        return None, None

    def _l10n_pl_ksef_title_problem(self, day, memo, paid=None):
        """Why a transfer made on ``day`` paying these bills with ``memo`` would break art. 108g, or ``None``."""
        if len(self) > 1:
            return self._l10n_pl_ksef_collective_title(day)[1]
        if not self or not payment_title.title_rule_applies(day):
            return None
        number = self.l10n_pl_ksef_number
        polish = self.move_type == "in_invoice" and self._l10n_pl_ksef_polish_bill()
        # a split payment's INV field quotes a KSeF 1.0 number (36 characters) without its inner dash
        quoted = number and any(form in (memo or "") for form in (number, payment_title.mpp_invoice(number)))
        if number and polish and not quoted:
            return _(
                "From %(day)s the title of a transfer paying bill %(bill)s must quote its KSeF number "
                "%(number)s (art. 108g of the VAT Act): put it back in the Memo.",
                day=fields.Date.to_string(payment_title.TITLE_RULE_FROM),
                bill=self.display_name,
                number=number,
            )
        return None
