"""Two actors on one KSeF document: the sender and a user (reset to draft, issue offline, a number typed by
hand), the cron and a click. Each change of state is claimed in the database, so only one of them wins; and
each step leaves its line in the invoice's chatter."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen
from odoo.addons.l10n_pl_ksef.ksef_core.client import KsefClient
from odoo.addons.l10n_pl_ksef.ksef_core.client.online import OnlineSessions
from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_document import IllegalTransition

from .common import TEST_NIP, b64
from .send_common import L10nPlKsefSendCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSendClaims(L10nPlKsefSendCommon):
    # ------------------------------------------------------------------ helpers

    def while_sending(self, document, action):
        """Run ``action`` once KSeF has taken ``document`` in an online session, before the sender goes on
        (its answer comes late: the sender waits for it while the user acts)."""
        original = OnlineSessions.send

        def send(api, session, xml, own_id=None, **kwargs):
            result = original(api, session, xml, own_id=own_id, **kwargs)
            if own_id == document.id:
                action()
            return result

        self.sim.faults.delay("/sessions/online/*/invoices", seconds=0.3, method="POST", after=True, count=1)
        return patch.object(OnlineSessions, "send", send)

    def behind_the_orm(self, document, state):
        """``document`` moved to ``state`` by another transaction that committed: the database has it, while
        this transaction's ORM cache still holds what it read before."""
        self.env.flush_all()
        self.env.cr.execute("UPDATE l10n_pl_ksef_document SET state = %s WHERE id = %s", (state, document.id))

    def notes(self, move):
        """The bodies of the invoice's chatter lines, oldest first."""
        return [message.body for message in move.message_ids.sorted("id")]

    def lines_with(self, move, text):
        return [body for body in self.notes(move) if text in (body or "")]

    # ------------------------------------------------------------------ withdrawn invoices are never sent

    def test_invoice_reset_to_draft_while_the_cron_sends_never_reaches_ksef(self):
        """The cron's run reads the queue (A, then B), sends A and waits for KSeF's late answer; meanwhile the
        accountant resets B to draft and that commits. B must not reach KSeF, and stays a draft without a
        KSeF number; confirmed again with other contents, it is sent with those.

        Deterministic rendering of the race: Odoo's tests run in one transaction, so the accountant's reset
        runs (the real ``button_draft``, as the accountant) at the exact moment the sender waits for A's
        answer, after the run has read B as queued and before it comes to B. The sender then holds a B it
        read as ``to_send``: it must ask the database (claim), not write ``sending`` over whatever is there.
        (That it asks the database and not its own cache is proven by
        ``test_claim_reads_the_database_not_the_cache``.)"""
        first, last = self.invoices(2)
        documents, _problems = (first | last)._l10n_pl_ksef_queue()
        first_document = documents.filtered(lambda d: d.move_id == first)
        last_document = documents.filtered(lambda d: d.move_id == last)

        with self.while_sending(first_document, lambda: last.with_user(self.accountant).button_draft()):
            self.run_cron()

        self.assertEqual(first.l10n_pl_ksef_state, "accepted")
        self.assertEqual(self.stored_numbers_of(last.name), [], "the withdrawn invoice never reaches KSeF")
        self.assertEqual(last.state, "draft")
        self.assertEqual(last_document.state, "cancelled")
        self.assertFalse(last.l10n_pl_ksef_state)
        self.assertFalse(last.l10n_pl_ksef_number)
        self.assertFalse(last_document.sent_date, "not even attempted")
        # edited and confirmed again: KSeF gets the new contents, once
        last.invoice_line_ids[0].price_unit += 1000.0
        last.action_post()
        last.action_l10n_pl_ksef_send()
        self.assertEqual(last.l10n_pl_ksef_state, "accepted")
        self.assertEqual(self.stored_numbers_of(last.name), [last.l10n_pl_ksef_number])
        self.assertIn("1101", last.l10n_pl_ksef_document_id.xml, "the confirmed contents are what KSeF holds")

    def test_invoice_reset_to_draft_before_the_batch_leaves_is_not_in_it(self):
        """The batch path (from ``l10n_pl_ksef.batch_threshold`` invoices): the run has read the queue and asks
        Latarnia whether KSeF is up; the accountant resets one invoice to draft meanwhile (same rendering of
        the race as above). The batch carries the others, not that one."""
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.batch_threshold", "3")
        moves = self.invoices(4)
        moves._l10n_pl_ksef_queue()
        withdrawn = moves[-1]
        original = KsefClient.latarnia_status

        def latarnia_status(client):
            withdrawn.with_user(self.accountant).button_draft()
            return original(client)

        with patch.object(KsefClient, "latarnia_status", latarnia_status):
            self.run_cron()
        for _attempt in range(5):
            if "processing" not in (moves - withdrawn).mapped("l10n_pl_ksef_state"):
                break
            self.run_cron()
        self.assertEqual((moves - withdrawn).l10n_pl_ksef_document_id.session_id.kind, "batch")
        self.assertEqual(set((moves - withdrawn).mapped("l10n_pl_ksef_state")), {"accepted"})
        self.assertEqual(self.stored_numbers_of(withdrawn.name), [])
        self.assertEqual(len(self.lines_with(moves[0], "Sent to KSeF in batch session")), 1)
        self.assertFalse(self.lines_with(withdrawn, "Sent to KSeF"))
        self.assertEqual(withdrawn.state, "draft")
        self.assertFalse(withdrawn.l10n_pl_ksef_number)

    def test_claim_reads_the_database_not_the_cache(self):
        """The user's withdrawal committed in another transaction: this one's cache still says "queued". The
        sender's claim sees the database, claims nothing, and the invoice is not sent."""
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        self.assertEqual(document.state, "to_send")
        self.behind_the_orm(document, "cancelled")
        self.assertEqual(document.state, "to_send", "the cache still holds the old state")
        claimed = document._l10n_pl_ksef_claim("to_send", "sending")
        self.assertFalse(claimed)
        self.assertEqual(document.state, "cancelled", "read afresh from the database")
        document.sudo()._l10n_pl_ksef_send_online(
            self.company.sudo()._l10n_pl_ksef_client(),
            self.company,
            self.env["l10n_pl_ksef.user.token"],
            self.Document._l10n_pl_ksef_empty_result(),
        )
        self.assertEqual(self.stored_numbers_of(move.name), [])

    # ------------------------------------------------------------------ the state table

    def test_claim_from_a_wrong_state_is_refused(self):
        """A late answer never undoes a decision: an accepted document is not rejected, nor queued again, and
        no code writes a state outside the claim."""
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "accepted")
        # legal move, but the document is no longer where the caller thinks: nothing happens
        self.assertFalse(document._l10n_pl_ksef_claim(("processing",), "rejected", {"status_code": 450}))
        self.assertFalse(document._l10n_pl_ksef_reject("late", "późno", code=450))
        self.assertEqual(document.state, "accepted")
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertFalse(document.status_code == 450)
        # a move the table does not allow is a programming error, refused before touching anything
        with self.assertRaises(IllegalTransition), self.assertLogs("odoo.addons.l10n_pl_ksef", "ERROR"):
            document._l10n_pl_ksef_claim("accepted", "to_send")
        with self.assertRaises(IllegalTransition):
            document._l10n_pl_ksef_set({"state": "to_send"})
        self.assertEqual(document.state, "accepted")

    # ------------------------------------------------------------------ reset to draft, confirming again

    def test_reset_to_draft_refused_once_the_invoice_left(self):
        """Accepted: only a correction invoice changes it. Being sent or processed: wait for KSeF. And when the
        sender took the invoice a moment before the user's click (this transaction still saw it queued), the
        reset is refused too instead of leaving a draft that KSeF receives."""
        accepted = self.invoice()
        accepted.action_l10n_pl_ksef_send()
        with self.assertRaisesRegex(UserError, "correction invoice"):
            accepted.with_user(self.accountant).button_draft()
        self.assertEqual(accepted.state, "posted")

        processing = self.invoice()
        processing._l10n_pl_ksef_queue()
        processing.l10n_pl_ksef_document_id.sudo().write({"state": "processing"})
        with self.assertRaisesRegex(UserError, "with KSeF right now"):
            processing.with_user(self.accountant).button_draft()

        taken = self.invoice()
        document, _problems = taken._l10n_pl_ksef_queue()
        self.behind_the_orm(document, "sending")
        self.assertEqual(taken.l10n_pl_ksef_state, "to_send", "the user's screen still says queued")
        with self.assertRaisesRegex(UserError, "left for KSeF a moment ago"):
            taken.with_user(self.accountant).button_draft()
        self.assertEqual(taken.state, "posted")
        self.assertEqual(document.state, "sending")

    def test_a_draft_whose_invoice_ksef_holds_cannot_be_confirmed_again(self):
        """Left by the old race (a draft with an accepted document): confirming it again with other contents
        would keep a KSeF number whose file differs from the invoice. It is refused."""
        move = self.invoice()
        move.action_l10n_pl_ksef_send()
        number = move.l10n_pl_ksef_number
        self.env.flush_all()
        self.env.cr.execute("UPDATE account_move SET state = 'draft' WHERE id = %s", (move.id,))
        move.invalidate_recordset(["state"])
        with self.assertRaisesRegex(UserError, "cannot be confirmed again.*%s" % number):
            move.action_post()
        self.assertEqual(move.state, "draft")

    # ------------------------------------------------------------------ the other actors

    def test_offline_switch_after_the_sender_took_the_invoice_is_refused(self):
        """The accountant chose *Issue offline24* on an invoice the sender has just taken online: it is not
        marked offline (its PDF would carry OFFLINE codes for an invoice sent online)."""
        certificate = certgen.make_test_certificate(nip=TEST_NIP, seal=True, usage="Offline")
        self.setup_wizard(
            auth_method="token",
            token=self.token,
            offline_certificate_file=b64(certificate.to_pkcs12("pw")),
            offline_password="pw",
        ).action_save_credentials()
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        self.behind_the_orm(document, "sending")
        with self.assertRaisesRegex(UserError, "went to KSeF online meanwhile"):
            move.action_l10n_pl_ksef_issue_offline()
        self.assertEqual(document.invoicing_mode, "online")

    # ------------------------------------------------------------------ the audit trail

    def test_chatter_says_who_queued_when_sent_and_what_ksef_answered(self):
        move = self.invoice()
        move.with_user(self.accountant).action_l10n_pl_ksef_send()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.lines_with(move, "Queued for KSeF by %s" % self.accountant.name)), 1)
        sent = "Sent to KSeF in online session %s" % document.session_id.reference
        self.assertEqual(len(self.lines_with(move, sent)), 1)
        self.assertEqual(len(self.lines_with(move, "Accepted by KSeF with number %s" % move.l10n_pl_ksef_number)), 1)
        upo_lines = move.message_ids.filtered(lambda m: "UPO" in (m.body or ""))
        self.assertEqual(len(upo_lines), 1)
        self.assertEqual(upo_lines.attachment_ids, document.upo_attachment_id, "the UPO opens from the chatter")
        notes = self.notes(move)
        order = [
            next(i for i, body in enumerate(notes) if text in (body or ""))
            for text in ("Queued for KSeF", "Sent to KSeF", "Accepted by KSeF", "UPO")
        ]
        self.assertEqual(order, sorted(order), "the lines follow the steps")
        ksef_lines = move.message_ids.filtered(lambda m: "KSeF" in (m.body or ""))
        note = self.env.ref("mail.mt_note")
        self.assertEqual(ksef_lines.subtype_id, note, "internal notes")
        self.assertFalse(ksef_lines.notification_ids, "nobody is notified, no e-mail")
        for body in notes:
            self.assertNotIn(self.token, body or "", "no secret in the chatter")

    def test_chatter_says_why_ksef_rejected(self):
        move = self.invoice()
        documents, _problems = move._l10n_pl_ksef_queue()
        documents.sudo().xml = documents.xml.replace("<P_2>", "<P_2x>").replace("</P_2>", "</P_2x>")
        self.run_cron()
        document = move.l10n_pl_ksef_document_id
        self.assertEqual(document.state, "rejected")
        lines = self.lines_with(move, "Rejected by KSeF (code %s)" % document.status_code)
        self.assertEqual(len(lines), 1)
        self.assertIn(document.reason_en[:40], lines[0])

    def test_chatter_says_who_withdrew_the_invoice(self):
        move = self.invoice()
        move.with_user(self.accountant)._l10n_pl_ksef_queue()
        move.with_user(self.accountant).button_draft()
        self.assertEqual(len(self.lines_with(move, "Withdrawn from the KSeF queue by %s" % self.accountant.name)), 1)
        self.assertFalse(self.lines_with(move, "Sent to KSeF"))

    def test_chatter_of_a_run_is_logged_for_each_invoice(self):
        moves = self.invoices(3)
        moves._l10n_pl_ksef_queue()
        self.run_cron()
        for move in moves:
            self.assertEqual(move.l10n_pl_ksef_state, "accepted")
            self.assertEqual(len(self.lines_with(move, "Sent to KSeF")), 1, move.name)
            self.assertEqual(len(self.lines_with(move, "Accepted by KSeF")), 1, move.name)
