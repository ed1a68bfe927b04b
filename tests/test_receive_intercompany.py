"""Two companies of one database: A sends its invoice to KSeF, B's import makes the bill of it."""

import datetime

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState

from .common import OTHER_NIP, TEST_NIP
from .send_common import L10nPlKsefSendCommon

PURCHASE_TYPES = ("in_invoice", "in_refund")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefIntercompany(L10nPlKsefSendCommon):
    """A (TEST_NIP) sells to B (OTHER_NIP, the NIP of A's customer ``buyer_pl``); both use this addon."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = cls.company
        data = cls.setup_other_company(name="Odbiorca Hurtowy S.A.")
        cls.buyer = data["company"]
        cls.buyer.write(
            {
                "country_id": cls.env.ref("base.pl").id,
                "account_fiscal_country_id": cls.env.ref("base.pl").id,
                "vat": "PL%s" % OTHER_NIP,
                "l10n_pl_ksef_active": True,
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": data["default_journal_purchase"].id,
            }
        )
        cls.buyer_taxes = {code: cls.purchase_tax(cls.buyer, code) for code in ("23", "8")}
        # A receives too: its own sale must not come back to it as a bill
        cls.seller.write(
            {
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": cls.company_data["default_journal_purchase"].id,
            }
        )
        cls.env.user.company_ids |= cls.buyer

    def setUp(self):
        super().setUp()  # A's KSeF token (InvoiceWrite, InvoiceRead)
        token = self.sim.mint_token(OTHER_NIP, ("InvoiceRead",))
        self.setup_wizard(company=self.buyer, auth_method="token", token=token).action_save_credentials()
        self.since = self.sim.clock.now() - datetime.timedelta(minutes=1)
        self.read_from(self.since)

    def read_from(self, moment):
        """The next import of both companies reads KSeF from ``moment``, and both are due."""
        for company in (self.seller, self.buyer):
            state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
            state.write({"sync_state": SyncState("Subject2", moment.isoformat()).to_dict(), "next_attempt": False})

    def purchases(self, company, number):
        return (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "in", PURCHASE_TYPES),
                    ("l10n_pl_ksef_number", "=", number),
                ]
            )
        )

    def test_a_sends_b_imports_with_the_same_ksef_number(self):
        sale = self.make(
            [
                self.line(quantity=3, price=1234.56),
                self.line(product=self.product_b, quantity=1, price=99.99, tax="8"),
            ],
            name="FV/IC/%06d" % next(self.numbers),
        )
        sale.action_l10n_pl_ksef_send()
        self.assertEqual(sale.l10n_pl_ksef_state, "accepted", sale.l10n_pl_ksef_document_id.reason)
        number = sale.l10n_pl_ksef_number
        self.assertTrue(number.startswith(TEST_NIP + "-"), "A's number: its NIP first")

        results = self.env["res.company"]._cron_l10n_pl_ksef_receive()
        self.assertFalse(results[self.buyer.id]["error"], results[self.buyer.id]["text"])
        self.assertFalse(results[self.buyer.id]["failed"], results[self.buyer.id]["text"])
        bill = self.purchases(self.buyer, number)
        self.assertEqual(len(bill), 1, "B has the bill of A's invoice")
        self.assertEqual(results[self.buyer.id]["created"], bill.ids)
        self.assertEqual((bill.move_type, bill.state), ("in_invoice", "draft"))
        self.assertEqual(bill.l10n_pl_ksef_number, sale.l10n_pl_ksef_number, "the same KSeF number on both sides")
        self.assertEqual((bill.ref, bill.invoice_date), (sale.name, sale.invoice_date))
        self.assertEqual(bill.partner_id.vat, "PL%s" % TEST_NIP, "the supplier is A")
        self.assertEqual(bill.currency_id, sale.currency_id)
        # the bill's amounts are A's invoice's: 3 x 1234.56 at 23 %, 99.99 at 8 %
        self.assertEqual(
            (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
            (sale.amount_untaxed, sale.amount_tax, sale.amount_total),
        )
        self.assertEqual(sale.amount_total, 4663.52)  # 3703.68 + 851.85 + 99.99 + 8.00
        for code in ("23", "8"):
            sale_vat = sum(
                sale.line_ids.filtered(lambda line, c=code: line.tax_line_id == self.taxes[c]).mapped("balance")
            )
            bill_vat = sum(
                bill.line_ids.filtered(lambda line, c=code: line.tax_line_id == self.buyer_taxes[c]).mapped("balance")
            )
            self.assertAlmostEqual(bill_vat, -sale_vat, places=2, msg="VAT at %s %%" % code)
            self.assertTrue(bill_vat)

        # A's sale is not A's purchase: A imported nothing, and A's number stays on its invoice only
        self.assertFalse(results[self.seller.id]["created"] or results[self.seller.id]["linked"])
        self.assertFalse(self.purchases(self.seller, number))
        self.assertEqual(self.env["account.move"].sudo().search([("l10n_pl_ksef_number", "=", number)]), sale | bill)

        # a second run reading the same time again imports nothing twice
        self.read_from(self.since)
        again = self.env["res.company"]._cron_l10n_pl_ksef_receive()
        self.assertEqual(again[self.buyer.id]["created"], [])
        self.assertEqual(again[self.buyer.id]["duplicates"], 1, again[self.buyer.id]["text"])
        self.assertEqual(self.purchases(self.buyer, number), bill)
        self.assertFalse(self.purchases(self.seller, number))

    def test_a_uploading_its_own_invoice_gets_no_bill(self):
        sale = self.invoice()
        sale.action_l10n_pl_ksef_send()
        attachment = self.env["ir.attachment"].create(
            {"name": "%s.xml" % sale.l10n_pl_ksef_number, "raw": sale.l10n_pl_ksef_document_id.xml.encode()}
        )
        journal = self.company_data["default_journal_purchase"]
        upload = journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(attachment.ids)
        self.assertFalse(upload.invoice_line_ids)
        self.assertIn("issued by your own company", " ".join(upload.message_ids.mapped("body")))
        self.assertFalse(self.purchases(self.seller, sale.l10n_pl_ksef_number))
