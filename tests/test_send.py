"""Sending customer invoices to the KSeF simulator: every way of sending, statuses, UPO, the rules."""

import datetime

from lxml import etree

from odoo import fields, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.client import KsefClient

from .common import TEST_NIP
from .send_common import L10nPlKsefSendCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSend(L10nPlKsefSendCommon):
    def test_send_button_gives_the_ksef_number_upo_and_dates(self):
        move = self.invoice()
        self.assertEqual(move.l10n_pl_ksef_state, False, "manual mode: posting sends nothing")
        self.assertTrue(move.l10n_pl_ksef_can_send)
        move.with_user(self.accountant).action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(move.l10n_pl_ksef_state, "accepted", document.reason)
        self.assertTrue(move.l10n_pl_ksef_number.startswith(TEST_NIP + "-"))
        self.assertEqual(self.stored_numbers_of(move.name), [move.l10n_pl_ksef_number])
        self.assertTrue(move.l10n_pl_ksef_sent_date and move.l10n_pl_ksef_accepted_date)
        self.assertEqual(document.ksef_user_id, self.accountant, "the user it was sent for is recorded")
        self.assertIn(b"<P_2>%s</P_2>" % move.name.encode(), document.xml.encode())
        upo = document.upo_attachment_id
        self.assertTrue(upo, "the UPO of the accepted invoice is kept")
        self.assertEqual((upo.res_model, upo.res_id), ("account.move", move.id))
        self.assertIn(move.l10n_pl_ksef_number.encode(), upo.raw)
        self.assertIn(move.l10n_pl_ksef_number, str(move.l10n_pl_ksef_banner))
        self.assertFalse(move.l10n_pl_ksef_can_send, "an accepted invoice is not offered again")
        self.assertEqual(
            self.env["account.move"].search([("l10n_pl_ksef_number", "=", move.l10n_pl_ksef_number)]), move
        )

    def test_automatic_mode_queues_on_posting_and_the_cron_sends(self):
        self.company.l10n_pl_ksef_send_mode = "auto"
        before = self.sim.request_count
        move = self.invoice()
        self.assertEqual(move.l10n_pl_ksef_state, "to_send", "posting queues the invoice")
        self.assertEqual(self.sim.request_count, before, "posting never calls KSeF")
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]), "the cron is woken up")
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertTrue(move.l10n_pl_ksef_number)

    def test_list_action_sends_many_in_one_online_session(self):
        moves = self.invoices(4)
        moves.action_l10n_pl_ksef_send()
        self.assertEqual(set(moves.mapped("l10n_pl_ksef_state")), {"accepted"})
        sessions = moves.l10n_pl_ksef_document_id.session_id
        self.assertEqual(len(sessions), 1)
        self.assertEqual(sessions.kind, "online")
        more = self.invoices(2)
        more.action_l10n_pl_ksef_send()
        self.assertEqual(more.l10n_pl_ksef_document_id.session_id, sessions, "the open session is reused")
        self.assertEqual(len(set(moves.mapped("l10n_pl_ksef_number") + more.mapped("l10n_pl_ksef_number"))), 6)

    def test_batch_session_above_the_threshold(self):
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.batch_threshold", "3")
        self.company.l10n_pl_ksef_send_mode = "auto"
        moves = self.invoices(5)
        self.assertEqual(set(moves.mapped("l10n_pl_ksef_state")), {"to_send"})
        self.run_cron()
        session = moves.l10n_pl_ksef_document_id.session_id
        self.assertEqual(session.kind, "batch")
        for _attempt in range(5):
            if set(moves.mapped("l10n_pl_ksef_state")) != {"processing"}:
                break
            self.run_cron()
        self.assertEqual(set(moves.mapped("l10n_pl_ksef_state")), {"accepted"})
        self.assertEqual(session.state, "processed")
        self.assertTrue(session.upo_attachment_id, "the session's collective UPO is kept")
        self.assertTrue(all(moves.l10n_pl_ksef_document_id.upo_attachment_id))

    def test_rejection_explains_creates_an_activity_and_allows_a_fix(self):
        move = self.invoice()
        documents, problems = move._l10n_pl_ksef_queue()
        self.assertFalse(problems)
        # what KSeF receives does not match the schema (as if the XML had been damaged)
        documents.sudo().xml = documents.xml.replace("<P_2>", "<P_2x>").replace("</P_2>", "</P_2x>")
        self.run_cron()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(move.l10n_pl_ksef_state, "rejected")
        self.assertTrue(document.status_code)
        self.assertTrue(document.reason_en and document.reason_pl)
        self.assertNotEqual(document.reason_en, document.reason_pl)
        activity = move.activity_ids.filtered(lambda a: a.activity_type_id.name == "Fix invoice rejected by KSeF")
        self.assertTrue(activity, "the salesperson gets a to-do with the reason")
        self.assertIn(str(document.status_code), str(activity.note))
        move.button_draft()
        self.assertEqual(move.state, "draft")
        move.action_post()
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertEqual(len(move.l10n_pl_ksef_document_ids), 2, "the rejected attempt stays as history")

    def test_accepted_invoice_cannot_be_reset_to_draft(self):
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        self.assertFalse(move.show_reset_to_draft_button)
        with self.assertRaisesRegex(UserError, "correction invoice"):
            move.button_draft()

    def test_queued_invoice_reset_to_draft_is_withdrawn(self):
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        document = move.l10n_pl_ksef_document_id
        move.button_draft()
        self.assertEqual(document.state, "cancelled")
        self.assertFalse(move.l10n_pl_ksef_state)
        self.run_cron()
        self.assertEqual(self.stored_numbers_of(move.name), [], "a withdrawn invoice never reaches KSeF")

    def test_invoice_before_the_start_date_is_never_sent(self):
        self.company.l10n_pl_ksef_start_date = datetime.date(2026, 12, 1)
        move = self.invoice()
        self.assertFalse(move.l10n_pl_ksef_can_send)
        with self.assertRaisesRegex(UserError, "before the company's KSeF start date"):
            move.action_l10n_pl_ksef_send()
        self.assertFalse(move.l10n_pl_ksef_document_ids)

    def test_ksef_number_given_by_hand(self):
        move = self.invoice()
        wizard = self.env["l10n_pl_ksef.manual.number"].create({"move_id": move.id, "ksef_number": "bad"})
        with self.assertRaises(UserError):
            wizard.action_confirm()
        from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

        number = make_ksef_number(TEST_NIP, datetime.date(2026, 11, 20), "0123456789AB")
        wizard.ksef_number = number
        wizard.action_confirm()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertEqual(move.l10n_pl_ksef_number, number)
        self.assertEqual(move.l10n_pl_ksef_document_id.invoicing_mode, "manual")
        self.run_cron()
        self.assertEqual(self.stored_numbers_of(move.name), [], "an invoice issued outside Odoo is not sent again")

    def test_accountant_sends_but_never_reads_a_secret(self):
        move = self.invoice()
        move.with_user(self.accountant).action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        session = move.l10n_pl_ksef_document_id.session_id
        with self.assertRaises(AccessError):
            session.with_user(self.accountant).read(["secret"])
        with self.assertRaises(AccessError):
            move.l10n_pl_ksef_document_id.with_user(self.accountant).read(["upo_url"])
        self.assertTrue(move.l10n_pl_ksef_document_id.with_user(self.accountant).read(["ksef_number", "state"]))

    def test_two_companies_send_with_their_own_credentials(self):
        other = self.setup_other_company(name="Druga Spółka")["company"]
        from .common import OTHER_NIP

        other.write(
            {
                "country_id": self.env.ref("base.pl").id,
                "vat": "PL%s" % OTHER_NIP,
                "l10n_pl_ksef_active": True,
                "l10n_pl_ksef_send_mode": "manual",
            }
        )
        token = self.sim.mint_token(OTHER_NIP, ("InvoiceWrite", "InvoiceRead"))
        self.setup_wizard(company=other, auth_method="token", token=token).action_save_credentials()
        mine = self.invoice()
        mine.action_l10n_pl_ksef_send()
        self.assertEqual(mine.l10n_pl_ksef_state, "accepted")
        self.assertTrue(mine.l10n_pl_ksef_number.startswith(TEST_NIP))
        sessions = self.env["l10n_pl_ksef.session"].search([])
        self.assertEqual(sessions.company_id, self.company)
        self.assertFalse(
            self.env["l10n_pl_ksef.document"]
            .with_company(other)
            .with_context(allowed_company_ids=other.ids)
            .search([]),
            "another company's documents stay hidden",
        )


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSendExactlyOnce(L10nPlKsefSendCommon):
    """Whatever fails, an invoice reaches KSeF once and none is lost."""

    def raw_client(self):
        return KsefClient(custom_api_url=self.simulator.base_url, nip=TEST_NIP, ksef_token=self.token, timeout=10.0)

    def test_answer_lost_and_unverifiable_is_resolved_by_hash_at_the_next_run(self):
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        # KSeF stores the invoice but the answer never comes, and the session's list cannot be read either
        self.sim.faults.drop("/sessions/online/*/invoices", method="POST", count=1)
        self.sim.faults.error("/sessions/*/invoices", method="GET", status=503, count=20)
        self.run_cron()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "sending", "unknown outcome: neither resent nor given up")
        self.assertEqual(len(self.stored_numbers_of(move.name)), 1)
        self.sim.faults.clear()
        result = self.run_cron()
        self.assertEqual(result[self.company.id]["recovered"], 1)
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertEqual(self.stored_numbers_of(move.name), [move.l10n_pl_ksef_number], "sent once")

    def test_crash_after_the_send_before_recording_is_resolved_from_the_state(self):
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        # a worker sent the invoice and died before writing the answer: only "sending" was committed
        client = self.raw_client()
        session = client.online.open()
        sent = client.online.send(session, document.xml.encode(), own_id=document.id)
        record = self.env["l10n_pl_ksef.session"]._l10n_pl_ksef_store_online(
            self.company, self.env["l10n_pl_ksef.user.token"], client.environment.name, session
        )
        document.sudo().write({"state": "sending", "session_id": record.id})
        self.run_cron()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(document.reference_number, sent.reference_number)
        self.assertEqual(self.stored_numbers_of(move.name), [move.l10n_pl_ksef_number])

    def test_crash_before_the_send_goes_out_once(self):
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        client = self.raw_client()
        session = client.online.open()
        record = self.env["l10n_pl_ksef.session"]._l10n_pl_ksef_store_online(
            self.company, self.env["l10n_pl_ksef.user.token"], client.environment.name, session
        )
        document.sudo().write({"state": "sending", "session_id": record.id})
        self.run_cron()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.stored_numbers_of(move.name)), 1)

    def test_duplicate_440_takes_over_the_number_only_when_the_hash_matches(self):
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        # the same invoice reached KSeF in another session (e.g. sent before a restore of the database)
        client = self.raw_client()
        earlier = client.send_invoices([("x", document.xml.encode())], close=True)["x"]
        self.assertTrue(earlier.ok)
        self.run_cron()
        self.assertEqual(document.state, "accepted")
        self.assertTrue(document.duplicate)
        self.assertEqual(move.l10n_pl_ksef_number, earlier.ksef_number)

        other = self.make([self.line(price=250.0)], name="FV/DUP/1")
        second, _problems = other._l10n_pl_ksef_queue()
        # a different invoice (other amounts) already holds this number in KSeF
        foreign = move.l10n_pl_ksef_document_id.xml.replace(move.name, "FV/DUP/1")
        self.assertNotEqual(foreign, second.xml)
        self.assertTrue(client.send_invoices([("z", foreign.encode())], close=True)["z"].ok)
        self.run_cron()
        self.assertEqual(second.state, "rejected")
        self.assertEqual(second.status_code, 440)
        self.assertIn("content differs", second.reason_en)

    def test_timeout_after_ksef_took_the_invoice_sends_it_once(self):
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.http_timeout", "1")
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        # KSeF stores the invoice, then answers too late for the client
        self.sim.faults.delay("/sessions/online/*/invoices", 2.5, method="POST", after=True)
        self.run_cron()
        for _attempt in range(3):
            if move.l10n_pl_ksef_state == "accepted":
                break
            self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertEqual(self.stored_numbers_of(move.name), [move.l10n_pl_ksef_number])

    def test_the_cron_sleeps_when_nothing_is_pending(self):
        self.assertIsNone(self.Document._l10n_pl_ksef_wake_up())
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        self.assertTrue(self.Document._l10n_pl_ksef_wake_up())
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        # the UPO of an invoice the cron has just sent comes at the company's next turn, due at once
        self.assertFalse(move.l10n_pl_ksef_document_id.upo_attachment_id)
        self.assertLessEqual(self.Document._l10n_pl_ksef_wake_up(), fields.Datetime.now())
        self.run_cron()
        self.assertTrue(move.l10n_pl_ksef_document_id.upo_attachment_id)
        session = move.l10n_pl_ksef_document_id.session_id
        self.assertEqual(
            self.Document._l10n_pl_ksef_wake_up(), session.next_try, "only the idle session's closing is ahead"
        )
        self.close_idle_sessions()
        self.assertIsNone(self.Document._l10n_pl_ksef_wake_up(), "nothing pending: no status checks")

    def test_upo_missing_after_a_busy_ksef_is_fetched_later(self):
        move = self.invoice()
        self.sim.faults.error("/upo/*", method="GET", status=503, count=None)
        self.sim.faults.error("/sessions/*/invoices/ksef/*/upo", method="GET", status=503, count=None)
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "accepted")
        self.assertFalse(document.upo_attachment_id)
        self.assertTrue(document.next_try, "the UPO is tried again after a pause, not in a loop")
        self.assertTrue(self.Document._l10n_pl_ksef_wake_up(), "nothing else pending: the cron still comes back for it")
        self.sim.faults.clear()
        self.run_cron()
        self.assertTrue(document.upo_attachment_id)
        self.assertEqual(self.Document._l10n_pl_ksef_wake_up(), document.session_id.next_try)

    def test_idle_online_session_is_closed_and_its_upo_kept(self):
        first = self.invoice()
        first.action_l10n_pl_ksef_send()
        session = first.l10n_pl_ksef_document_id.session_id
        self.assertEqual(session.state, "open")
        idle = session.next_try - datetime.datetime.now()
        self.assertTrue(datetime.timedelta(minutes=14) < idle <= datetime.timedelta(minutes=15), idle)
        self.run_cron()
        self.assertEqual(session.state, "open", "a session used a moment ago stays open for the next invoice")
        second = self.invoice()
        second.action_l10n_pl_ksef_send()
        self.assertEqual(second.l10n_pl_ksef_document_id.session_id, session)

        self.sim.faults.error("/sessions/online/*/close", method="POST", status=503, count=None)
        self.close_idle_sessions()
        self.assertEqual(session.state, "open", "KSeF down: the closing is tried again later")
        self.assertGreater(session.next_try, datetime.datetime.now())
        self.sim.faults.clear()
        self.close_idle_sessions()
        self.assertEqual(self.sim.invoice_store.sessions[session.reference]["status"]["code"], 200)
        self.assertEqual(session.state, "processed")
        self.assertFalse(session.sudo().secret, "the key of a closed session is not kept")
        upo = session.upo_attachment_id
        self.assertTrue(upo, "the session's collective UPO is kept")
        for move in first + second:
            self.assertIn(move.l10n_pl_ksef_number.encode(), upo.raw)
        self.assertFalse(session.next_try)
        self.assertIsNone(self.Document._l10n_pl_ksef_wake_up(), "nothing left: the cron sleeps")
        third = self.invoice()
        third.action_l10n_pl_ksef_send()
        self.assertNotEqual(third.l10n_pl_ksef_document_id.session_id, session, "a closed session is not reused")

    def test_server_errors_keep_the_invoice_queued(self):
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        self.sim.faults.error("/sessions/online", method="POST", status=503, count=None)
        self.run_cron()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "to_send", "a KSeF outage never fails an invoice")
        self.assertTrue(document.last_error)
        self.assertTrue(document.next_try)
        self.sim.faults.clear()
        self.run_cron()
        self.assertEqual(document.state, "accepted")

    def test_429_reschedules_at_retry_after(self):
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        self.sim.faults.error("/sessions/online/*/invoices", method="POST", status=429, count=None, retry_after=120)
        before = datetime.datetime.now().replace(microsecond=0)
        self.Document._cron_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "to_send")
        self.assertGreaterEqual(document.next_try, before + datetime.timedelta(seconds=100))
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertIn(document.next_try, triggers.mapped("call_at"), "the cron wakes up at the Retry-After")
        self.sim.faults.clear()
        self.run_cron()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.stored_numbers_of(move.name)), 1)

    def test_a_short_retry_after_is_waited_for_within_the_run(self):
        """KSeF's per-second limit (429 with a Retry-After of a second) does not end the company's turn: the cron
        waits that second and sends the rest of the queue in the same run, each invoice once."""
        moves = self.invoices(3)
        moves._l10n_pl_ksef_queue()
        self.sim.faults.error("/sessions/online/*/invoices", method="POST", status=429, retry_after=1, skip=1)
        result = self.Document._cron_l10n_pl_ksef_send()[self.company.id]
        self.assertFalse(result["error_code"])
        self.assertEqual(set(moves.mapped("l10n_pl_ksef_state")), {"accepted"})
        for move in moves:
            self.assertEqual(len(self.stored_numbers_of(move.name)), 1, move.name)

    def test_expired_session_is_replaced(self):
        first = self.invoice()
        first.action_l10n_pl_ksef_send()
        session = first.l10n_pl_ksef_document_id.session_id
        self.sim.expire_session(session.reference)
        second = self.invoice()
        second.action_l10n_pl_ksef_send()
        self.assertEqual(second.l10n_pl_ksef_state, "accepted")
        self.assertNotEqual(second.l10n_pl_ksef_document_id.session_id, session)
        self.assertTrue(session.next_try, "the expired session's final status and UPO are still due")
        self.close_idle_sessions()
        self.assertEqual(session.state, "processed")
        self.assertIn(first.l10n_pl_ksef_number.encode(), session.upo_attachment_id.raw)

    def test_key_rotation_is_followed(self):
        self.invoice().action_l10n_pl_ksef_send()
        self.sim.rotate_keys(emergency=True)
        self.env["l10n_pl_ksef.session"].sudo().search([]).write({"state": "closed"})
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")

    def test_revoked_token_keeps_invoices_queued_until_new_credentials(self):
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        self.sim.revoke_token(self.token)
        self.sim.auth.expire_all_tokens()
        self.env["l10n_pl_ksef.session"].sudo().search([]).write({"state": "closed"})
        self.run_cron()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "to_send")
        self.assertTrue(document.reason)
        # a credential error waits half an hour ...
        self.assertGreater(document.next_try, fields.Datetime.now() + datetime.timedelta(minutes=20))
        # another invoice waits because KSeF asked to (429 Retry-After): no error of ours, it keeps its wait
        held = self.invoice()
        held._l10n_pl_ksef_queue()
        retry_after = fields.Datetime.now() + datetime.timedelta(minutes=2)
        held.l10n_pl_ksef_document_id.sudo().write({"next_try": retry_after, "last_error": False})
        token = self.sim.mint_token(TEST_NIP, ("InvoiceWrite",))
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.setup_wizard(auth_method="token", token=token).action_save_credentials()
        # ... unless new credentials come: then the queue goes at once, without waiting for the cron's turn
        self.assertFalse(document.next_try)
        self.assertEqual(held.l10n_pl_ksef_document_id.next_try, retry_after)
        new_triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertTrue(new_triggers)
        self.assertLessEqual(min(new_triggers.mapped("call_at")), fields.Datetime.now())
        self.Document._cron_l10n_pl_ksef_send()
        self.assertEqual(document.state, "accepted")

    def test_a_second_worker_sends_nothing_while_the_first_is_sending(self):
        move = self.invoice()
        move._l10n_pl_ksef_queue()
        # another worker holds the company's sending lock (its own database connection)
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(other.close)
        other.execute("SELECT pg_advisory_lock(%s, %s)", (0x4B534E44, self.company.id))
        result = self.Document._l10n_pl_ksef_run(self.company)
        self.assertTrue(result["busy"])
        self.assertEqual(move.l10n_pl_ksef_state, "to_send")
        # the cron finding the company busy comes back in a while, not at once (it would spin meanwhile)
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
        self.assertTrue(self.Document._cron_l10n_pl_ksef_send()[self.company.id]["busy"])
        calls = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertTrue(calls)
        self.assertGreaterEqual(min(calls), fields.Datetime.now() + datetime.timedelta(seconds=9))
        other.execute("SELECT pg_advisory_unlock(%s, %s)", (0x4B534E44, self.company.id))
        self.run_cron()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        with self.assertRaises(UserError):
            move.action_l10n_pl_ksef_send()
        self.assertEqual(len(self.stored_numbers_of(move.name)), 1)

    def test_named_token_is_the_sender_also_from_the_cron(self):
        named = self.sim.mint_token(TEST_NIP, ("InvoiceWrite",), description="Anna")
        self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_set(self.accountant, self.company, named)
        self.company.l10n_pl_ksef_send_mode = "auto"
        # the accountant confirms the invoice; the cron sends it later under his named token
        move = self.invoice(post=False)
        move.with_user(self.accountant).action_post()
        self.run_cron()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "accepted")
        self.assertEqual(document.session_id.user_token_id.user_id, self.accountant)
        self.company.l10n_pl_ksef_send_mode = "manual"
        own = self.invoice()
        own.action_l10n_pl_ksef_send()
        self.assertFalse(own.l10n_pl_ksef_document_id.session_id.user_token_id, "others use the company's credential")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSendAndPrint(L10nPlKsefSendCommon):
    def wizard(self, move):
        return (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({})
        )

    def test_send_and_print_sends_before_the_pdf_is_made(self):
        move = self.invoice()
        wizard = self.wizard(move)
        self.assertIn("l10n_pl_ksef", wizard.extra_edis, "the KSeF option is on by default")
        self.assertNotIn("pl_ksef", wizard.extra_edis or [], "one KSeF choice: Odoo's own option is not offered")
        wizard.action_send_and_print()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertTrue(move.l10n_pl_ksef_number)
        self.assertTrue(move.invoice_pdf_report_id, "the PDF is made after the KSeF number exists")
        self.assertFalse(self.wizard(move).extra_edis and "l10n_pl_ksef" in self.wizard(move).extra_edis)

    def test_invoice_before_the_start_date_gets_no_ksef_option(self):
        self.company.l10n_pl_ksef_start_date = datetime.date(2026, 11, 21)
        move = self.invoice()
        self.assertNotIn("l10n_pl_ksef", self.wizard(move).extra_edis or [])

    def test_company_without_this_addon_keeps_odoo_own_option(self):
        if "_l10n_pl_edi_download_bills_from_ksef" not in dir(self.env["account.move"]):
            self.skipTest("l10n_pl_edi is not installed")
        send = self.env["account.move.send"]
        move = self.invoice()
        odoo_edi = send._get_all_extra_edis()["pl_ksef"]
        self.assertFalse(odoo_edi["is_applicable"](move), "our company: Odoo's KSeF option is off")
        self.company.l10n_pl_ksef_active = False
        expected = move.company_id.country_code == "PL" and bool(move.company_id.l10n_pl_edi_register)
        self.assertEqual(bool(send._get_all_extra_edis()["pl_ksef"]["is_applicable"](move)), expected)
        self.company.l10n_pl_ksef_active = True
        arch = etree.fromstring(self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"])
        (odoo_setting,) = arch.xpath("//setting[@id='l10n_pl_edi_register']")
        self.assertEqual(odoo_setting.get("invisible"), "l10n_pl_ksef_active", "one KSeF choice in Settings")
        # l10n_pl_edi's download of bills does nothing for our company (no second copy of each bill)
        self.assertIs(
            self.env["account.move"].with_company(self.company)._l10n_pl_edi_download_bills_from_ksef(), False
        )
