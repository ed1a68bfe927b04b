"""Being paid: a bank statement line quoting the KSeF number of a customer invoice is matched to it.

From 2027 a Polish VAT payer paying a structured invoice quotes its KSeF number in the transfer title (art. 108g
of the VAT Act). Odoo Community has no automatic bank matching (the reconciliation widget and its matching rules
are in Enterprise), so the addon gives it one: the label and notes of a statement line are scanned for KSeF
numbers (:func:`~..ksef_core.ksef_number.find_ksef_numbers`, as banks deliver them: lower case, split, with text
around), the open receivable lines of the customer invoices with those numbers are taken from the same journal
items Odoo proposes for a statement line (``_get_default_amls_matching_domain``), and the line is reconciled with
them as Odoo reconciles a statement line: its suspense line moves to the receivable account and is reconciled
with the invoices' lines.

TODO: collective identifiers quoted in the label are found but not resolved through KSeF yet.
"""

from odoo import api, models
from odoo.tools import html2plaintext

from ..ksef_core.ksef_number import find_ksef_numbers


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    def _l10n_pl_ksef_label_references(self):
        """``(ksef_numbers, collective_identifiers)`` quoted in the label and the notes of this line."""
        self.ensure_one()
        numbers, collectives = [], []
        for text in (self.payment_ref, html2plaintext(self.narration or "")):
            found_numbers, found_collectives = find_ksef_numbers(text)
            numbers += [n for n in found_numbers if n not in numbers]
            collectives += [c for c in found_collectives if c not in collectives]
        return numbers, collectives

    def _l10n_pl_ksef_invoice_matching_amls(self):
        """The open receivable lines of the customer invoices (and credit notes) this line quotes by KSeF
        number, among the journal items Odoo proposes for it; oldest due first."""
        self.ensure_one()
        numbers = self._l10n_pl_ksef_label_references()[0]
        if not numbers:
            return self.env["account.move.line"]
        domain = [
            *self._get_default_amls_matching_domain(),
            ("account_type", "=", "asset_receivable"),
            ("move_id.move_type", "in", self.env["account.move"].get_sale_types(include_receipts=True)),
            ("move_id.l10n_pl_ksef_number", "in", numbers),
        ]
        return self.env["account.move.line"].search(domain, order="date_maturity, id")

    @api.model
    def _l10n_pl_ksef_can_reconcile(self, st_line, amls, suspense):
        """One suspense line, one customer, one receivable account, one currency, the direction of the money:
        what a reconciliation without a person's choice needs."""
        if len(suspense) != 1 or st_line.foreign_currency_id:
            return False
        if len(amls.partner_id.commercial_partner_id) != 1 or len(amls.account_id) != 1:
            return False
        if amls.currency_id != st_line.currency_id:
            return False
        return sum(amls.mapped("amount_residual_currency")) * st_line.amount > 0

    def _l10n_pl_ksef_match(self):
        """Reconcile each line not reconciled yet with the customer invoices it quotes by KSeF number (a part
        payment pays them partly, the oldest due first; more than they owe stays as the customer's credit on
        the receivable account). Lines quoting none, or that cannot be matched without a choice (several
        customers, another currency), are left as they are. Returns the lines matched."""
        matched = self.browse()
        for st_line in self.filtered(lambda line: not line.is_reconciled):
            amls = st_line._l10n_pl_ksef_invoice_matching_amls()
            if not amls:
                continue
            suspense = st_line._seek_for_lines()[1]
            if not self._l10n_pl_ksef_can_reconcile(st_line, amls, suspense):
                continue
            partner = amls.partner_id.commercial_partner_id
            if st_line.partner_id.commercial_partner_id != partner:
                st_line.partner_id = partner
            suspense = st_line._seek_for_lines()[1]
            suspense.with_context(skip_account_move_synchronization=True).write(
                {"account_id": amls.account_id.id, "partner_id": partner.id}
            )
            (suspense + amls).reconcile()
            matched |= st_line
        return matched
