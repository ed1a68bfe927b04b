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

from markupsafe import Markup, escape

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

from ..ksef_core.errors import KsefError
from ..ksef_core.ksef_number import find_ksef_numbers

_logger = logging.getLogger(__name__)

#: statement lines matched together: their labels read, their invoices searched and reconciled in one go
MATCH_BATCH = 1000
#: Odoo's field tracking would log, per transaction, its journal items rewritten and, per invoice, the change
#: of its payment status (about 20 queries a line: followers, subtypes, a message each); each invoice gets one
#: note instead, saying which transaction paid it and why, written for all of them at once
QUIET = {"tracking_disable": True, "mail_notrack": True}


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    def _l10n_pl_ksef_label_references(self):
        """``(ksef_numbers, collective_identifiers)`` quoted in the label and the notes of this line."""
        self.ensure_one()
        numbers, collectives = [], []
        texts = [self.payment_ref] + ([html2plaintext(self.narration)] if self.narration else [])
        for text in texts:
            # KSeF 1.0 numbers too (invoices issued before February 2026): only a stored one matches
            found_numbers, found_collectives = find_ksef_numbers(text, legacy=True)
            numbers += [n for n in found_numbers if n not in numbers]
            collectives += [c for c in found_collectives if c not in collectives]
        return numbers, collectives

    def _l10n_pl_ksef_collective_invoices(self, references=None, remote=True, errors=None):
        """``{(company id, identifier): [(ksef_number, amount, currency)] or None}`` for the collective
        identifiers these lines quote: KSeF asked once per company for those it was not asked about yet (with
        ``remote`` False: not asked, only what it answered before). When KSeF cannot answer, that company's
        identifiers are left out (their lines wait for the next try) and ``errors`` (a dict) gets
        ``{company id: what went wrong}``. ``references``: ``{line: _l10n_pl_ksef_label_references()}`` when
        read already."""
        wanted = {}
        for st_line in self:
            identifiers = ((references or {}).get(st_line) or st_line._l10n_pl_ksef_label_references())[1]
            if identifiers and st_line.company_id.l10n_pl_ksef_active:
                wanted.setdefault(st_line.company_id, []).extend(identifiers)
        out = {}
        Cache = self.env["l10n_pl_ksef.collective.cache"]
        for company, identifiers in wanted.items():
            try:
                found = Cache._l10n_pl_ksef_invoices(company, identifiers, remote=remote)
            except (KsefError, UserError) as exc:
                _logger.info("KSeF: collective identifiers of company %s not resolved (%s)", company.id, exc)
                if errors is not None:
                    errors[company.id] = exc.bilingual() if hasattr(exc, "bilingual") else str(exc)
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

    def _l10n_pl_ksef_quoted_numbers(self, collective, references):
        """The KSeF numbers of the invoices this line pays: those it quotes and those of the collective
        identifiers it quotes; None while one of those identifiers is not resolved yet (KSeF not asked or
        not answering; only for a company using KSeF)."""
        self.ensure_one()
        numbers, identifiers = references
        numbers = list(numbers)
        for identifier in identifiers:
            key = (self.company_id.id, identifier)
            if key not in collective:
                if self.company_id.l10n_pl_ksef_active:
                    return None
                continue
            numbers += [item[0] for item in collective[key] or [] if item[0] not in numbers]
        return numbers

    def _l10n_pl_ksef_open_receivables(self, numbers_by_line):
        """``{line: open receivable lines}`` of the customer invoices (and credit notes) with the KSeF numbers
        ``numbers_by_line`` gives each line, among the journal items Odoo proposes for a statement line; oldest
        due first. One search per company for all the lines."""
        AccountMoveLine = self.env["account.move.line"]
        sale_types = self.env["account.move"].get_sale_types(include_receipts=True)
        by_company = {}
        for st_line, numbers in numbers_by_line.items():
            if numbers:
                by_company.setdefault(st_line.company_id, []).append(st_line)
        out = dict.fromkeys(numbers_by_line, AccountMoveLine)
        for st_lines in by_company.values():
            wanted = {number for st_line in st_lines for number in numbers_by_line[st_line]}
            domain = [
                # what Odoo proposes for a statement line of this company (the lines of other statement lines
                # are entries, never among the sale types)
                *st_lines[0]._get_default_amls_matching_domain(),
                ("account_type", "=", "asset_receivable"),
                ("move_id.move_type", "in", sale_types),
                ("move_id.l10n_pl_ksef_number", "in", sorted(wanted)),
            ]
            found = AccountMoveLine.search(domain, order="date_maturity, id")
            position = {aml.id: index for index, aml in enumerate(found)}
            by_number = {}
            for aml in found:
                by_number.setdefault(aml.move_id.l10n_pl_ksef_number, []).append(aml.id)
            for st_line in st_lines:
                ids = {aml_id for number in numbers_by_line[st_line] for aml_id in by_number.get(number, ())}
                out[st_line] = AccountMoveLine.browse(sorted(ids, key=position.__getitem__))
        return out

    def _l10n_pl_ksef_invoice_matching_amls(self, collective=None, references=None):
        """The open receivable lines of the customer invoices (and credit notes) this line quotes by KSeF
        number or through a collective identifier, among the journal items Odoo proposes for it; oldest due
        first. ``collective``: :meth:`_l10n_pl_ksef_collective_invoices` when known already; ``references``:
        :meth:`_l10n_pl_ksef_label_references` when read already."""
        self.ensure_one()
        references = references or self._l10n_pl_ksef_label_references()
        if collective is None:
            collective = self._l10n_pl_ksef_collective_invoices({self: references}) if references[1] else {}
        numbers = self._l10n_pl_ksef_quoted_numbers(collective, references) or []
        return self._l10n_pl_ksef_open_receivables({self: numbers})[self]

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

    def _l10n_pl_ksef_match(self, remote=True):
        """Reconcile each line not reconciled yet with the customer invoices it quotes by KSeF number (a part
        payment pays them partly, the oldest due first; more than they owe stays as the customer's credit on
        the receivable account). Lines quoting none, or that cannot be matched without a choice (several
        customers, another currency, amounts KSeF names for a collective identifier that the line does not pay)
        are left as they are. ``remote`` False: KSeF is not asked about collective identifiers (only what it
        answered before is used). Returns the lines matched."""
        return self._l10n_pl_ksef_match_run(remote=remote)["matched"]

    def _l10n_pl_ksef_match_run(self, remote=True):
        """:meth:`_l10n_pl_ksef_match`, ``MATCH_BATCH`` lines at a time (their labels read once, one search of
        their invoices, one reconciliation). Returns ``{"matched": lines, "waiting": lines quoting a
        collective identifier KSeF did not resolve yet, "errors": {company id: why KSeF did not answer}}``."""
        result = {"matched": self.browse(), "waiting": self.browse(), "errors": {}}
        todo = self.filtered(lambda line: not line.is_reconciled)
        for start in range(0, len(todo), MATCH_BATCH):
            todo[start : start + MATCH_BATCH]._l10n_pl_ksef_match_batch(remote, result)
        return result

    def _l10n_pl_ksef_match_batch(self, remote, result):
        references = {st_line: st_line._l10n_pl_ksef_label_references() for st_line in self}
        quoting = self.filtered(lambda line: references[line][0] or references[line][1])
        collective = quoting._l10n_pl_ksef_collective_invoices(references, remote=remote, errors=result["errors"])
        numbers = {}
        for st_line in quoting:
            found = st_line._l10n_pl_ksef_quoted_numbers(collective, references[st_line])
            if found is None:
                result["waiting"] |= st_line
            elif found and st_line._l10n_pl_ksef_collective_amount_ok(collective, references[st_line]):
                numbers[st_line] = found
        # two lines paying one invoice: the second is matched after the first, with what is left to pay
        while numbers:
            plan, claimed, later = [], set(), {}
            for st_line, amls in self._l10n_pl_ksef_open_receivables(numbers).items():
                if not amls:
                    continue
                if claimed.intersection(amls.ids):
                    later[st_line] = numbers[st_line]
                    continue
                liquidity, suspense, _other = st_line._seek_for_lines()
                if self._l10n_pl_ksef_can_reconcile(st_line, amls, suspense):
                    plan.append((st_line, amls, suspense, liquidity))
                    claimed.update(amls.ids)
            self._l10n_pl_ksef_reconcile(plan)
            result["matched"] |= self.browse([entry[0].id for entry in plan])
            numbers = later

    @api.model
    def _l10n_pl_ksef_reconcile(self, plan):
        """Reconcile each ``(statement line, invoice lines, suspense line, bank line)`` of ``plan`` as Odoo reconciles a
        statement line: the customer on the transaction, its suspense line moved to the invoices' receivable
        account and reconciled with them. Written per customer and per account, reconciled in one go."""
        if not plan:
            return
        # the transactions' own entries (posted, no invoice lines, no taxes: nothing for Odoo's invoice
        # synchronisation to keep in step, ``skip_invoice_sync``)
        no_sync = {
            "skip_account_move_synchronization": True,
            "skip_readonly_check": True,
            "skip_invoice_sync": True,
            **QUIET,
        }
        suspense_by_account, lines_by_partner, st_lines_by_partner = {}, {}, {}
        for st_line, amls, suspense, liquidity in plan:
            partner = amls.partner_id.commercial_partner_id
            suspense_by_account.setdefault(amls.account_id.id, []).append(suspense.id)
            # the customer on the line that becomes receivable and, when the transaction names nobody or someone
            # else, on the transaction and its bank line (a contact of the customer on the transaction stays);
            # other lines of the entry (written by a person) are left as they are
            lines = suspense.filtered(lambda aml, p=partner: aml.partner_id != p)
            if st_line.partner_id.commercial_partner_id != partner:
                st_lines_by_partner.setdefault(partner.id, []).append(st_line.id)
                lines |= liquidity.filtered(lambda aml, p=partner: aml.partner_id != p)
            lines_by_partner.setdefault(partner.id, []).extend(lines.ids)
        AccountMoveLine = self.env["account.move.line"].with_context(**no_sync)
        # the suspense lines to the invoices' receivable account: one write per account (its checks and analytic
        # synchronisation run once for the batch), then the customer on the transactions' lines: one per customer
        for account_id, ids in suspense_by_account.items():
            AccountMoveLine.browse(ids).write({"account_id": account_id})
        for partner_id, ids in lines_by_partner.items():
            if ids:
                AccountMoveLine.browse(ids).write({"partner_id": partner_id})
        for partner_id, ids in st_lines_by_partner.items():
            st_lines = self.browse(ids).with_context(**no_sync)
            st_lines.write({"partner_id": partner_id})
            st_lines.move_id.filtered(lambda move, p=partner_id: move.partner_id.id != p).write(
                {"partner_id": partner_id}
            )
        # a reconciliation changes no invoice line (only what is left to pay): the invoices' tax, payment term and
        # early-discount lines need no synchronisation (Odoo's own ``skip_invoice_sync``; measured: a sixth of the
        # time of matching)
        self.env["account.move.line"].with_context(skip_invoice_sync=True, **QUIET)._reconcile_plan(
            [suspense + amls for _st_line, amls, suspense, _liquidity in plan]
        )
        bodies = {}
        for st_line, amls, _suspense, _liquidity in plan:
            for invoice in amls.move_id:
                note = escape(
                    _(
                        "Paid by the bank transaction %(transaction)s of %(date)s: its title quotes this invoice's "
                        "KSeF number %(number)s (itself or through a collective identifier).",
                        transaction=st_line.move_id.name,
                        date=st_line.date,
                        number=invoice.l10n_pl_ksef_number or "",
                    )
                )
                bodies[invoice.id] = bodies[invoice.id] + Markup("<br/>") + note if invoice.id in bodies else note
        if bodies:
            self.env["account.move"].browse(list(bodies))._message_log_batch(bodies)

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
