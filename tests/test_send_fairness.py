"""Many companies in one database (an accounting office): every company with work gets its turn, in
round-robin order, and a company whose KSeF fails never holds up the others."""

import datetime
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.tests import tagged
from odoo.tools import config

from ..models.l10n_pl_ksef_document_send import SEND_LOCK
from .common import OTHER_NIP, TEST_NIP
from .send_common import L10nPlKsefSendCommon

#: a third valid NIP
THIRD_NIP = "5213450008"
SEND = "/sessions/online/*/invoices"


def valid_nips(count):
    """``count`` valid NIPs (their check digit right), none of the tests' own."""
    found = []
    for base in range(222000000, 223000000, 7):
        digits = [int(c) for c in str(base)]
        check = sum(w * d for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), digits, strict=True)) % 11
        if check < 10:
            found.append("%d%d" % (base, check))
        if len(found) == count:
            return found


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSendFairness(L10nPlKsefSendCommon):
    # ------------------------------------------------------------------ helpers

    def sending_company(self, nip, name):
        """Another company sending to the same simulator with a token of its own; returns (company, journal, tax)."""
        data = self.setup_other_company(name=name)
        company = data["company"]
        poland = self.env.ref("base.pl").id
        company.write(
            {
                "country_id": poland,
                "account_fiscal_country_id": poland,
                "vat": "PL%s" % nip,
                "street": "ul. Biurowa 1",
                "city": "Warszawa",
                "zip": "00-001",
                "l10n_pl_ksef_active": True,
                "l10n_pl_ksef_send_mode": "manual",
            }
        )
        token = self.sim.mint_token(nip, ("InvoiceWrite", "InvoiceRead"))
        self.setup_wizard(company=company, auth_method="token", token=token).action_save_credentials()
        tax = self.env["account.chart.template"].with_company(company).ref("vs_kraj_23", raise_if_not_found=False)
        if not tax:  # without l10n_pl (the generic chart): a Polish 23% rate of the company's own
            tax = self.env["account.tax"].create(
                {
                    "name": "VAT 23% (test)",
                    "amount": 23,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": company.id,
                    "country_id": poland,
                    "tax_group_id": self.env["account.tax.group"].create({"name": "VAT", "company_id": company.id}).id,
                    "l10n_pl_ksef_rate_code": "23",
                }
            )
        return company, data["default_journal_sale"], tax

    def queue(self, count, company=None, journal=None, tax=None):
        """``count`` posted invoices of ``company`` (default: the test company) queued for KSeF."""
        if company is None:
            moves = self.invoices(count)
        else:
            moves = (
                self.env["account.move"]
                .with_company(company)
                .create(
                    [
                        {
                            "move_type": "out_invoice",
                            "journal_id": journal.id,
                            "partner_id": self.buyer_pl.id,
                            "invoice_date": datetime.date(2026, 11, 20),
                            "invoice_date_due": datetime.date(2026, 12, 4),
                            # unique in the simulator, which lives as long as the class (440 for a number twice)
                            "name": "FV/%s/%06d" % (self.id().rsplit(".", 1)[-1][-20:], next(self.numbers)),
                            "invoice_line_ids": [self.line(price=100.0 + i, tax_ids=[fields.Command.set(tax.ids)])],
                        }
                        for i in range(count)
                    ]
                )
            )
            moves.action_post()
        moves._l10n_pl_ksef_queue()
        return moves

    def turn(self, company):
        return self.env["l10n_pl_ksef.send.turn"].sudo().search([("company_id", "=", company.id)])

    def short_cron_runs(self):
        """The cron job's budget: 0.8 x 5 s (Odoo's real-time limit of cron workers)."""
        return patch.dict(config.options, {"limit_time_real_cron": 5})

    # ------------------------------------------------------------------ tests

    def test_a_failing_company_never_holds_up_the_others(self):
        """KSeF answers 500 to one company and 429 to another: the third company's invoices are accepted in the
        same run, though it comes last; the two failing ones wait (a back-off, the Retry-After) without being
        looked at again meanwhile, and the cron sleeps until then."""
        broken, broken_journal, broken_tax = self.sending_company(OTHER_NIP, "Awaria Sp. z o.o.")
        limited, limited_journal, limited_tax = self.sending_company(THIRD_NIP, "Limit Sp. z o.o.")
        healthy = self.queue(3)
        failing = self.queue(2, broken, broken_journal, broken_tax)
        waiting = self.queue(2, limited, limited_journal, limited_tax)
        # the healthy company was served a moment ago: the failing ones come first
        self.env["l10n_pl_ksef.send.turn"].sudo()._l10n_pl_ksef_serve(self.company, fields.Datetime.now())
        self.assertEqual(
            self.Document._l10n_pl_ksef_companies_with_work().ids, [broken.id, limited.id, self.company.id]
        )
        self.sim.faults.error("*", status=500, count=None, context=OTHER_NIP)
        self.sim.faults.error("*", status=429, count=None, retry_after=120, context=THIRD_NIP)
        before = fields.Datetime.now()

        results = self.Document._cron_l10n_pl_ksef_send()

        self.assertEqual(set(healthy.mapped("l10n_pl_ksef_state")), {"accepted"})
        self.assertEqual(sum(len(self.stored_numbers_of(name)) for name in healthy.mapped("name")), 3, "each sent once")
        self.assertTrue(results[broken.id]["error"])
        self.assertFalse(set(failing.mapped("l10n_pl_ksef_state")) & {"accepted", "rejected"})
        self.assertEqual(set(waiting.mapped("l10n_pl_ksef_state")), {"to_send"})
        self.assertEqual(self.turn(broken).failures, 1)
        self.assertGreater(self.turn(broken).not_before, before, "the failing company backs off")
        self.assertGreaterEqual(self.turn(limited).not_before, before + datetime.timedelta(seconds=100))
        self.assertEqual(self.turn(limited).failures, 0, "a 429 is KSeF's wish, not a failure")
        # the next run does not look at them before their time; the cron sleeps until the first of them
        again = self.Document._cron_l10n_pl_ksef_send()
        self.assertNotIn(broken.id, again)
        self.assertNotIn(limited.id, again)
        self.assertGreaterEqual(self.Document._l10n_pl_ksef_wake_up(), self.turn(broken).not_before)
        # a second failure doubles the wait; KSeF answering again ends it
        # (its time comes: its back-off and its invoices' waits are over)
        self.turn(broken).write({"not_before": fields.Datetime.now() - datetime.timedelta(seconds=1)})
        failing.l10n_pl_ksef_document_id.sudo().write({"next_try": False})
        self.Document._cron_l10n_pl_ksef_send()
        self.assertEqual(self.turn(broken).failures, 2)
        self.assertGreater(self.turn(broken).not_before, fields.Datetime.now() + datetime.timedelta(seconds=50))
        self.sim.faults.clear()
        self.run_cron()
        self.assertEqual(set(failing.mapped("l10n_pl_ksef_state")), {"accepted"})
        self.assertEqual(set(waiting.mapped("l10n_pl_ksef_state")), {"accepted"})
        self.assertEqual(self.turn(broken).failures, 0)
        self.assertFalse(self.turn(broken).not_before)

    def test_companies_take_turns_when_a_run_cannot_serve_them_all(self):
        """A run whose time ends after one company leaves the others for the next run, and the next run starts
        with the company waiting longest, not with the first one again (it still has invoices queued)."""
        second, second_journal, second_tax = self.sending_company(OTHER_NIP, "Druga Sp. z o.o.")
        third, third_journal, third_tax = self.sending_company(THIRD_NIP, "Trzecia Sp. z o.o.")
        first_moves = self.queue(4)
        self.queue(2, second, second_journal, second_tax)
        self.queue(2, third, third_journal, third_tax)
        served = []
        with self.short_cron_runs():
            # KSeF is slow on the first invoice of the first company: the run's time is up after it
            self.sim.faults.delay(SEND, 5, method="POST", context=TEST_NIP)
            served.append(list(self.Document._cron_l10n_pl_ksef_send()))
            self.assertIn("to_send", first_moves.mapped("l10n_pl_ksef_state"), "the first company has more queued")
            self.sim.faults.delay(SEND, 5, method="POST", context=OTHER_NIP)
            served.append(list(self.Document._cron_l10n_pl_ksef_send()))
            served.append(list(self.Document._cron_l10n_pl_ksef_send())[:1])
        self.assertEqual(served, [[self.company.id], [second.id], [third.id]])

    def test_idle_companies_cost_no_query_each(self):
        """The cron's look at companies with nothing to send is one query for all of them."""

        def cron_queries():
            self.Document._cron_l10n_pl_ksef_send()  # caches warm
            before = self.cr.sql_log_count
            results = self.Document._cron_l10n_pl_ksef_send()
            self.assertEqual(results, {})
            return self.cr.sql_log_count - before

        few = cron_queries()
        self.env["res.company"].create(
            [
                {"name": "Klient biura %d" % i, "vat": "PL%s" % nip, "l10n_pl_ksef_active": True}
                for i, nip in enumerate(valid_nips(8))
            ]
        )
        self.assertEqual(cron_queries(), few)
        self.assertLessEqual(few, 3)

    def test_a_second_cron_worker_takes_companies_too(self):
        """With several companies waiting, the first lane of the sending calls the second one (another cron
        worker, maybe of another server); with one company waiting, it does not."""
        second, second_journal, second_tax = self.sending_company(OTHER_NIP, "Druga Sp. z o.o.")
        main = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        lane = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send_2")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "in", (main + lane).ids)]).unlink()
        mine = self.queue(1)
        self.Document.with_context(cron_id=main.id)._cron_l10n_pl_ksef_send()
        self.assertEqual(mine.l10n_pl_ksef_state, "accepted")
        self.assertFalse(Trigger.search([("cron_id", "=", lane.id)]), "one company: one worker is enough")
        mine = self.queue(1)
        theirs = self.queue(1, second, second_journal, second_tax)
        self.Document.with_context(cron_id=main.id)._cron_l10n_pl_ksef_send()
        self.assertTrue(Trigger.search([("cron_id", "=", lane.id)]), "the second lane is called")
        self.assertEqual(mine.l10n_pl_ksef_state, "accepted")
        self.assertEqual(theirs.l10n_pl_ksef_state, "accepted")

    def test_a_company_busy_in_another_worker_delays_no_other_company(self):
        """Another worker is sending for one company (it holds its lock): the cron looks at that company again in
        a while, but the other company's work, due again in a few seconds (KSeF's Retry-After), wakes the cron at
        its own time, not after the busy company's wait."""
        second, journal, tax = self.sending_company(OTHER_NIP, "Druga Sp. z o.o.")
        self.queue(1)
        theirs = self.queue(1, second, journal, tax)
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        self.addCleanup(other.close)
        other.execute("SELECT pg_advisory_lock(%s, %s)", (SEND_LOCK, self.company.id))
        self.addCleanup(other.execute, "SELECT pg_advisory_unlock(%s, %s)", (SEND_LOCK, self.company.id))
        # longer than the cron waits within a turn (KSeF's per-second limit): the company's turn ends
        self.sim.faults.error(SEND, status=429, retry_after=3, method="POST", context=OTHER_NIP)
        main = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", main.id)]).unlink()
        before = fields.Datetime.now()

        # run as the first lane (it calls the second one, not itself)
        results = self.Document.with_context(cron_id=main.id)._cron_l10n_pl_ksef_send()

        self.assertTrue(results[self.company.id]["busy"])
        self.assertEqual(results[second.id]["error_code"], "rate_limited")
        self.assertEqual(theirs.l10n_pl_ksef_state, "to_send")
        calls = sorted(Trigger.search([("cron_id", "=", main.id)]).mapped("call_at"))
        self.assertLessEqual(calls[0], before + datetime.timedelta(seconds=7), "woken for the other company's retry")
        self.assertGreaterEqual(calls[-1], before + datetime.timedelta(seconds=9), "the busy company in a while")

    def test_the_second_lane_wakes_itself_while_work_is_due(self):
        """A run of the second lane that leaves work due (a Retry-After) triggers that lane again too, not only the
        first one, which may be busy with other companies for a long while: no lane stays idle while work waits."""
        main = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send")
        lane = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_send_2")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "in", (main + lane).ids)]).unlink()
        mine = self.queue(1)
        self.sim.faults.error(SEND, status=429, retry_after=3, method="POST", context=TEST_NIP)

        self.Document.with_context(cron_id=lane.id)._cron_l10n_pl_ksef_send()

        self.assertEqual(mine.l10n_pl_ksef_state, "to_send")
        self.assertTrue(Trigger.search([("cron_id", "=", lane.id)]), "the second lane comes back by itself")
        self.assertTrue(Trigger.search([("cron_id", "=", main.id)]))
        self.sim.faults.clear()
        self.run_cron()
        self.assertEqual(mine.l10n_pl_ksef_state, "accepted")

    def test_a_short_retry_after_ends_the_turn_while_other_companies_wait(self):
        """KSeF's per-second limit on a company with others after it in the cron's list: its turn ends there
        and the others go first (the lane does not sleep meanwhile); the last company of the list waits the
        second out and sends the rest of its queue."""
        second, journal, tax = self.sending_company(OTHER_NIP, "Druga Sp. z o.o.")
        mine = self.queue(2)
        theirs = self.queue(2, second, journal, tax)
        # the other company was served a moment ago: the test company comes first
        self.env["l10n_pl_ksef.send.turn"].sudo()._l10n_pl_ksef_serve(second, fields.Datetime.now())
        self.sim.faults.error(SEND, status=429, retry_after=1, method="POST", skip=1, context=TEST_NIP)
        self.sim.faults.error(SEND, status=429, retry_after=1, method="POST", skip=1, context=OTHER_NIP)

        results = self.Document._cron_l10n_pl_ksef_send()

        self.assertEqual(list(results), [self.company.id, second.id])
        self.assertEqual(results[self.company.id]["error_code"], "rate_limited")
        self.assertEqual(sorted(mine.mapped("l10n_pl_ksef_state")), ["processing", "to_send"])
        self.assertFalse(results[second.id]["error_code"], "the last company of the list waits the second out")
        self.assertEqual(set(theirs.mapped("l10n_pl_ksef_state")), {"accepted"})
        self.run_cron()
        self.assertEqual(set(mine.mapped("l10n_pl_ksef_state")), {"accepted"})
