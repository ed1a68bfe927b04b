"""Automated flows never break on KSeF: an invoice posted by Odoo's auto-post (or Point of Sale, e-commerce, a
cron) whose FA(3) would be refused is posted and held from KSeF until fixed; a user confirming by hand is told."""

import datetime
from decimal import Decimal as D

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core.nbp import clear_cache

from .fa3_common import ISSUED
from .send_common import L10nPlKsefSendCommon

HOLD_TYPE = "l10n_pl_ksef.mail_activity_type_ksef_hold"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefHold(L10nPlKsefSendCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # Odoo's own: 4.00 PLN

    def setUp(self):
        super().setUp()
        clear_cache()
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.nbp_url", self.simulator.nbp_url)
        self.nbp = self.sim.nbp
        self.addCleanup(self.nbp.reset)

    def auto_post(self, **values):
        """A draft dated in the past that Odoo's scheduled action 'Post draft entries' confirms."""
        move = self.invoice(post=False, auto_post="at_date", date=ISSUED, **values)
        with self.enter_registry_test_mode():
            self.env.ref("account.ir_cron_auto_post_draft_entry").method_direct_trigger()
        self.env.invalidate_all()
        return move

    def hold_activities(self, move):
        return move.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(HOLD_TYPE))

    def test_auto_post_without_an_nbp_rate_holds_the_invoice_until_the_rate_arrives(self):
        self.company.l10n_pl_ksef_send_mode = "auto"
        self.nbp.set_available(False)
        self.nbp.set_rate("EUR", datetime.date(2026, 11, 19), D("4.2345"))
        move = self.auto_post(currency_id=self.eur.id, invoice_user_id=self.accountant.id)

        self.assertEqual(move.state, "posted", "Odoo's auto-post does not fail for want of an NBP rate")
        self.assertIn("NBP rate of 2026-11-19 for EUR is not fetched yet", move.l10n_pl_ksef_hold)
        self.assertFalse(move.l10n_pl_ksef_document_id, "held: not queued for KSeF")
        self.assertFalse(move.l10n_pl_ksef_can_send)
        self.assertIn("Check again", move.l10n_pl_ksef_banner)
        self.assertIn("NBP rate of 2026-11-19", move.l10n_pl_ksef_banner)
        activity = self.hold_activities(move)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.accountant, "the salesperson of the invoice fixes it")
        with self.assertRaises(UserError) as caught:
            move._l10n_pl_ksef_send_now()
        self.assertIn("held from KSeF until fixed", str(caught.exception))
        documents, _problems = move._l10n_pl_ksef_queue()
        self.assertFalse(documents, "the queue skips it")
        with self.assertRaises(UserError):
            move.action_l10n_pl_ksef_check_hold()  # still no rate
        self.assertTrue(move.l10n_pl_ksef_hold)

        self.nbp.set_available(True)
        self.env["l10n_pl_ksef.nbp.rate"]._cron_l10n_pl_ksef_nbp_rates()
        move.action_l10n_pl_ksef_check_hold()
        self.assertFalse(move.l10n_pl_ksef_hold)
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(1 / move.invoice_currency_rate, 4.2345, places=6, msg="booked again at NBP's rate")
        self.assertFalse(self.hold_activities(move), "the to-do is done")
        self.assertEqual(move.l10n_pl_ksef_state, "to_send", "released: queued, the company sends automatically")
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")

    def test_automated_post_with_a_customer_missing_data_is_held_not_raised(self):
        # typed where Odoo's own VAT check is not installed, or before it was
        self.env.cr.execute("UPDATE res_partner SET vat = 'PL1234567890' WHERE id = %s", [self.buyer_pl.id])
        self.buyer_pl.invalidate_recordset(["vat"])
        move = self.auto_post()
        self.assertEqual(move.state, "posted")
        self.assertIn("'PL1234567890'", move.l10n_pl_ksef_hold)
        activity = self.hold_activities(move)
        self.assertTrue(activity.user_id._is_internal(), "no salesperson: an accountant of the company, not OdooBot")
        self.assertFalse(activity.user_id._is_superuser())
        self.assertFalse(move.l10n_pl_ksef_document_id)

        # the user fixes the customer and confirms it again
        self.buyer_pl.vat = "PL7680002466"
        move.button_draft()
        move.action_post()
        self.assertFalse(move.l10n_pl_ksef_hold)
        self.assertFalse(self.hold_activities(move))
        self.assertTrue(move.l10n_pl_ksef_can_send, "manual mode: ready for Send to KSeF")
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")

    def test_who_posts_interactively(self):
        """A plain call (a test, a script) is a user's Confirm; a scheduled action or the context key is not."""
        Move = self.env["account.move"]
        self.assertTrue(Move._l10n_pl_ksef_post_is_interactive())
        self.assertFalse(Move.with_context(cron_id=1)._l10n_pl_ksef_post_is_interactive())
        self.assertFalse(Move.with_context(l10n_pl_ksef_interactive=False)._l10n_pl_ksef_post_is_interactive())
        self.assertTrue(Move.with_context(cron_id=1, l10n_pl_ksef_interactive=True)._l10n_pl_ksef_post_is_interactive())
        # the same problem confirmed by hand is refused, nothing posted
        self.env.cr.execute("UPDATE res_partner SET vat = 'PL1234567890' WHERE id = %s", [self.buyer_pl.id])
        self.buyer_pl.invalidate_recordset(["vat"])
        move = self.invoice(post=False)
        with self.assertRaises(UserError):
            move.action_post()
        self.assertEqual(move.state, "draft")
        self.assertFalse(move.l10n_pl_ksef_hold)

    def test_send_and_print_refuses_a_held_invoice_with_the_reason(self):
        self.env.cr.execute("UPDATE res_partner SET vat = 'PL1234567890' WHERE id = %s", [self.buyer_pl.id])
        self.buyer_pl.invalidate_recordset(["vat"])
        move = self.auto_post()
        self.assertTrue(move.l10n_pl_ksef_hold)
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )
        self.assertIn("l10n_pl_ksef", wizard.extra_edis, "the KSeF option stays: no PDF goes out without KSeF")
        with self.assertRaises(UserError) as caught:
            wizard.action_send_and_print()
        self.assertIn("held from KSeF until fixed", str(caught.exception))
        self.assertFalse(move.l10n_pl_ksef_document_id)

    def test_check_again_never_resets_a_paid_invoice(self):
        """A held EUR invoice booked at Odoo's rate (NBP's was missing) that is paid meanwhile: Check again does
        not reset it to draft and book it again (its payment and exchange difference would no longer match): it
        says what the accountant does, and changes nothing."""
        self.nbp.set_available(False)
        self.nbp.set_rate("EUR", datetime.date(2026, 11, 19), D("4.2345"))
        move = self.auto_post(currency_id=self.eur.id, invoice_user_id=self.accountant.id)
        self.assertTrue(move.l10n_pl_ksef_hold)
        self.assertEqual(move.invoice_currency_rate, 0.25, "booked at Odoo's rate")
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"payment_date": ISSUED})
            ._create_payments()
        )
        self.assertIn(move.payment_state, ("paid", "in_payment"))
        self.nbp.set_available(True)
        self.env["l10n_pl_ksef.nbp.rate"]._cron_l10n_pl_ksef_nbp_rates()

        with self.assertRaises(UserError) as caught:
            move.action_l10n_pl_ksef_check_hold()
        message = str(caught.exception)
        self.assertIn("booked at 4 PLN per EUR", message)
        self.assertIn("must be converted at 4.2345 PLN", message)
        self.assertIn("Unreconcile its payments", message)
        self.assertIn("nothing was changed", message)
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.invoice_currency_rate, 0.25)
        self.assertIn(move.payment_state, ("paid", "in_payment"), "still paid")
        receivable = move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertTrue(receivable.matched_credit_ids, "its payment stays reconciled")
        self.assertTrue(payment)
        self.assertTrue(move.l10n_pl_ksef_hold, "still held")
        self.assertFalse(move.l10n_pl_ksef_document_id)

    def test_check_again_never_resets_an_invoice_of_a_locked_period(self):
        """A held EUR invoice dated in a period locked meanwhile is not reset by Check again: it says who may lift
        the lock, and changes nothing."""
        self.nbp.set_available(False)
        self.nbp.set_rate("EUR", datetime.date(2026, 11, 19), D("4.2345"))
        move = self.auto_post(currency_id=self.eur.id, invoice_user_id=self.accountant.id)
        self.nbp.set_available(True)
        self.env["l10n_pl_ksef.nbp.rate"]._cron_l10n_pl_ksef_nbp_rates()
        self.company.sale_lock_date = datetime.date(2026, 11, 30)
        with self.assertRaises(UserError) as caught:
            move.action_l10n_pl_ksef_check_hold()
        self.assertIn("is in a locked period", str(caught.exception))
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.invoice_currency_rate, 0.25)
        self.assertTrue(move.l10n_pl_ksef_hold)

    def test_a_held_invoice_goes_to_an_accounting_manager_through_an_implied_group(self):
        """No salesperson and posted by OdooBot: the to-do goes to an accounting manager of the company, also one
        who is a manager through another group (implied), not only those the group names."""
        manager = self.env.ref("account.group_account_manager")
        explicit = manager.sudo().user_ids
        manager.sudo().write({"user_ids": [Command.unlink(user.id) for user in explicit]})
        chief = self.env["res.groups"].create({"name": "Chief accountant", "implied_ids": [Command.link(manager.id)]})
        user = new_test_user(self.env, login="ksef_chief", company_id=self.company.id, company_ids=[self.company.id])
        user.write({"group_ids": [Command.link(chief.id)]})
        self.assertNotIn(user, manager.sudo().user_ids)
        move = self.invoice(post=False)
        move.invoice_user_id = False
        self.env.cr.execute("UPDATE account_move SET create_uid = %s WHERE id = %s", [SUPERUSER_ID, move.id])
        move.invalidate_recordset(["create_uid"])
        self.assertEqual(move.with_user(SUPERUSER_ID)._l10n_pl_ksef_hold_user(), user)
