"""What a customer invoice records for its FA(3) document: kind, correction data, parties, payment form."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..ksef_core.fa3.model import KINDS
from ..ksef_core.fa3.totals import SPLIT_PAYMENT_THRESHOLD
from .l10n_pl_ksef_document import LIVE_STATES
from .res_partner import PAYMENT_FORMS

KIND_LABELS = {
    "VAT": "VAT – invoice",
    "KOR": "KOR – correction",
    "ZAL": "ZAL – advance (down payment) invoice",
    "ROZ": "ROZ – final invoice settling advances",
    "UPR": "UPR – simplified invoice",
    "KOR_ZAL": "KOR_ZAL – correction of an advance invoice",
    "KOR_ROZ": "KOR_ROZ – correction of a final invoice",
}
CORRECTION_TYPES = [
    ("1", "Effective on the date of the corrected invoice"),
    ("2", "Effective on the date of this correction"),
    ("3", "Effective on another date"),
]
#: the kind of a correction of a document of each kind
CORRECTED_KIND = {"ZAL": "KOR_ZAL", "ROZ": "KOR_ROZ", "KOR_ZAL": "KOR_ZAL", "KOR_ROZ": "KOR_ROZ"}
#: simplified invoice (UPR) limits, art. 106e ust. 5 pkt 3 of the VAT act
UPR_LIMITS = {"PLN": 450.0, "EUR": 100.0}


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_pl_ksef_is_sale = fields.Boolean(compute="_compute_l10n_pl_ksef_is_sale")
    l10n_pl_ksef_kind = fields.Selection(
        [(kind, KIND_LABELS[kind]) for kind in KINDS],
        string="KSeF invoice kind",
        compute="_compute_l10n_pl_ksef_kind",
        recursive=True,
        store=True,
        readonly=False,
        copy=False,
        help="The kind of FA(3) invoice (RodzajFaktury), set from what the invoice is: a credit note is a "
        "correction, a down-payment invoice an advance invoice, an invoice deducting down payments a final "
        "invoice. Change it only when Odoo cannot know (e.g. a simplified invoice).",
    )
    l10n_pl_ksef_simplified = fields.Boolean(
        string="Simplified invoice (UPR)",
        copy=False,
        help="Issue this invoice as a simplified invoice (art. 106e ust. 5 pkt 3): allowed up to 450 PLN or "
        "100 EUR gross, the buyer identified by his NIP only.",
    )
    l10n_pl_ksef_self_billing = fields.Boolean(
        string="Self-billing (samofakturowanie)",
        copy=False,
        help="The invoice is issued by the buyer on behalf of the seller (P_17).",
    )
    l10n_pl_ksef_receipt_invoice = fields.Boolean(
        string="Invoice for a receipt (FP)",
        copy=False,
        help="The invoice documents a sale already recorded on a receipt (paragon fiskalny), art. 109 ust. 3d "
        "of the VAT act: its KSeF document is marked FP. Set automatically on the invoice of Point of Sale orders "
        "paid without an invoice and invoiced afterwards, not on one asked for at the checkout; it can be changed "
        "until the invoice goes to KSeF.",
    )
    l10n_pl_ksef_correction_type = fields.Selection(
        CORRECTION_TYPES,
        string="Correction takes effect",
        copy=False,
        help="When the correction affects the tax base (TypKorekty). Leave empty when not needed.",
    )
    l10n_pl_ksef_correction_reason = fields.Char(
        string="Reason for the correction",
        compute="_compute_l10n_pl_ksef_correction_reason",
        store=True,
        readonly=False,
        copy=False,
        help="Printed on the correction invoice (PrzyczynaKorekty). Taken from the reason typed when the credit "
        "note was created.",
    )
    l10n_pl_ksef_corrected_ids = fields.One2many(
        "l10n_pl_ksef.corrected.invoice",
        "move_id",
        string="Corrected invoices",
        copy=False,
        help="The invoices this credit note corrects, when it corrects several, or an invoice that is not in "
        "Odoo. Empty: the invoice it reverses.",
    )
    l10n_pl_ksef_third_party_ids = fields.One2many(
        "l10n_pl_ksef.third.party",
        "move_id",
        string="Third parties (Podmiot3)",
        copy=True,
        help="Other parties named on the invoice: the recipient unit, a payer, a factor, additional buyers, the "
        "subordinate unit of a local government (JST) or the member of a VAT group (GV).",
    )
    l10n_pl_ksef_advance_ids = fields.Many2many(
        "account.move",
        "l10n_pl_ksef_move_advance_rel",
        "move_id",
        "advance_id",
        string="Advance invoices settled",
        compute="_compute_l10n_pl_ksef_advance_ids",
        store=True,
        readonly=False,
        copy=False,
        help="The advance (down-payment) invoices this final invoice settles; their KSeF numbers are printed on it.",
    )
    l10n_pl_ksef_split_payment_possible = fields.Boolean(
        string="Split payment possible",
        compute="_compute_l10n_pl_ksef_split_payment_possible",
        help="The customer has a Polish NIP and the total exceeds 15,000 PLN: only then can the invoice be marked "
        "for split payment (art. 108a ust. 1a ustawy o VAT).",
    )
    l10n_pl_ksef_payment_form = fields.Selection(
        PAYMENT_FORMS,
        string="Payment form",
        compute="_compute_l10n_pl_ksef_payment_form",
        store=True,
        readonly=False,
        help="How the invoice is to be paid (FormaPlatnosci), from the customer's setting.",
    )

    def write(self, vals):
        if "l10n_pl_ksef_receipt_invoice" in vals:
            frozen = self.filtered(
                lambda move: move.l10n_pl_ksef_state in LIVE_STATES
                and move.l10n_pl_ksef_receipt_invoice != bool(vals["l10n_pl_ksef_receipt_invoice"])
            )
            if frozen:
                raise UserError(
                    _(
                        "%(invoices)s: the KSeF document was already made with its FP mark (invoice for a receipt) "
                        "and is in KSeF or on its way, so the mark cannot change any more. A queued invoice can be "
                        "reset to draft (it is withdrawn), changed and confirmed again.",
                        invoices=", ".join(frozen.mapped("name")),
                    )
                )
        return super().write(vals)

    @api.depends("move_type", "company_id.l10n_pl_ksef_active")
    def _compute_l10n_pl_ksef_is_sale(self):
        for move in self:
            move.l10n_pl_ksef_is_sale = move.company_id.l10n_pl_ksef_active and move.move_type in (
                "out_invoice",
                "out_refund",
            )

    @api.depends(
        lambda self: [
            "move_type",
            "l10n_pl_ksef_simplified",
            "reversed_entry_id.l10n_pl_ksef_kind",
            "l10n_pl_ksef_corrected_ids",
            "invoice_line_ids.price_subtotal",
        ]
        + (["debit_origin_id.l10n_pl_ksef_kind"] if "debit_origin_id" in self._fields else [])
    )
    def _compute_l10n_pl_ksef_kind(self):
        for move in self:
            origin = move._l10n_pl_ksef_correction_origin()
            if move.move_type == "out_refund" or (
                move.move_type == "out_invoice" and (origin or move.l10n_pl_ksef_corrected_ids)
            ):
                # a correction (art. 106j): a credit note, or an invoice raising or undoing an earlier document
                # (Odoo's debit note, the reversal of a credit note, corrected invoices named in the KSeF tab)
                move.l10n_pl_ksef_kind = CORRECTED_KIND.get(origin.l10n_pl_ksef_kind, "KOR")
            elif move.move_type == "out_invoice":
                move.l10n_pl_ksef_kind = move._l10n_pl_ksef_invoice_kind()
            else:
                move.l10n_pl_ksef_kind = False

    def _l10n_pl_ksef_correction_origin(self):
        """The Odoo document this customer document corrects: the one it reverses, or the invoice of a debit
        note (Odoo's account_debit_note); an empty recordset otherwise."""
        self.ensure_one()
        origin = self.reversed_entry_id
        if not origin and "debit_origin_id" in self._fields:
            origin = self.debit_origin_id
        return origin

    def _l10n_pl_ksef_invoice_kind(self):
        """VAT, UPR, ZAL (only down-payment lines) or ROZ (down payments deducted) of a customer invoice."""
        self.ensure_one()
        if self.l10n_pl_ksef_simplified:
            return "UPR"
        products = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        down = products.filtered(lambda line: line._get_downpayment_lines())
        if not down:
            return "VAT"
        if down == products:
            return "ZAL"
        return "ROZ"

    @api.depends("ref", "move_type")
    def _compute_l10n_pl_ksef_correction_reason(self):
        for move in self:
            if move.move_type != "out_refund" or move.l10n_pl_ksef_correction_reason:
                continue
            ref = move.ref or ""
            # Odoo's reversal wizard writes "Reversal of: INV/2026/00001, <reason>"
            reason = ref.split(", ", 1)[1] if ref.startswith(("Reversal of:", "Odwrócenie")) and ", " in ref else ref
            move.l10n_pl_ksef_correction_reason = reason.strip() or False

    @api.depends("invoice_line_ids.price_subtotal", "move_type")
    def _compute_l10n_pl_ksef_advance_ids(self):
        for move in self:
            if move.move_type != "out_invoice":
                continue
            down = move.invoice_line_ids.filtered(
                lambda line: line.display_type == "product" and line.price_subtotal < 0
            )
            advances = down._get_downpayment_lines().move_id.filtered(
                lambda other, move=move: other != move and other.move_type == "out_invoice"
            )
            if advances:
                move.l10n_pl_ksef_advance_ids = advances

    @api.depends("partner_id", "partner_bank_id")
    def _compute_l10n_pl_ksef_payment_form(self):
        for move in self:
            if move.move_type not in ("out_invoice", "out_refund"):
                continue
            form = move.partner_id.commercial_partner_id.l10n_pl_ksef_payment_form
            move.l10n_pl_ksef_payment_form = form or ("6" if move.partner_bank_id else move.l10n_pl_ksef_payment_form)

    @api.depends(
        "partner_id",
        "move_type",
        "amount_total_signed",
        "reversed_entry_id",
        "l10n_pl_ksef_corrected_ids.origin_move_id",
    )
    def _compute_l10n_pl_ksef_split_payment_possible(self):
        for move in self:
            move.l10n_pl_ksef_split_payment_possible = move._l10n_pl_ksef_split_payment_possible()

    def _l10n_pl_ksef_split_payment_possible(self):
        """True when the invoice may say "mechanizm podzielonej płatności" (art. 108a ust. 1a, art. 106e ust. 1
        pkt 18a): a sale to a taxpayer (a customer with a Polish NIP) whose total exceeds 15 000 PLN; for a
        credit note, it or the invoice it corrects.  The PLN amount is Odoo's booked one (``amount_total_signed``);
        a company not keeping its books in PLN cannot weigh it, and its user decides."""
        self.ensure_one()
        if self.move_type not in ("out_invoice", "out_refund") or not self.commercial_partner_id:
            return False
        if not self._l10n_pl_ksef_buyer_nip():
            return False
        if self.company_currency_id.name != "PLN":
            return True
        totals = [self.amount_total_signed]
        if self.move_type == "out_refund":
            # the invoice it reverses, or those chosen in the KSeF tab ▸ Corrected invoices
            corrected = self.reversed_entry_id | self.l10n_pl_ksef_corrected_ids.origin_move_id
            totals += corrected.mapped("amount_total_signed")
        return max(abs(total) for total in totals) > SPLIT_PAYMENT_THRESHOLD

    @api.depends(
        "invoice_line_ids.product_id",
        "amount_total_signed",
        "move_type",
        "partner_id",
        "reversed_entry_id",
        "l10n_pl_ksef_corrected_ids.origin_move_id",
    )
    def _compute_l10n_pl_ksef_split_payment(self):
        """Set for Annex 15 products when split payment applies, reset when it cannot (a customer without a
        Polish NIP, a total at or below 15 000 PLN); otherwise a tick by hand stays (e.g. Annex 15 services the
        products do not mark)."""
        for move in self:
            if move.move_type not in ("out_invoice", "out_refund"):
                continue  # a bill keeps what the supplier's invoice says
            if not move._l10n_pl_ksef_split_payment_possible():
                move.l10n_pl_ksef_split_payment = False
            elif any(move.invoice_line_ids.product_id.product_tmpl_id.mapped("l10n_pl_ksef_annex15")):
                move.l10n_pl_ksef_split_payment = True


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    l10n_pl_ksef_sale_date = fields.Date(
        string="Delivery date (KSeF)",
        copy=False,
        help="Date of delivery or service of this line when the lines of the invoice have different dates (P_6A).",
    )
    l10n_pl_ksef_vehicle_first_use = fields.Date(
        string="New vehicle: first use",
        copy=False,
        help="For the intra-EU supply of a new means of transport (P_22): the date it was first admitted to use.",
    )
    l10n_pl_ksef_vehicle_kind = fields.Selection(
        [("land", "Land vehicle"), ("water", "Vessel"), ("air", "Aircraft")],
        string="New vehicle: kind",
        copy=False,
    )
    l10n_pl_ksef_vehicle_usage = fields.Char(
        string="New vehicle: mileage or hours",
        copy=False,
        help="Kilometres driven (land vehicle) or hours of use (vessel, aircraft) at the supply.",
    )
    l10n_pl_ksef_vehicle_number = fields.Char(
        string="New vehicle: VIN or serial number",
        copy=False,
        help="VIN of a land vehicle, hull number of a vessel, serial number of an aircraft.",
    )
    l10n_pl_ksef_vehicle_make = fields.Char(string="New vehicle: make and model", copy=False)
