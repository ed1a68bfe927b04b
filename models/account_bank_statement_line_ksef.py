"""Being paid: a bank statement line quoting the KSeF number of a customer invoice is matched to it.

From 2027 a Polish VAT payer paying a structured invoice quotes its KSeF number in the transfer title (art. 108g
of the VAT Act). Odoo Community has no automatic bank matching (the reconciliation widget and its matching rules
are in Enterprise), so the addon gives it one: the label and notes of a statement line are scanned for KSeF
numbers (:func:`~..ksef_core.ksef_number.find_ksef_numbers`, as banks deliver them: lower case, split, with text
around), the open receivable lines of the customer invoices with those numbers are taken from the same journal
items Odoo proposes for a statement line (``_get_default_amls_matching_domain``), and the line is reconciled with
them as Odoo reconciles a statement line: its suspense line moves to the receivable account and is reconciled
with the invoices' lines.

A collective identifier quoted instead (one transfer paying several invoices) names its invoices through KSeF
(``l10n_pl_ksef.collective.cache``: asked once per identifier); when KSeF names their amounts, the line pays
exactly their sum or is left for a person to match.
"""

import logging
from decimal import Decimal

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from ..ksef_core.errors import KsefError
from ..ksef_core.ksef_number import find_ksef_numbers

_logger = logging.getLogger(__name__)


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

    def _l10n_pl_ksef_collective_invoices(self, references=None):
        """``{(company id, identifier): [(ksef_number, amount, currency)] or None}`` for the collective
        identifiers these lines quote: KSeF asked once per company for those it was not asked about yet. When
        KSeF cannot answer, that company's identifiers are left out (their lines wait for the next try).
        ``references``: ``{line: _l10n_pl_ksef_label_references()}`` when read already."""
        wanted = {}
        for st_line in self:
            identifiers = ((references or {}).get(st_line) or st_line._l10n_pl_ksef_label_references())[1]
            if identifiers and st_line.company_id.l10n_pl_ksef_active:
                wanted.setdefault(st_line.company_id, []).extend(identifiers)
        out = {}
        Cache = self.env["l10n_pl_ksef.collective.cache"]
        for company, identifiers in wanted.items():
            try:
                found = Cache._l10n_pl_ksef_invoices(company, identifiers)
            except (KsefError, UserError) as exc:
                _logger.info("KSeF: collective identifiers of company %s not resolved (%s)", company.id, exc)
                continue
            out.update(((company.id, identifier), items) for identifier, items in found.items())
        return out

    def _l10n_pl_ksef_collective_amount_ok(self, collective, references=None):
        """False when a collective identifier this line quotes names amounts (in the line's currency) whose sum
        is not what the line pays."""
        self.ensure_one()
        identifiers = (references or self._l10n_pl_ksef_label_references())[1]
        items = [item for i in identifiers for item in collective.get((self.company_id.id, i)) or []]
        if not items or any(amount is None for _number, amount, _currency in items):
            return True
        if any(currency != self.currency_id.name for _number, _amount, currency in items):
            return False
        total = sum((Decimal(amount) for _number, amount, _currency in items), Decimal(0))
        return self.currency_id.compare_amounts(float(total), abs(self.amount)) == 0

    def _l10n_pl_ksef_invoice_matching_amls(self, collective=None, references=None):
        """The open receivable lines of the customer invoices (and credit notes) this line quotes by KSeF
        number or through a collective identifier, among the journal items Odoo proposes for it; oldest due
        first. ``collective``: :meth:`_l10n_pl_ksef_collective_invoices` when known already; ``references``:
        :meth:`_l10n_pl_ksef_label_references` when read already."""
        self.ensure_one()
        numbers, identifiers = references or self._l10n_pl_ksef_label_references()
        numbers = list(numbers)
        if identifiers:
            collective = self._l10n_pl_ksef_collective_invoices() if collective is None else collective
            for identifier in identifiers:
                numbers += [item[0] for item in collective.get((self.company_id.id, identifier)) or []]
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
        customers, another currency, amounts KSeF names for a collective identifier that the line does not pay)
        are left as they are. Returns the lines matched."""
        matched = self.browse()
        todo = self.filtered(lambda line: not line.is_reconciled)
        # each label is read once for the whole run
        references = {st_line: st_line._l10n_pl_ksef_label_references() for st_line in todo}
        collective = todo._l10n_pl_ksef_collective_invoices(references)
        for st_line in todo:
            amls = st_line._l10n_pl_ksef_invoice_matching_amls(collective, references[st_line])
            if not amls or not st_line._l10n_pl_ksef_collective_amount_ok(collective, references[st_line]):
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

    def action_l10n_pl_ksef_match(self):
        """ "Match by KSeF number" (action menu of the bank transactions): :meth:`_l10n_pl_ksef_match`, and how
        many lines it matched."""
        todo = self.filtered(lambda line: not line.is_reconciled)
        matched = todo._l10n_pl_ksef_match()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if matched else "warning",
                "message": _(
                    "%(matched)s of %(total)s unreconciled transactions matched to customer invoices by the KSeF "
                    "number or collective identifier in their label. Match the others by hand.",
                    matched=len(matched),
                    total=len(todo),
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
