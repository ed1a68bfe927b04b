"""Many received invoices into draft vendor bills at once: one ``create``, one INSERT of their items.

A batch is read with a handful of queries (which invoices are already bills, which were typed in
by hand, the suppliers, their products), its bills are created together with all their journal
items, their FA(3) files attached in one go. When the batch cannot be saved as a whole (one bill
breaks a constraint, a concurrent upload took an invoice), it is rolled back and its invoices are
saved one by one, each in its own savepoint: a bad invoice never takes the others down and no bill
is ever half made.
"""

import logging

from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import _, api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import clean_context

from ..ksef_core import nip as ksef_nip
from ..ksef_core.errors import KsefError
from ..ksef_core.fa3 import parse_fa3
from ..ksef_core.fa3.bill import bill_from_invoice
from ..ksef_core.hashing import sha256_b64
from .account_move_ksef_import import PURCHASE_TYPES
from .account_move_ksef_import_build import BillCache
from .res_company_ksef_receive import _where

_logger = logging.getLogger(__name__)

#: the errors of one invoice that are explained to the user (anything else: "see the server log")
EXPLAINED_ERRORS = (KsefError, UserError, ValidationError)


class _Item:
    """One received invoice on its way to a bill."""

    __slots__ = ("draft", "hash", "invoice", "notes", "number", "partner", "values", "xml")

    def __init__(self, number, xml):
        self.number = number
        self.xml = xml
        self.hash = sha256_b64(xml)
        self.invoice = self.draft = self.partner = self.values = None
        self.notes = []


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model
    def _l10n_pl_ksef_import_batch(self, company, items, cache=None, isolate=True):
        """Make the draft bills of received invoices ``items`` = ``[(ksef_number, xml bytes)]``.

        Returns ``{ksef_number: (bill, status)}`` with status ``"created"``, ``"linked"`` (a bill
        uploaded from the same file, or typed in by hand from the supplier's PDF, gets the KSeF
        number and the file) or ``"duplicate"`` (already imported), or ``{ksef_number: exception}``
        for an invoice that could not be imported. With ``isolate`` each bill that fails to save
        is rolled back alone (savepoints); without it the first error is raised.
        """
        cache = cache or BillCache(self.env, company)
        outcome = {}
        pending = []
        for number, xml in items:
            if number in outcome or any(item.number == number for item in pending):
                continue
            pending.append(_Item(number, xml))
        pending = self._l10n_pl_ksef_skip_imported(company, pending, outcome)
        for item in pending:
            try:
                item.invoice = parse_fa3(item.xml)
            except KsefError as exc:
                if not isolate:
                    raise
                outcome[item.number] = exc
        pending = [item for item in pending if item.invoice is not None]
        self._l10n_pl_ksef_find_suppliers(cache, pending)
        pending = self._l10n_pl_ksef_link_typed_batch(company, pending, outcome)
        if not pending:
            return outcome
        cache.prefetch_products(self._l10n_pl_ksef_by_partner(cache, pending))
        if not isolate:
            self._l10n_pl_ksef_create_batch(cache, pending, outcome, isolate=False)
            return outcome
        try:
            with self.env.cr.savepoint():
                self._l10n_pl_ksef_create_batch(cache, pending, outcome, isolate=False)
        except Exception as exc:
            # where, not what: a database error's text quotes the invoice's data
            _logger.info(
                "KSeF: a batch of %d bills could not be saved at once (%s); one by one", len(pending), _where(exc)
            )
            cache.forget_created()
            for item in pending:
                outcome.pop(item.number, None)
                self._l10n_pl_ksef_create_alone(cache, company, item, outcome)
        return outcome

    # ------------------------------------------------------------------ steps

    @api.model
    def _l10n_pl_ksef_skip_imported(self, company, pending, outcome):
        """The items not yet a bill of ``company`` (by KSeF number or by file); the others are
        ``duplicate`` or, a bill uploaded from the same file, ``linked`` to their KSeF number."""
        if not pending:
            return pending
        found = self.with_context(active_test=False).search(
            [
                ("company_id", "=", company.id),
                ("move_type", "in", PURCHASE_TYPES),
                "|",
                ("l10n_pl_ksef_number", "in", [item.number for item in pending]),
                ("l10n_pl_ksef_invoice_hash", "in", [item.hash for item in pending]),
            ],
            order="id",
        )
        by_number = {bill.l10n_pl_ksef_number: bill for bill in found if bill.l10n_pl_ksef_number}
        by_hash = {}
        for bill in found:
            by_hash.setdefault(bill.l10n_pl_ksef_invoice_hash, bill)
        if "l10n_pl_edi_number" in self._fields:  # Odoo's own KSeF import may have made the bill
            for bill in self.with_context(active_test=False).search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "in", PURCHASE_TYPES),
                    ("l10n_pl_edi_number", "in", [item.number for item in pending]),
                ]
            ):
                by_number.setdefault(bill.l10n_pl_edi_number, bill)
        rest = []
        for item in pending:
            bill = by_number.get(item.number) or by_hash.get(item.hash)
            if not bill:
                rest.append(item)
            elif bill.l10n_pl_ksef_number or by_number.get(item.number):
                outcome[item.number] = (bill, "duplicate")
            else:
                bill.l10n_pl_ksef_number = item.number
                bill._message_log(
                    body=_("Matched with the invoice received from KSeF (number %(number)s).", number=item.number)
                )
                outcome[item.number] = (bill, "linked")
        return rest

    @api.model
    def _l10n_pl_ksef_find_suppliers(self, cache, pending):
        """Give each item its supplier (found by NIP once per run, created when unknown)."""
        for item in pending:
            nip = ksef_nip.normalize_nip(item.invoice.seller.nip) if item.invoice.seller.nip else None
            if nip and nip in cache.partners:
                item.partner, item.notes = cache.partners[nip]
                item.notes = list(item.notes)
                continue
            partner, notes = self._l10n_pl_ksef_partner(item.invoice.seller, cache.company)
            if nip:
                cache.partners[nip] = (partner, notes)
            item.partner, item.notes = partner, list(notes)

    @api.model
    def _l10n_pl_ksef_link_typed_batch(self, company, pending, outcome):
        """Items whose bill was typed in by hand (same supplier, number and date) get linked to it."""
        partners = {item.partner.id for item in pending if item.partner}
        refs = {(item.invoice.number or "").strip().lower() for item in pending if item.invoice.number}
        if not partners or not refs:
            return pending
        self.flush_model(["ref", "commercial_partner_id", "l10n_pl_ksef_number", "state", "move_type"])
        self.env.cr.execute(
            """
            SELECT id FROM account_move
             WHERE company_id = %s AND move_type IN %s AND l10n_pl_ksef_number IS NULL
               AND state IN ('draft', 'posted') AND commercial_partner_id = ANY(%s) AND lower(ref) = ANY(%s)
             ORDER BY id
            """,
            (company.id, PURCHASE_TYPES, list(partners), list(refs)),
        )
        typed = self.browse([row[0] for row in self.env.cr.fetchall()])
        if not typed:
            return pending
        rest = []
        taken = set()
        for item in pending:
            matches = typed.filtered(
                lambda bill, item=item: bill.id not in taken
                and bill.commercial_partner_id == item.partner
                and (bill.ref or "").strip().lower() == (item.invoice.number or "").strip().lower()
                and bill.invoice_date == item.invoice.issue_date
            ).sorted(lambda bill: (bill.state != "posted", bill.id))
            if not matches:
                rest.append(item)
                continue
            bill = matches[0]
            taken.add(bill.id)
            attachment_values = {"name": "%s.xml" % item.number, "raw": item.xml, "mimetype": "application/xml"}
            bill._l10n_pl_ksef_link_typed(item.invoice, item.hash, item.number, attachment_values)
            outcome[item.number] = (bill, "linked")
        return rest

    @api.model
    def _l10n_pl_ksef_by_partner(self, cache, pending):
        grouped = {}
        for item in pending:
            item.draft = bill_from_invoice(item.invoice, price_digits=cache.digits)
            grouped.setdefault(item.partner, []).append(item.draft)
        return grouped

    @api.model
    def _l10n_pl_ksef_create_alone(self, cache, company, item, outcome):
        """Save one bill in its own savepoint; its failure is its outcome."""
        try:
            with self.env.cr.savepoint():
                self._l10n_pl_ksef_create_batch(cache, [item], outcome, isolate=False)
        except EXPLAINED_ERRORS as exc:
            outcome[item.number] = exc
        except IntegrityError as exc:
            # a concurrent upload or run saved it first: the unique indexes refuse the second bill
            existing = self._l10n_pl_ksef_find_imported(company, item.number, item.hash)
            if existing:
                outcome[item.number] = (existing, "duplicate")
            else:  # not visible yet to this transaction: the next run sees it and links or skips it
                _logger.info(
                    "KSeF: invoice %s was saved by another transaction meanwhile (%s)", item.number, _where(exc)
                )
                outcome[item.number] = UserError(
                    _(
                        "This invoice was saved as a bill at the same moment by an upload or another import; "
                        "the next import matches it with that bill."
                    )
                )
        except Exception as exc:
            outcome[item.number] = exc

    @api.model
    def _l10n_pl_ksef_create_batch(self, cache, pending, outcome, isolate=False):
        """Create the bills of ``pending``, corrections last: they link to the bills they correct."""
        plain = [item for item in pending if not item.draft.correction]
        corrections = [item for item in pending if item.draft.correction]
        bills = self.browse()
        for part in (plain, corrections):
            if part:
                bills |= self._l10n_pl_ksef_create_bills(cache, part, outcome)
        return bills

    @api.model
    def _l10n_pl_ksef_batch_env(self, company):
        """``account.move`` as the import saves bills: with their journal items given, consistent."""
        return self.with_company(company).with_context(
            clean_context(self.env.context),
            skip_invoice_sync=True,
            # a new draft's analytic distribution needs no merging with an old one, nor analytic items
            skip_analytic_sync=True,
            # each line's balance and amount in the bill's currency are given, consistent
            skip_invoice_line_sync=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )

    @api.model
    def _l10n_pl_ksef_create_bills(self, cache, pending, outcome):
        """Create the bills of ``pending`` (one ``create``, their items in one INSERT), attach their
        files, log their notes."""
        company = cache.company
        journal = company.l10n_pl_ksef_receive_journal_id
        vals_list = []
        for item in pending:
            values, draft, notes = self._l10n_pl_ksef_bill_values(
                cache, item.invoice, item.partner, journal, draft=item.draft
            )
            extra, extra_notes = self._l10n_pl_ksef_extra_values(
                cache, item.invoice, draft, item.partner, values["move_type"]
            )
            values.update(extra)
            values.update(
                journal_id=journal.id,
                company_id=company.id,
                l10n_pl_ksef_number=item.number,
                l10n_pl_ksef_invoice_hash=item.hash,
            )
            vals_list.append(values)
            item.notes = item.notes + notes + extra_notes
        Move = self._l10n_pl_ksef_batch_env(company)
        Line = Move.env["account.move.line"]
        if Line._l10n_pl_ksef_insert_safe():
            # the bills, then all their journal items in one INSERT (see account_move_line_ksef_insert)
            lines_per_bill = [[command[2] for command in values.pop("line_ids")] for values in vals_list]
            bills = Move.create(vals_list)
            Line._l10n_pl_ksef_insert(bills, vals_list, lines_per_bill)
        else:  # another module extends the creation of journal items: its code runs
            bills = Move.create(vals_list)
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": "%s.xml" % item.number,
                    "raw": item.xml,
                    "mimetype": "application/xml",
                    "res_model": self._name,
                    "res_id": bill.id,
                }
                for item, bill in zip(pending, bills, strict=True)
            ]
        )
        del attachments  # on their bills (res_id): in the chatter's files and the preview
        bodies = {}
        for item, bill in zip(pending, bills, strict=True):
            bodies[bill.id] = Markup("<br/>").join(
                [_("Imported from KSeF (number %(number)s).", number=item.number), *item.notes]
            )
            outcome[item.number] = (bill, "created")
        bills._message_log_batch(bodies=bodies)
        return bills
