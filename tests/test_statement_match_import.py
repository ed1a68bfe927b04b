"""Being paid without a click: bank transactions quoting a customer invoice's KSeF number (art. 108g of the VAT
Act, from 2027) are matched as they are imported; those quoting a collective identifier by the scheduled action
"KSeF: match bank transactions", which asks KSeF (the bundled simulator) for its invoices."""

import datetime

from odoo import Command, fields
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

from .common import TEST_NIP
from .test_statement_match import ISSUED, PAID, StatementMatchCommon, StatementMatchKsefCommon

CRON = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_match"


class ImportMixin:
    def import_statement(self, *lines):
        """A bank statement imported with its lines ``(label, amount)``, as a CAMT or CSV import creates it."""
        statement = self.env["account.bank.statement"].create(
            {
                "name": "Wyciag 1/2027",
                "journal_id": self.bank_journal.id,
                "line_ids": [
                    Command.create(
                        {"date": PAID, "payment_ref": label, "amount": amount, "journal_id": self.bank_journal.id}
                    )
                    for label, amount in lines
                ],
            }
        )
        return statement.line_ids.sorted("id")

    def triggers(self):
        cron = self.env.ref(CRON)
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def run_cron(self):
        """The scheduled action as Odoo's scheduler runs it ("Run Manually")."""
        self.env.ref(CRON).method_direct_trigger()
        self.env.invalidate_all()


@tagged("post_install", "-at_install")
class TestStatementMatchImport(ImportMixin, StatementMatchCommon):
    def test_imported_line_with_ksef_number_pays_its_invoice(self):
        invoice = self.invoice("11", 1230.0)
        other = self.invoice("12", 400.0)
        triggers = self.triggers()
        line = self.import_statement(
            ("PRZELEW %s FV/11/2027" % self.as_bank_gives(invoice.l10n_pl_ksef_number), 1230.0)
        )
        self.assertTrue(line.is_reconciled, "matched at import, without a click")
        self.assertEqual(line.partner_id, self.customer)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertEqual(other.payment_state, "not_paid")
        self.assertFalse(line.l10n_pl_ksef_match_pending)
        self.assertEqual(self.triggers(), triggers, "nothing left for the scheduled action")

    def test_unknown_number_or_none_leaves_the_line_untouched(self):
        invoice = self.invoice("13", 500.0)
        unknown = make_ksef_number(TEST_NIP, ISSUED, "0100000000FF")  # valid, but no invoice has it
        lines = self.import_statement(("Zaplata %s" % unknown, 500.0), ("Wplata gotowki", 500.0))
        suspense = self.bank_journal.suspense_account_id
        for line in lines:
            self.assertFalse(line.is_reconciled)
            self.assertFalse(line.partner_id)
            self.assertFalse(line.l10n_pl_ksef_match_pending)
            self.assertEqual(
                sorted(line.move_id.line_ids.account_id.ids),
                sorted((suspense | self.bank_journal.default_account_id).ids),
                "still on the bank and suspense accounts, for a person to match",
            )
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_migration_context_skips_the_matching(self):
        """``l10n_pl_ksef_no_match`` in the context: lines created as they are (a data migration)."""
        invoice = self.invoice("14", 300.0)
        line = self.st_line(invoice.l10n_pl_ksef_number, 300.0)
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")


@tagged("post_install", "-at_install")
class TestStatementMatchImportCollective(ImportMixin, StatementMatchKsefCommon):
    def test_collective_identifier_matched_by_the_scheduled_action(self):
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(250.0)
        identifier = self.collective(invoices)
        requests = self.sim.request_count
        line = self.import_statement(("Zaplata zbiorcza %s" % identifier.lower(), 350.0))
        self.assertEqual(self.sim.request_count, requests, "no KSeF call inside the import")
        self.assertFalse(line.is_reconciled)
        self.assertTrue(line.l10n_pl_ksef_match_pending)
        self.assertTrue(self.triggers(), "the scheduled action is woken up")

        self.run_cron()
        self.assertTrue(line.is_reconciled)
        self.assertFalse(line.l10n_pl_ksef_match_pending)
        self.assertEqual(line.partner_id, self.customer)
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid"])

    def test_identifier_resolved_before_is_matched_at_import(self):
        """A second part payment quoting an identifier KSeF resolved already: matched at once, KSeF not asked."""
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(250.0)
        identifier = self.collective(invoices, amounts=False)
        first = self.import_statement((identifier, 200.0))
        self.run_cron()
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "partial"])
        self.ksef_down()
        second = self.import_statement((identifier.replace("-", " "), 150.0))
        self.assertTrue(second.is_reconciled)
        self.assertFalse(second.l10n_pl_ksef_match_pending)
        self.assertTrue(first.is_reconciled)
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid"])

    def test_ksef_down_the_line_waits_and_is_matched_later(self):
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(200.0)
        identifier = self.collective(invoices)
        line = self.import_statement((identifier, 300.0))
        self.ksef_down()
        result = self.env["account.bank.statement.line"]._cron_l10n_pl_ksef_match()
        self.assertEqual(list(result["errors"]), [self.company.id], "the error is returned, not raised")
        self.assertEqual((result["matched"], result["waiting"]), (0, 1))
        self.assertFalse(line.is_reconciled)
        self.assertTrue(line.l10n_pl_ksef_match_pending)
        later = self.triggers().filtered(lambda t: t.call_at > fields.Datetime.now() + datetime.timedelta(minutes=10))
        self.assertTrue(later, "tried again later")

        self.sim.faults.clear()
        self.run_cron()
        self.assertTrue(line.is_reconciled)
        self.assertFalse(line.l10n_pl_ksef_match_pending)
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid"])
