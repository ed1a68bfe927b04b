"""Uploading FA(3) files in Vendor Bills: what the Upload button sends, broken files, one bill per file."""

import psycopg2

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import BankAccount, Payment

from .test_receive import ReceiveCommon, fa3, line


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefUpload(ReceiveCommon):
    def upload(self, xml, name="faktura.xml"):
        """As the Upload button of a purchase journal does (its context included)."""
        attachment = self.env["ir.attachment"].create({"name": name, "raw": xml, "mimetype": "application/xml"})
        journal = self.journal.with_context(default_move_type="in_invoice", default_journal_id=self.journal.id)
        return journal._create_document_from_attachment(attachment.ids)

    def test_upload_of_an_invoice_naming_a_new_supplier_bank_account(self):
        xml = fa3(
            [line("Biurko", "1", "900", "23")],
            payment=Payment(form=6, accounts=[BankAccount("61 1090 1014 0000 0712 1981 2874")]),
        )
        Bank = self.env["res.partner.bank"].with_context(active_test=False)
        self.assertFalse(Bank.search([("sanitized_acc_number", "=", "61109010140000071219812874")]))
        bill = self.upload(xml)
        self.assertEqual(len(bill.invoice_line_ids), 1)
        self.assertEqual(bill.partner_bank_id.acc_number.replace(" ", ""), "61109010140000071219812874")
        self.assertFalse(bill.partner_bank_id.journal_id, "the Upload's journal is not the supplier account's")

    def test_broken_fa3_file_gets_a_clear_message_and_nothing_else(self):
        xml = fa3([line("Krzesło", "2", "300", "23")])
        broken = xml[: len(xml) // 2]  # cut in the middle: not well formed
        bill = self.upload(broken, name="ucieta.xml")
        self.assertFalse(bill.invoice_line_ids)
        messages = " ".join(bill.message_ids.mapped("body"))
        self.assertIn("FA(3)", messages, "our message, not Odoo's generic one")
        self.assertRegex(messages, "(?i)not well.formed|uszkodzon|niepoprawn|nie jest poprawnym")

    def test_the_same_file_never_becomes_two_bills(self):
        xml = fa3([line("Lampa", "1", "150", "23")])
        first = self.upload(xml)
        self.assertTrue(first.l10n_pl_ksef_invoice_hash)
        second = self.upload(xml)
        self.assertFalse(second.invoice_line_ids, "the second upload is refused, the first bill stays")
        # even a writer that skips every check (a concurrent import) is stopped by the database
        with self.assertRaises(psycopg2.IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.env["account.move"].create(
                {
                    "move_type": "in_invoice",
                    "journal_id": self.journal.id,
                    "l10n_pl_ksef_invoice_hash": first.l10n_pl_ksef_invoice_hash,
                }
            )
            self.env.flush_all()
