"""A click sends what was clicked (and what must go first), within a click's time; the cron does the rest."""

from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.calendar_pl import warsaw_now
from odoo.addons.l10n_pl_ksef.models import l10n_pl_ksef_document_click as click_module
from odoo.addons.l10n_pl_ksef.models import l10n_pl_ksef_document_send as send_module

from .send_common import L10nPlKsefSendCommon

CRON = "l10n_pl_ksef.ir_cron_l10n_pl_ksef_send"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSendClick(L10nPlKsefSendCommon):
    def queued(self, count):
        """``count`` invoices waiting in the company's queue (queued by posting in automatic mode, say)."""
        moves = self.invoices(count)
        documents, problems = moves._l10n_pl_ksef_queue()
        self.assertFalse(problems)
        self.assertEqual(len(documents), count)
        return moves

    def triggers(self):
        cron = self.env.ref(CRON)
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def today_invoice(self):
        today = warsaw_now().date()
        return self.invoice(invoice_date=today, invoice_date_due=today)

    def credit_note_of(self, invoice):
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Zwrot", "journal_id": invoice.journal_id.id, "date": warsaw_now().date()})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.write(
            {
                "name": "KOR/%s/%06d" % (self.id().rsplit(".", 1)[-1][-20:], next(self.numbers)),
                "l10n_pl_ksef_correction_reason": "Zwrot towaru",
                "auto_post": "no",
            }
        )
        credit_note.action_post()
        return credit_note

    def assert_still_queued(self, moves):
        self.assertEqual(set(moves.mapped("l10n_pl_ksef_state")), {"to_send"}, "the click left them to the cron")
        for move in moves:
            self.assertEqual(self.stored_numbers_of(move.name), [], "%s did not reach KSeF" % move.name)

    def test_a_click_sends_the_invoice_clicked_not_the_company_queue(self):
        others = self.queued(30)
        self.triggers().unlink()
        move = self.invoice()
        before = self.sim.request_count
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted", move.l10n_pl_ksef_document_id.reason)
        self.assertEqual(len(self.stored_numbers_of(move.name)), 1)
        self.assert_still_queued(others)
        self.assertLess(self.sim.request_count - before, 20, "one invoice's requests, not the queue's")
        triggers = self.triggers()
        self.assertTrue(triggers, "the cron is woken up for the queue")
        self.assertLessEqual(min(triggers.mapped("call_at")), fields.Datetime.now())
        self.run_cron()
        self.assertEqual(set(others.mapped("l10n_pl_ksef_state")), {"accepted"}, "the cron sends the others")

    def test_a_click_on_a_credit_note_sends_the_queued_invoice_it_corrects_first(self):
        others = self.queued(3)
        invoice = self.today_invoice()
        invoice._l10n_pl_ksef_queue()
        self.assertEqual(invoice.l10n_pl_ksef_state, "to_send")
        credit_note = self.credit_note_of(invoice)
        credit_note.action_l10n_pl_ksef_send()
        waiting = credit_note.l10n_pl_ksef_document_id
        self.assertEqual(waiting.waits_for_id, invoice.l10n_pl_ksef_document_id)
        self.assertEqual(invoice.l10n_pl_ksef_state, "accepted", "the invoice it corrects goes first")
        self.assertEqual(credit_note.l10n_pl_ksef_state, "accepted", waiting.reason)
        self.assertIn("<NrKSeFFaKorygowanej>%s</NrKSeFFaKorygowanej>" % invoice.l10n_pl_ksef_number, waiting.sudo().xml)
        self.assert_still_queued(others)

    def test_a_click_out_of_time_leaves_the_rest_to_the_cron_without_rolling_back(self):
        self.triggers().unlink()
        move = self.invoice()
        # done in the same request before the click: a click never rolls it back
        partner = self.env["res.partner"].create({"name": "Made in the same request"})
        with (
            patch.object(click_module, "click_budget", return_value=0.0),
            patch.object(self.env.cr, "rollback", side_effect=AssertionError("the request was rolled back")),
        ):
            action = move.action_l10n_pl_ksef_send()
        message = action["params"]["message"]
        self.assertIn("1 will be sent in the background", message)
        self.assertIn("sending continues in the background", message)
        self.assertEqual(action["params"]["type"], "warning")
        self.assertTrue(partner.exists())
        self.assert_still_queued(move)
        self.assertFalse(move.l10n_pl_ksef_document_id.last_error, "out of time is not an error")
        self.assertTrue(self.triggers(), "the cron is woken up for it")
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")

    def test_send_and_print_out_of_time_says_the_invoice_goes_in_the_background(self):
        move = self.invoice()
        wizard = self.env["account.move.send.wizard"].with_context(active_model="account.move", active_ids=move.ids)
        wizard = wizard.create({})
        invoices_data = {move: {"extra_edis": ["l10n_pl_ksef"]}}
        with patch.object(click_module, "click_budget", return_value=0.0):
            wizard._call_web_service_before_invoice_pdf_render(invoices_data)
        error = invoices_data[move]["error"]
        self.assertIn("will be sent to KSeF in the background", error["errors"][0])
        self.assertEqual(move.l10n_pl_ksef_state, "to_send")

    def test_check_status_asks_about_the_invoice_clicked_only(self):
        first, second = self.queued(2)
        # both sent by the cron, whose status checks come later (KSeF is still processing them)
        with patch.object(type(self.Document), "_l10n_pl_ksef_poll", lambda self, client, result, **kwargs: None):
            self.run_cron()
        self.assertEqual((first.l10n_pl_ksef_state, second.l10n_pl_ksef_state), ("processing", "processing"))
        first.action_l10n_pl_ksef_check_status()
        self.assertEqual(first.l10n_pl_ksef_state, "accepted")
        self.assertTrue(first.l10n_pl_ksef_document_id.upo_attachment_id, "its UPO comes with it")
        self.assertEqual(second.l10n_pl_ksef_state, "processing", "the other is the cron's")

    def test_the_send_cron_starts_no_company_once_its_budget_is_spent(self):
        move = self.queued(1)
        with patch.object(send_module, "cron_budget", return_value=0.0):
            self.assertEqual(self.run_cron(), {}, "no company started")
        self.assertEqual(move.l10n_pl_ksef_state, "to_send")
        self.assertTrue(self.triggers(), "the cron comes back for it")
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
