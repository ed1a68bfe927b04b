"""Uploading FA(3) files in Vendor Bills: what the Upload button sends, broken files, one bill per file."""

import psycopg2

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import BankAccount, Payment

from .common import OTHER_NIP, TEST_NIP
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


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefHostileUpload(ReceiveCommon):
    """Files that are no FA(3) invoice, uploaded in Vendor Bills, say why (found by bench/odoo/hostile.py)."""

    def upload_message(self, raw, name="plik.xml"):
        """Upload ``raw`` in Vendor Bills: the text of the chatter of the (empty) bill left."""
        attachment = self.env["ir.attachment"].create({"name": name, "raw": raw, "mimetype": "application/xml"})
        journal = self.journal.with_context(default_move_type="in_invoice", default_journal_id=self.journal.id)
        bill = journal._create_document_from_attachment(attachment.ids)
        self.assertEqual(len(bill), 1)
        self.assertFalse(bill.invoice_line_ids or bill.partner_id or bill.l10n_pl_ksef_invoice_hash)
        return " ".join(bill.message_ids.mapped("body"))

    def test_empty_file_is_explained_not_a_crash(self):
        # account's parser raised "ValueError: can only parse strings" out of the Upload
        messages = self.upload_message(b"")
        self.assertIn("not imported", messages)
        self.assertIn("is empty", messages)
        self.assertIn("jest pusty", messages)

    def test_other_xml_is_explained_in_vendor_bills(self):
        for raw, expected, polish in (
            (b"<note><to>Tove</to></note>", "root element is 'note'", "element główny to 'note'"),
            (b'<Faktura xmlns="urn:example:invoice"><Fa/></Faktura>', "urn:example:invoice", "nie jest fakturą FA(3)"),
            (b"<Faktura><Fa/></Faktura>", "not an FA(3) invoice", "nie jest fakturą FA(3)"),
            (b"  \n  ", "is empty", "jest pusty"),
            (b'{"Faktura": 1}', "not well-formed XML", "nie jest poprawnym XML"),
        ):
            with self.subTest(raw=raw):
                messages = self.upload_message(raw)
                self.assertIn(expected, messages)
                self.assertIn(polish, messages)

    def test_other_xml_in_customer_invoices_is_left_to_odoo(self):
        attachment = self.env["ir.attachment"].create(
            {"name": "plik.xml", "raw": b"<note><to>Tove</to></note>", "mimetype": "application/xml"}
        )
        journal = self.company_data["default_journal_sale"].with_context(default_move_type="out_invoice")
        invoice = journal._create_document_from_attachment(attachment.ids)
        self.assertNotIn("FA(3)", " ".join(invoice.message_ids.mapped("body")))

    def test_xml_attached_to_a_bill_with_lines_gets_no_message(self):
        # an XML sent to a bill later (chatter, mail alias) is no Upload: nothing is said about it
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner_a.id,
                "invoice_date": "2026-11-30",
                "invoice_line_ids": [Command.create({"name": "Papier", "quantity": 1, "price_unit": 10})],
            }
        )
        before = len(bill.message_ids)
        bill.message_post(
            body="Dokumenty",
            attachments=[("uwagi.xml", b"<note><to>Tove</to></note>")],
            message_type="comment",
        )
        bodies = " ".join(bill.message_ids.mapped("body"))
        self.assertEqual(len(bill.message_ids), before + 1)
        self.assertNotIn("FA(3)", bodies)
        self.assertEqual(len(bill.invoice_line_ids), 1)

    def test_invalid_nip_is_refused_on_upload_and_on_receiving(self):
        xml = fa3([line("Biurko", "1", "900", "23")]).replace(
            b"<NIP>%s</NIP>" % OTHER_NIP.encode(), b"<NIP>1234567890</NIP>"
        )
        messages = self.upload_message(xml)
        self.assertIn("seller's NIP is not a valid Polish tax number", messages)
        self.assertIn("NIP sprzedawcy nie jest poprawnym numerem NIP", messages)
        number = self.sim.seed_raw(xml, OTHER_NIP, TEST_NIP)
        self.run_cron()
        self.assertFalse(self.bills(number))
        reason = self.waiting().filtered(lambda f: f.ksef_number == number).reason
        self.assertIn("check digit", reason)
        self.assertIn("cyfra kontrolna", reason)
