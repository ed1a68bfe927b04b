"""Pay: the memo of payments of supplier bills quotes their KSeF number (art. 108g of the VAT Act).

The memo Odoo proposes (and the one of every payment the wizard makes without showing it, one per bill
or per supplier) comes from :meth:`account.move._l10n_pl_ksef_payment_title`; one transfer paying several
bills asks :meth:`account.move._l10n_pl_ksef_collective_title`. A payment whose title would break the rule
is refused with the reason before anything is created. One paying several bills with KSeF numbers quotes
the collective identifier KSeF issues for them, asked for when the payment is made (Odoo's wizard makes one
payment per supplier, bank account and currency: each asks for its own); when KSeF does not give it, no
payment is made.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..ksef_core import payment_title


class AccountPaymentRegister(models.TransientModel):
    _inherit = "account.payment.register"

    l10n_pl_ksef_title_note = fields.Char(string="Transfer title (KSeF)", compute="_compute_l10n_pl_ksef_title_note")

    def _l10n_pl_ksef_day(self):
        return self[:1].payment_date or fields.Date.context_today(self)

    @api.model
    def _get_communication(self, lines):
        # EXTENDS 'account': the KSeF number, the MPP message or the exception's text of the bills paid
        label = super()._get_communication(lines)
        moves = lines.move_id
        if not moves or not all(move.move_type == "in_invoice" for move in moves):
            return label
        day = self._l10n_pl_ksef_day()
        if len(moves) > 1:
            title, _problem = moves._l10n_pl_ksef_collective_title(day)
            return title or label  # a problem refuses the payment (_init_payments)
        paid = None
        if len(self) == 1 and self.can_edit_wizard and self.amount and self.currency_id == moves.currency_id:
            paid = self.amount
        return moves._l10n_pl_ksef_payment_title(day, paid) or label

    @api.depends("can_edit_wizard", "amount", "payment_date")
    def _compute_communication(self):
        # EXTENDS 'account': the title depends on the payment date (art. 108g from 2027, the MPP's INV field)
        return super()._compute_communication()

    def _l10n_pl_ksef_groups(self):
        """The bills of each payment the wizard would make, as it would group them."""
        self.ensure_one()
        moves = self.line_ids.move_id
        if self.can_edit_wizard and (len(moves) == 1 or self.group_payment):
            return [moves]
        if self.group_payment:
            return [batch["lines"].move_id for batch in self.batches]
        return list(moves)

    @api.depends("line_ids", "payment_date", "group_payment", "can_edit_wizard", "communication")
    def _compute_l10n_pl_ksef_title_note(self):
        for wizard in self:
            wizard.l10n_pl_ksef_title_note = wizard._l10n_pl_ksef_title_note()

    def _l10n_pl_ksef_title_note(self):
        self.ensure_one()
        day = self.payment_date
        if self.payment_type != "outbound" or not payment_title.title_rule_applies(day):
            return False
        groups = self._l10n_pl_ksef_groups()
        edited = self.can_edit_wizard and len(groups) == 1
        for moves in groups:
            memo = self.communication if edited else moves[:1]._l10n_pl_ksef_payment_title(day) or ""
            problem = moves._l10n_pl_ksef_title_problem(day, memo)
            if problem:
                return problem
        collective = [moves for moves in groups if moves._l10n_pl_ksef_collective_bills(day)]
        for move in self.line_ids.move_id:
            if (
                move.move_type == "in_invoice"
                and move._l10n_pl_ksef_polish_bill()
                and not move.l10n_pl_ksef_number
                and not move.l10n_pl_ksef_no_number_reason
            ):
                return self.env._(
                    "Bill %(bill)s of a Polish supplier has no KSeF number. If the supplier issued it in KSeF, type "
                    "the KSeF number from its invoice on the bill: from 1 January 2027 the transfer must quote it.",
                    bill=move.display_name,
                )
        if collective:
            return self.env._(
                "From %(day)s one transfer paying several invoices issued in KSeF quotes the collective identifier "
                "KSeF issues for their KSeF numbers (art. 108g of the VAT Act): Odoo asks KSeF for it when you "
                "create the payment and puts it in the Memo (bills %(bills)s).",
                day=fields.Date.to_string(payment_title.TITLE_RULE_FROM),
                bills="; ".join(", ".join(moves.mapped(lambda m: m.ref or m.name)) for moves in collective),
            )
        return False

    def _init_payments(self, to_process, edit_mode=False):
        # EXTENDS 'account': no transfer leaves without the title art. 108g wants; one paying several bills
        # with KSeF numbers quotes the collective identifier KSeF issues for them (asked for once every
        # payment is known to be lawful, so a refusal asks KSeF for nothing)
        collective = []
        for values in to_process:
            create_vals = values["create_vals"]
            if create_vals.get("payment_type") != "outbound":
                continue
            day = fields.Date.to_date(create_vals.get("date"))
            moves = values["to_reconcile"].move_id
            problem = moves._l10n_pl_ksef_title_problem(day, create_vals.get("memo"))
            if problem:
                raise UserError(problem)
            bills = moves._l10n_pl_ksef_collective_bills(day)
            if bills:
                collective.append((values, bills))
        for values, bills in collective:
            create_vals = values["create_vals"]
            currency = self.env["res.currency"].browse(create_vals["currency_id"])
            number = bills._l10n_pl_ksef_collective_identifier(values["to_reconcile"], create_vals["amount"], currency)
            create_vals.update(memo=number, l10n_pl_ksef_collective_id=number)
        payments = super()._init_payments(to_process, edit_mode=edit_mode)
        for values, bills in collective:
            bills.l10n_pl_ksef_collective_id = values["create_vals"]["l10n_pl_ksef_collective_id"]
        return payments
