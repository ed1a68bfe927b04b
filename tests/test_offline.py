"""Offline invoices against the simulator: KSeF unreachable, Latarnia's announcements, the company's choice
(issue offline / wait), the Offline certificate, offline24 by hand, and sending once KSeF answers again."""

import datetime

from lxml import html as lxml_html

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen, qr
from odoo.addons.l10n_pl_ksef.ksef_core.calendar_pl import add_business_days, next_business_day, warsaw_now
from odoo.addons.l10n_pl_ksef.ksef_core.hashing import sha256_b64

from .common import TEST_NIP, b64
from .print_common import qr_codes_in
from .send_common import L10nPlKsefSendCommon

#: the API paths a KSeF outage takes down (Latarnia, beside them, keeps answering)
API_PATHS = ("/auth/*", "/sessions/*", "/security/*")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefOffline(L10nPlKsefSendCommon):
    def setUp(self):
        super().setUp()
        self.addCleanup(self.sim.set_latarnia, "AVAILABLE")

    def add_offline_certificate(self):
        self.offline_certificate = certgen.make_test_certificate(nip=TEST_NIP, seal=True, usage="Offline")
        self.setup_wizard(
            auth_method="token",
            token=self.token,
            offline_certificate_file=b64(self.offline_certificate.to_pkcs12("pw")),
            offline_password="pw",
        ).action_save_credentials()

    def ksef_down(self):
        for path in API_PATHS:  # KSeF answers 503 to every API call (after the client's retries: unavailable)
            self.sim.faults.error(path, status=503, count=None)

    def ksef_back(self):
        self.sim.faults.clear()

    def warsaw_today(self):
        """KSeF's today (Warsaw): an invoice dated earlier is recorded as offline, one dated later is refused.
        Between 23:00/22:00 UTC and midnight UTC it is already tomorrow in Warsaw."""
        return warsaw_now().date()

    def today_invoice(self):
        """An invoice dated today: KSeF records it online unless it is sent with offlineMode."""
        today = self.warsaw_today()
        return self.invoice(invoice_date=today, invoice_date_due=today)

    def credit_note_of(self, invoice, post=True):
        """A credit note of ``invoice`` made as a user makes it (Credit Note), with a number of this test's own
        (the simulator keeps what other tests sent)."""
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Zwrot", "journal_id": invoice.journal_id.id, "date": self.warsaw_today()})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        credit_note.write(
            {
                "name": "KOR/%s/%06d" % (self.id().rsplit(".", 1)[-1][-20:], next(self.numbers)),
                "l10n_pl_ksef_correction_reason": "Zwrot towaru",
                "auto_post": "no",  # dated Warsaw's today, which may be tomorrow in UTC
            }
        )
        if post:
            credit_note.action_post()
        return credit_note

    def stored(self, move):
        """What KSeF accepted of this invoice: ``[(offlineMode asked, invoicingMode recorded)]``."""
        return [
            (entry["offlineMode"], entry["invoicingMode"])
            for entry in self.sim.invoice_store.entries.values()
            if entry.get("ksefNumber") and entry.get("ksefNumber") in self.stored_numbers_of(move.name)
        ]

    # ------------------------------------------------------------------ tests

    def test_unreachable_ksef_issues_offline_delivers_and_sends_once_when_back(self):
        self.add_offline_certificate()
        self.ksef_down()
        move = self.today_invoice()
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual((document.state, document.invoicing_mode), ("to_send", "offline24"))
        self.assertEqual(move.l10n_pl_ksef_offline_deadline, next_business_day(self.warsaw_today()))
        self.assertIn("Issued offline", str(move.l10n_pl_ksef_banner))
        frozen = document.sudo().xml.encode()
        self.assertEqual(document.invoice_hash, sha256_b64(frozen))
        # delivered as usual: the print carries KOD I labelled OFFLINE and KOD II signed with the Offline certificate
        page = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", move.ids)[0].decode()
        codes = qr_codes_in(page, "l10n_pl_ksef_qr")
        self.assertEqual([label for _matrix, label in codes], ["OFFLINE", "CERTYFIKAT"])
        kod2 = lxml_html.fromstring(page).xpath("//*[@id='l10n_pl_ksef_qr']//img/@data-ksef-url")[1]
        self.assertTrue(qr.verify_kod2_url(kod2, self.offline_certificate))
        self.assertFalse(self.stored(move), "nothing reached KSeF while it was down")
        # a run while KSeF is still down changes nothing
        self.run_cron()
        self.assertEqual(document.state, "to_send")
        self.ksef_back()
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual(self.stored(move), [(True, "Offline")], "sent with offlineMode")
        self.assertEqual(self.sim.invoice_store.invoice_xml(document.ksef_number), frozen, "exactly the frozen bytes")
        self.run_cron()
        self.assertEqual(len(self.stored(move)), 1, "sent once")

    def test_a_failure_announced_in_latarnia_makes_it_an_emergency_invoice_and_moves_the_deadline(self):
        self.add_offline_certificate()
        self.sim.set_latarnia("FAILURE")
        self.ksef_down()
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.invoicing_mode, "emergency")
        self.assertFalse(document.offline_deadline, "no deadline while the failure lasts")
        self.sim.set_latarnia("AVAILABLE")  # Latarnia announces the end; the API still does not answer
        self.run_cron()
        self.assertEqual(document.state, "to_send")
        self.assertEqual(document.offline_deadline, add_business_days(self.warsaw_today(), 7))
        self.ksef_back()
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)

    def test_wait_mode_keeps_the_invoice_queued_and_says_why(self):
        self.add_offline_certificate()
        self.company.l10n_pl_ksef_unavailable_mode = "wait"
        self.ksef_down()
        move = self.today_invoice()
        action = move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual((document.state, document.invoicing_mode), ("to_send", "online"))
        self.assertIn("waits", document.last_error)
        self.assertIn("waiting", action["params"]["message"])
        self.assertIn("Waiting to be sent to KSeF", str(move.l10n_pl_ksef_banner))
        self.ksef_back()
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual(self.stored(move), [(False, "Online")])

    def test_without_an_offline_certificate_offline_issuing_is_refused_with_how_to_get_one(self):
        self.ksef_down()
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual((document.state, document.invoicing_mode), ("to_send", "online"))
        self.assertIn("Offline certificate", document.last_error)
        other = self.invoice()
        with self.assertRaisesRegex(UserError, "Get a KSeF certificate"):
            other.action_l10n_pl_ksef_issue_offline()
        self.assertFalse(other.l10n_pl_ksef_document_id)

    def test_issue_offline24_by_hand_then_the_queue_sends_it_with_offline_mode(self):
        self.add_offline_certificate()
        move = self.today_invoice()
        move.with_user(self.accountant).action_l10n_pl_ksef_issue_offline()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual((document.state, document.invoicing_mode), ("to_send", "offline24"))
        self.assertTrue(move._l10n_pl_ksef_offline_pending())
        self.assertFalse(self.stored(move), "issued, not sent yet")
        self.assertIn(move, self.env["account.move"].search([("l10n_pl_ksef_invoicing_mode", "=", "offline24")]))
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual(self.stored(move), [(True, "Offline")])
        self.assertEqual(document.offline_issued_at.date(), datetime.date.today())

    def test_an_invoice_sent_after_its_issue_day_is_recorded_offline_by_ksef_without_error(self):
        move = self.invoice(invoice_date=datetime.date.today() - datetime.timedelta(days=3))
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual((document.invoicing_mode, document.ksef_invoicing_mode), ("online", "Offline"))
        self.assertIn("not an error", str(move.l10n_pl_ksef_banner))

    def test_a_batch_carries_offline_invoices_in_a_session_of_their_own(self):
        self.add_offline_certificate()
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.batch_threshold", "3")
        offline = self.today_invoice() | self.today_invoice()
        offline.action_l10n_pl_ksef_issue_offline()
        online = self.today_invoice() | self.today_invoice()
        online._l10n_pl_ksef_queue()
        moves = offline | online
        for _attempt in range(6):
            self.run_cron()
            if set(moves.mapped("l10n_pl_ksef_state")) == {"accepted"}:
                break
        self.assertEqual(
            set(moves.mapped("l10n_pl_ksef_state")), {"accepted"}, moves.l10n_pl_ksef_document_id.mapped("reason_en")
        )
        sessions = moves.l10n_pl_ksef_document_id.session_id
        self.assertEqual(set(sessions.mapped("kind")), {"batch"})
        self.assertEqual(len(sessions), 2, "one batch session for each offlineMode")
        self.assertEqual({m.id: self.stored(m) for m in offline}, {m.id: [(True, "Offline")] for m in offline})
        self.assertEqual({m.id: self.stored(m) for m in online}, {m.id: [(False, "Online")] for m in online})

    def test_the_responsible_user_is_warned_before_the_deadline_once(self):
        self.add_offline_certificate()
        move = self.today_invoice()
        move.invoice_user_id = self.accountant
        move.action_l10n_pl_ksef_issue_offline()
        deadline = move.l10n_pl_ksef_offline_deadline
        Document = self.env["l10n_pl_ksef.document"]
        day_before_deadline = deadline - datetime.timedelta(days=1)
        while next_business_day(day_before_deadline) != deadline:
            day_before_deadline -= datetime.timedelta(days=1)
        far_before = day_before_deadline - datetime.timedelta(days=10)
        Document._cron_l10n_pl_ksef_offline_deadlines(today=far_before)
        self.assertFalse(move.activity_ids, "no warning while the deadline is far")
        Document._cron_l10n_pl_ksef_offline_deadlines(today=day_before_deadline)
        Document._cron_l10n_pl_ksef_offline_deadlines(today=day_before_deadline)
        self.assertEqual(len(move.activity_ids), 1, "warned once")
        self.assertEqual((move.activity_ids.user_id, move.activity_ids.date_deadline), (self.accountant, deadline))
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertFalse(move.activity_ids, "the warning goes once KSeF has the invoice")

    def test_past_the_deadline_the_invoice_is_flagged_in_the_list(self):
        self.add_offline_certificate()
        self.ksef_down()
        move = self.today_invoice()
        move.action_l10n_pl_ksef_send()
        self.assertFalse(move.l10n_pl_ksef_offline_overdue)
        move.l10n_pl_ksef_document_id.sudo().offline_deadline = datetime.date.today() - datetime.timedelta(days=1)
        self.assertTrue(move.l10n_pl_ksef_offline_overdue)
        overdue = self.env["account.move"].search(
            [("l10n_pl_ksef_offline_deadline", "<", datetime.date.today()), ("l10n_pl_ksef_state", "in", ("to_send",))]
        )
        self.assertIn(move, overdue, "what the filter 'KSeF: offline, past the deadline' finds")

    def test_a_credit_note_of_an_offline_invoice_waits_for_its_number_and_names_it(self):
        self.add_offline_certificate()
        self.ksef_down()
        invoice = self.today_invoice()
        invoice.action_l10n_pl_ksef_send()
        self.assertEqual(invoice.l10n_pl_ksef_invoicing_mode, "offline24")
        credit_note = self.credit_note_of(invoice)
        credit_note.action_l10n_pl_ksef_send()
        waiting = credit_note.l10n_pl_ksef_document_id
        self.assertEqual(waiting.state, "to_send")
        self.assertEqual(waiting.waits_for_id, invoice.l10n_pl_ksef_document_id)
        self.assertFalse(waiting.invoice_hash, "its FA(3) waits for the number it must name")
        self.assertIn("Waits for the KSeF number of %s" % invoice.name, str(credit_note.l10n_pl_ksef_banner))
        self.ksef_back()
        for _attempt in range(3):
            self.run_cron()
        self.assertEqual(invoice.l10n_pl_ksef_state, "accepted")
        self.assertEqual(credit_note.l10n_pl_ksef_state, "accepted", waiting.reason)
        self.assertIn("<NrKSeFFaKorygowanej>%s</NrKSeFFaKorygowanej>" % invoice.l10n_pl_ksef_number, waiting.sudo().xml)
        self.assertLess(
            invoice.l10n_pl_ksef_document_id.acceptance_date, waiting.acceptance_date + datetime.timedelta(seconds=1)
        )
        self.assertEqual(len(self.stored(credit_note)), 1)

    def test_a_rejected_offline_invoice_goes_back_as_its_technical_correction(self):
        self.add_offline_certificate()
        tomorrow = self.warsaw_today() + datetime.timedelta(days=1)
        move = self.invoice(invoice_date=tomorrow, invoice_date_due=tomorrow)
        move.action_l10n_pl_ksef_issue_offline()
        rejected = move.l10n_pl_ksef_document_id
        self.run_cron()
        self.assertEqual(rejected.state, "rejected", "KSeF refuses an issue date after the day it receives it")
        self.assertIn("technical correction", str(move.l10n_pl_ksef_banner))
        self.assertIn("technical correction", move.activity_ids.note or "")
        # the accountant fixes the date and confirms again: the fixed file replaces the rejected one
        move.button_draft()
        move.write({"invoice_date": self.warsaw_today(), "invoice_date_due": self.warsaw_today()})
        move.action_post()
        move.action_l10n_pl_ksef_send()
        fixed = move.l10n_pl_ksef_document_id
        self.assertNotEqual(fixed, rejected)
        self.assertEqual(fixed.hash_of_corrected, rejected.invoice_hash)
        self.assertEqual(fixed.invoicing_mode, "offline24")
        for _attempt in range(3):
            if fixed.state == "accepted":
                break
            self.run_cron()
        self.assertEqual(fixed.state, "accepted", fixed.reason)
        entries = [e for e in self.sim.invoice_store.entries.values() if e.get("ksefNumber") == fixed.ksef_number]
        self.assertEqual(
            [(e["hashOfCorrectedInvoice"], e["offlineMode"]) for e in entries], [(rejected.invoice_hash, True)]
        )
        self.assertEqual(self.sim.invoice_store.hashes[rejected.invoice_hash]["correctedBy"], fixed.ksef_number)

    def test_maintenance_announced_in_latarnia_issues_offline_without_trying_ksef(self):
        self.add_offline_certificate()
        now = self.sim.clock.now()
        end = now + datetime.timedelta(hours=2)
        self.sim.set_latarnia("MAINTENANCE", title="Prace serwisowe KSeF", start=now, end=end)
        move = self.today_invoice()
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual((document.state, document.invoicing_mode), ("to_send", "offline"))
        self.assertIn("Latarnia (KSeF's status service) announces maintenance", document.offline_reason)
        self.assertEqual(document.offline_deadline, next_business_day(warsaw_now(end).date()))
        self.assertFalse(self.stored(move), "nothing sent during the announced maintenance")
        self.sim.set_latarnia("AVAILABLE")
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual(self.stored(move), [(True, "Offline")])

    def test_an_offline_invoice_cannot_go_back_to_draft_before_ksef_has_it(self):
        self.add_offline_certificate()
        move = self.today_invoice()
        move.action_l10n_pl_ksef_issue_offline()
        self.assertFalse(move.show_reset_to_draft_button)
        with self.assertRaisesRegex(UserError, "issued offline"):
            move.button_draft()
        self.assertEqual(move.l10n_pl_ksef_document_id.state, "to_send")

    def test_a_waiting_invoice_can_be_issued_offline24_and_nothing_loops_meanwhile(self):
        self.add_offline_certificate()
        self.company.l10n_pl_ksef_unavailable_mode = "wait"
        self.ksef_down()
        invoice = self.today_invoice()
        invoice.action_l10n_pl_ksef_send()
        document = invoice.l10n_pl_ksef_document_id
        self.assertEqual((document.state, document.invoicing_mode), ("to_send", "online"))
        self.assertTrue(invoice.l10n_pl_ksef_can_issue_offline, "a waiting invoice may still be issued offline24")
        invoice.action_l10n_pl_ksef_issue_offline()
        self.assertEqual((invoice.l10n_pl_ksef_document_id, document.invoicing_mode), (document, "offline24"))
        # its credit note, sent in the same call as another invoice's, waits; the cron is not woken at once
        credit_note = self.credit_note_of(invoice)
        with self.assertRaisesRegex(UserError, "not in KSeF yet"):
            credit_note.action_l10n_pl_ksef_issue_offline()
        credit_note.action_l10n_pl_ksef_send()
        self.assertEqual(credit_note.l10n_pl_ksef_document_id.waits_for_id, document)
        woken = self.env["l10n_pl_ksef.document"]._l10n_pl_ksef_wake_up()
        self.assertGreater(woken, datetime.datetime.now(), "what waits is tried later, not in a loop")
        self.ksef_back()
        for _attempt in range(3):
            self.run_cron()
        self.assertEqual((invoice.l10n_pl_ksef_state, credit_note.l10n_pl_ksef_state), ("accepted", "accepted"))

    def test_an_invoice_and_its_credit_note_queued_together_go_in_that_order(self):
        invoice = self.today_invoice()
        credit_note = self.credit_note_of(invoice)
        _documents, problems = (invoice | credit_note)._l10n_pl_ksef_queue()
        self.assertFalse(problems)
        self.assertEqual(credit_note.l10n_pl_ksef_document_id.waits_for_id, invoice.l10n_pl_ksef_document_id)
        for _attempt in range(3):
            self.run_cron()
        self.assertEqual(credit_note.l10n_pl_ksef_state, "accepted", credit_note.l10n_pl_ksef_document_id.reason)
        self.assertIn(
            "<NrKSeFFaKorygowanej>%s</NrKSeFFaKorygowanej>" % invoice.l10n_pl_ksef_number,
            credit_note.l10n_pl_ksef_document_id.sudo().xml,
        )
