"""Point of Sale invoices: sent as the company's KSeF setting says, FP for an invoice issued for a receipt.

These tests need ``point_of_sale`` in the database (the addon does not depend on it): they are skipped
where it is not installed. Run them with ``/work/tools/odoo_test.sh ADDONS '/l10n_pl_ksef:TestL10nPlKsefPos'
point_of_sale``.
"""

import itertools
import unittest
import uuid

from lxml import etree

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.modules.registry import Registry
from odoo.tests import tagged
from odoo.tests.common import get_db_name

from .fa3_common import NS
from .send_common import L10nPlKsefSendCommon

#: a journal code of its own for each test: the simulator refuses an invoice number twice (440), and the
#: journal's sequence starts again in each test's transaction
JOURNAL_CODES = ("PS%d" % n for n in itertools.count(1))


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefPos(L10nPlKsefSendCommon):
    @classmethod
    def setUpClass(cls):
        if "pos.order" not in Registry(get_db_name()):
            raise unittest.SkipTest("point_of_sale is not installed in this database: the Point of Sale tests need it")
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("point_of_sale.group_pos_manager")
        if not cls.company.account_default_pos_receivable_account_id:
            cls.company.account_default_pos_receivable_account_id = cls.env["account.account"].create(
                {"code": "X1012.POS", "name": "Debtors - (POS)", "reconcile": True, "account_type": "asset_receivable"}
            )
        cls.coffee = cls.env["product.product"].create(
            {
                "name": "Kawa ziarnista 1 kg",
                "type": "consu",
                "available_in_pos": True,
                "lst_price": 100.0,
                "taxes_id": [Command.set(cls.taxes["23"].ids)],
            }
        )
        cls.cash = cls.env["pos.payment.method"].create(
            {"name": "Gotówka", "journal_id": cls.company_data["default_journal_cash"].id}
        )
        cls.config = cls.env["pos.config"].create({"name": "Kasa 1", "payment_method_ids": [Command.set(cls.cash.ids)]})

    def setUp(self):
        super().setUp()
        code = next(JOURNAL_CODES)
        self.config.invoice_journal_id = self.env["account.journal"].create(
            {"name": "Faktury POS", "type": "sale", "code": code}
        )
        self.config.open_ui()
        self.session = self.config.current_session_id
        self.session.set_opening_control(0, None)

    # ------------------------------------------------------------------ helpers

    def pay(self, to_invoice, **context):
        """One coffee (100 net + 23% VAT) paid in cash at the checkout, by the customer with a NIP; with
        ``to_invoice`` the cashier ticked Invoice before the payment (as the POS sends it)."""
        order_uuid = str(uuid.uuid4())
        data = {
            "uuid": order_uuid,
            "name": "Order %s" % order_uuid,
            "session_id": self.session.id,
            "user_id": self.env.uid,
            "partner_id": self.buyer_pl.id,
            "pricelist_id": self.config.pricelist_id.id,
            "fiscal_position_id": False,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "last_order_preparation_change": "{}",
            "lines": [
                Command.create(
                    {
                        "product_id": self.coffee.id,
                        "qty": 1,
                        "price_unit": 100.0,
                        "discount": 0.0,
                        "price_subtotal": 100.0,
                        "price_subtotal_incl": 123.0,
                        "tax_ids": [Command.set(self.taxes["23"].ids)],
                    }
                )
            ],
            "payment_ids": [
                Command.create({"amount": 123.0, "name": fields.Datetime.now(), "payment_method_id": self.cash.id})
            ],
            "amount_paid": 123.0,
            "amount_return": 0.0,
            "amount_tax": 23.0,
            "amount_total": 123.0,
            "to_invoice": to_invoice,
        }
        result = self.env["pos.order"].with_context(**context).sync_from_ui([data])
        order = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        self.assertIn(order.state, ("paid", "done"))
        return order

    def sent_fa3(self, move):
        """The FA(3) frozen in the invoice's KSeF document (the bytes that go to KSeF)."""
        document = move.l10n_pl_ksef_document_id
        self.assertTrue(document, "the invoice has a KSeF document")
        return etree.fromstring(document.xml.encode("utf-8"))

    # ------------------------------------------------------------------ tests

    def test_invoice_for_a_paid_order_is_fp_and_goes_to_ksef_in_automatic_mode(self):
        """An invoice issued for a sale already on a receipt carries FP = 1 (art. 109 ust. 3d of the VAT act).

        Rule (models/account_move_ksef_pos.py): the order was paid at the checkout without an invoice (the
        receipt was given); the invoice is made afterwards with the order's Invoice button. Point of Sale
        posts it itself (sudo): the company sends automatically, so posting queues it and the cron sends it,
        as any other invoice; the POS itself never waits on KSeF."""
        self.company.l10n_pl_ksef_send_mode = "auto"
        order = self.pay(to_invoice=False)
        self.assertFalse(order.account_move, "paid at the checkout without an invoice: the receipt only")
        before = self.sim.request_count
        order.action_pos_order_invoice()
        invoice = order.account_move
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.l10n_pl_ksef_receipt_invoice, "an invoice for a receipt already given")
        self.assertEqual(invoice.l10n_pl_ksef_state, "to_send", "posted by the POS, queued as any invoice")
        self.assertEqual(self.sim.request_count, before, "invoicing in the POS never calls KSeF")
        self.assertEqual(self.value(self.sent_fa3(invoice), "//f:Fa/f:FP"), "1")
        with self.assertRaisesRegex(UserError, "cannot change any more"):
            invoice.with_user(self.accountant).l10n_pl_ksef_receipt_invoice = False  # its FA(3) is frozen
        self.run_cron()
        self.assertEqual(invoice.l10n_pl_ksef_state, "accepted", invoice.l10n_pl_ksef_document_id.reason)
        self.assertEqual(self.stored_numbers_of(invoice.name), [invoice.l10n_pl_ksef_number])

    def test_invoice_asked_for_at_the_checkout_is_no_fp(self):
        """The customer asked for the invoice before paying (Invoice ticked at the checkout): the invoice is
        the sale's document, made while the POS records the payment, with no receipt before it: no FP
        (art. 109 ust. 3d covers only an invoice for a sale already on a receipt). Queued when posted in
        automatic mode."""
        self.company.l10n_pl_ksef_send_mode = "auto"
        order = self.pay(to_invoice=True)
        invoice = order.account_move
        self.assertEqual(invoice.state, "posted", "invoiced at the payment")
        self.assertFalse(invoice.l10n_pl_ksef_receipt_invoice)
        self.assertEqual(invoice.l10n_pl_ksef_state, "to_send")
        fa = self.sent_fa3(invoice)
        self.assertEqual(self.value(fa, "//f:Fa/f:RodzajFaktury"), "VAT")
        self.assertFalse(fa.xpath("//f:Fa/f:FP", namespaces=NS), "no FP element at all")

    def test_manual_mode_leaves_the_pos_invoice_to_the_accountant(self):
        """Sending manually: the POS's invoice is posted and its PDF made (Odoo's automated Send & Print),
        but it is not sent to KSeF until the accountant clicks Send to KSeF."""
        self.company.l10n_pl_ksef_send_mode = "manual"
        before = self.sim.request_count
        order = self.pay(to_invoice=True)
        invoice = order.account_move
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.invoice_pdf_report_id, "the POS made the invoice's PDF")
        self.assertFalse(invoice.l10n_pl_ksef_state, "not queued, not sent")
        self.assertEqual(self.sim.request_count, before, "KSeF was not called")
        self.assertFalse(self.stored_numbers_of(invoice.name))
        self.assertTrue(invoice.l10n_pl_ksef_can_send)
        invoice.with_user(self.accountant).action_l10n_pl_ksef_send()
        self.assertEqual(invoice.l10n_pl_ksef_state, "accepted", invoice.l10n_pl_ksef_document_id.reason)

    def test_orders_invoiced_after_the_session_is_closed_are_fp_the_accountant_may_change_it(self):
        """Orders paid and closed with the session (their sale booked as receipts), invoiced later with the
        orders list's "Create invoices" action: FP (art. 109 ust. 3d of the VAT act). The mark is the
        accountant's to change until the invoice goes to KSeF: sent without it, the FA(3) has no FP."""
        self.company.l10n_pl_ksef_send_mode = "manual"
        order = self.pay(to_invoice=False)
        self.session.post_closing_cash_details(123.0)
        self.session.close_session_from_ui()
        self.assertEqual(self.session.state, "closed")
        wizard = self.env["pos.make.invoice"].with_context(active_ids=order.ids).create({})
        wizard.action_create_invoices()
        invoice = order.account_move
        self.assertEqual(invoice.state, "posted")
        self.assertTrue(invoice.l10n_pl_ksef_receipt_invoice)
        self.assertEqual(self.value(self.tree(invoice), "//f:Fa/f:FP"), "1")
        invoice.with_user(self.accountant).l10n_pl_ksef_receipt_invoice = False
        invoice.with_user(self.accountant).action_l10n_pl_ksef_send()
        self.assertEqual(invoice.l10n_pl_ksef_state, "accepted", invoice.l10n_pl_ksef_document_id.reason)
        self.assertFalse(self.sent_fa3(invoice).xpath("//f:Fa/f:FP", namespaces=NS))

    def test_invoice_ksef_would_refuse_is_held_and_the_sale_goes_through(self):
        """The POS posts its invoice as an automated flow (sudo, within the POS's request; the context key
        stands for that request here): an invoice whose FA(3) would be refused does not break the checkout.
        It is posted and held from KSeF with what to fix; it is neither queued nor sent, not even by the
        POS's automated Send & Print."""
        self.company.l10n_pl_ksef_send_mode = "auto"
        self.taxes["23"].l10n_pl_ksef_rate_code = False
        before = self.sim.request_count
        order = self.pay(to_invoice=True, l10n_pl_ksef_interactive=False)
        invoice = order.account_move
        self.assertEqual(invoice.state, "posted", "the sale and its invoice are recorded")
        self.assertIn("KSeF rate code", invoice.l10n_pl_ksef_hold)
        self.assertFalse(invoice.l10n_pl_ksef_state, "held: not queued")
        self.assertEqual(self.sim.request_count, before, "nothing went to KSeF")
