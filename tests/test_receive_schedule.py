import datetime
import logging
from decimal import Decimal as D
from unittest.mock import patch

from odoo import fields, sql_db
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.models import res_company_ksef_receive as receive_module
from odoo.addons.l10n_pl_ksef.models import res_company_ksef_receive_sync as sync_module

from .common import TEST_NIP
from .test_receive import ReceiveCommon, fa3, line

#: a third valid NIP: a second company receiving from KSeF
THIRD_NIP = "5213450008"
MINUTE = datetime.timedelta(minutes=1)


def to_buyer(xml, nip):
    """The same FA(3) invoice addressed to ``nip`` instead of the test company."""
    return xml.replace(b"<NIP>%s</NIP>" % TEST_NIP.encode(), b"<NIP>%s</NIP>" % nip.encode())


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveSchedule(ReceiveCommon):
    """When companies are checked, what one failing company or invoice costs the others, and resets."""

    # ------------------------------------------------------------------ helpers

    def cron(self):
        return self.env["res.company"]._cron_l10n_pl_ksef_receive()

    def all_bills(self, numbers):
        return self.env["account.move"].search([("l10n_pl_ksef_number", "in", numbers)])

    def queue(self, now=None):
        return self.env["res.company"]._l10n_pl_ksef_receive_queue(now)

    def receiving_company(self, nip=THIRD_NIP, name="Druga Sp. z o.o."):
        """Another company receiving from the simulator with a token of its own, reading KSeF from now."""
        data = self.setup_other_company(name=name)
        company = data["company"]
        poland = self.env.ref("base.pl").id
        company.write(
            {
                "country_id": poland,
                "account_fiscal_country_id": poland,
                "vat": "PL%s" % nip,
                "l10n_pl_ksef_active": True,
            }
        )
        token = self.sim.mint_token(nip, ("InvoiceRead",))
        self.setup_wizard(company=company, auth_method="token", token=token).action_save_credentials()
        company.write(
            {"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": data["default_journal_purchase"].id}
        )
        self.set_position(company, self.sim.clock.now())
        return company

    def czk_invoice(self):
        """An invoice in CZK: it cannot become a bill while the currency is inactive."""
        return fa3([line("Sklo", "1", "100", "23", exchange_rate=D("0.17"))], currency="CZK", exchange_rate=D("0.17"))

    # ------------------------------------------------------------------ one company's trouble is its own

    def test_revoked_token_of_one_company_does_not_hold_back_another(self):
        other = self.receiving_company()
        mine = self.seed(fa3([line("Papier", "1", "10", "23")]))
        theirs = self.seed(to_buyer(fa3([line("Toner", "1", "200", "23")]), THIRD_NIP))
        self.sim.revoke_token(self.token)
        self.sim.auth.invalidate_access_tokens(TEST_NIP)
        before = fields.Datetime.now()
        results = self.run_cron()
        self.assertEqual(set(results), {self.company.id, other.id})
        self.assertEqual(self.bills(theirs).company_id, other, "the other company gets its bill")
        self.assertFalse(self.bills(mine))
        self.assertIn("KSeF could not be read", self.result_text())
        # Odoo calls the cron again while companies are due: the failing one is left alone for now
        self.assertNotIn(self.company, self.queue())
        self.assertNotIn(self.company.id, self.cron())
        self.assertGreaterEqual(self.state().next_attempt, before + 30 * MINUTE - MINUTE)
        # after half an hour it is tried again; failing again, it waits longer
        self.time_passes(31 * MINUTE)
        self.assertIn(self.company.id, self.cron())
        self.assertGreaterEqual(self.state().next_attempt, fields.Datetime.now() + 60 * MINUTE - MINUTE)
        self.assertFalse(self.bills(mine))

    def test_a_second_cron_worker_imports_when_several_companies_are_due(self):
        """Two companies due: the import's first lane calls its second one (another cron worker, maybe of
        another server, takes companies too); one company due: it does not."""
        main = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive")
        lane = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_receive_2")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "in", (main + lane).ids)]).unlink()
        self.state().next_attempt = False
        self.env["res.company"].with_context(cron_id=main.id)._cron_l10n_pl_ksef_receive()
        self.assertFalse(Trigger.search([("cron_id", "=", lane.id)]), "one company: one worker is enough")
        other = self.receiving_company()
        self.state().next_attempt = False
        self.state(other).next_attempt = False
        results = self.env["res.company"].with_context(cron_id=main.id)._cron_l10n_pl_ksef_receive()
        self.assertTrue(Trigger.search([("cron_id", "=", lane.id)]), "the second lane is called")
        self.assertEqual(set(results), {self.company.id, other.id})

    def test_rate_limit_postpones_the_company_until_retry_after(self):
        number = self.seed(fa3([line("Koperty", "100", "0.30", "23")]))
        cron = self.env.ref(receive_module.CRON_XMLID)
        cron.nextcall = fields.Datetime.now() + datetime.timedelta(hours=1)
        self.sim.faults.error("/invoices/exports", status=429, count=None, retry_after=900)
        before = fields.Datetime.now()
        self.run_cron()
        self.assertFalse(self.bills(number))
        self.assertIn("KSeF could not be read", self.result_text())
        next_attempt = self.state().next_attempt
        self.assertGreaterEqual(next_attempt, before + 15 * MINUTE)
        self.assertNotIn(self.company, self.queue(next_attempt - MINUTE))
        self.assertIn(self.company, self.queue(next_attempt))
        # the cron wakes itself up then, before its next hourly run
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id), ("call_at", "=", next_attempt)]))
        self.sim.faults.clear()
        self.time_passes(16 * MINUTE)
        self.cron()
        self.assertEqual(len(self.bills(number)), 1)

    def test_more_invoices_than_one_run_takes_continue_in_the_next_cron_call(self):
        numbers = [self.seed(fa3([line("Zeszyt", "1", str(10 + i), "23")])) for i in range(3)]
        reported = []

        def progress(_self, processed, remaining):
            reported.append(remaining)
            return float("inf")

        with (
            patch.object(receive_module, "RECEIVE_LIMIT", 2),
            patch.object(type(self.env["res.company"]), "_l10n_pl_ksef_receive_progress", progress),
        ):
            results = self.run_cron()
            self.assertTrue(results[self.company.id]["more"])
            self.assertEqual(len(self.all_bills(numbers)), 2)
            self.assertIn("More invoices are waiting in KSeF", self.result_text())
            self.assertEqual(reported, [1], "the company is still due: Odoo calls the cron again")
            self.assertIn(self.company, self.queue())
            results = self.cron()
        self.assertFalse(results[self.company.id]["more"])
        self.assertEqual(len(self.all_bills(numbers)), 3)
        self.assertEqual(reported, [1, 0], "nothing is due any more: the cron is done")
        self.assertNotIn(self.company, self.queue())

    def test_a_run_starts_no_new_batch_once_its_time_is_up(self):
        numbers = [self.seed(fa3([line("Teczka", "1", str(20 + i), "23")])) for i in range(5)]
        with (
            patch.object(sync_module, "RECEIVE_BATCH", 2),
            patch.object(receive_module, "RECEIVE_SECONDS", 0.0),
        ):
            results = self.run_cron()
            self.assertTrue(results[self.company.id]["more"], "time is up after the first batch")
            self.assertEqual(len(self.all_bills(numbers)), 2, "one batch: a run always makes progress")
            self.assertIn(self.company, self.queue(), "due again at once for the rest")
            for _call in range(2):
                self.cron()
        self.assertEqual(len(self.all_bills(numbers)), 5)
        self.assertNotIn(self.company, self.queue())

    # ------------------------------------------------------------------ settings

    def test_changing_the_interval_takes_effect_at_once(self):
        self.company.l10n_pl_ksef_receive_interval = "4"
        self.run_cron()
        number = self.seed(fa3([line("Spinacze", "10", "2.50", "23")]))
        self.time_passes(datetime.timedelta(hours=1))
        self.assertNotIn(self.company.id, self.cron(), "checked an hour ago, every 4 hours")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.l10n_pl_ksef_receive_interval, "4")
        settings.l10n_pl_ksef_receive_interval = "1"
        settings.execute()
        self.assertIn(self.company.id, self.cron(), "every hour now: the check an hour ago is old enough")
        self.assertEqual(len(self.bills(number)), 1)
        self.company.l10n_pl_ksef_receive_interval = "24"
        self.time_passes(datetime.timedelta(hours=5))
        self.assertNotIn(self.company, self.queue())
        self.time_passes(datetime.timedelta(hours=19))
        self.assertIn(self.company, self.queue())

    def test_switching_environment_starts_that_ksef_from_its_own_position(self):
        self.env.ref("base.CZK").active = False
        number = self.seed(self.czk_invoice())
        self.run_cron()
        self.assertEqual(self.waiting().ksef_number, number)
        position = self.state().sync_state
        self.assertTrue(position)
        self.company.l10n_pl_ksef_auth_method = "certificate"  # another login, the same KSeF: nothing restarts
        self.assertEqual(self.state().sync_state, position)
        self.assertEqual(self.waiting().ksef_number, number)
        self.company.l10n_pl_ksef_environment = "test"
        self.assertFalse(self.state().sync_state, "the position in the simulator means nothing on TEST")
        self.assertEqual(self.waiting().ksef_number, number, "the invoice waiting in the simulator is kept...")
        self.assertFalse(self.waiting().in_current_ksef, "... hidden while TEST is used")
        self.assertEqual(self.company.l10n_pl_ksef_receive_waiting_count, 0)
        self.assertIn("continues where it stopped", self.result_text())
        self.assertIn(self.company, self.queue(), "due at once")
        self.company.l10n_pl_ksef_environment = "custom"
        self.assertEqual(self.state().sync_state, position, "back in the simulator: where it stopped")
        self.assertTrue(self.waiting().in_current_ksef)

    def test_same_nip_cannot_be_received_in_two_companies(self):
        data = self.setup_other_company(name="Kopia Sp. z o.o.")
        twin = data["company"]
        twin.write(
            {
                "country_id": self.env.ref("base.pl").id,
                "vat": "PL%s" % TEST_NIP,
                "l10n_pl_ksef_active": True,
                "l10n_pl_ksef_environment": "custom",
                "l10n_pl_ksef_custom_url": self.simulator.base_url,
            }
        )
        receiving = {
            "l10n_pl_ksef_receive": True,
            "l10n_pl_ksef_receive_journal_id": data["default_journal_purchase"].id,
        }
        with self.assertRaises(ValidationError) as caught:
            twin.write(receiving)
        self.assertIn(self.company.name, str(caught.exception))
        self.assertIn("imported twice", str(caught.exception))
        # the same NIP in another KSeF environment is another set of invoices
        twin.write(dict(receiving, l10n_pl_ksef_environment="test"))
        self.assertTrue(twin.l10n_pl_ksef_receive)
        with self.assertRaises(ValidationError):
            twin.l10n_pl_ksef_environment = "custom"

    # ------------------------------------------------------------------ one import at a time

    def test_company_busy_in_another_transaction_is_skipped_and_nothing_is_written(self):
        number = self.seed(fa3([line("Taśma", "3", "4.20", "23")]))
        self.state().write({"next_attempt": False, "last_result": "before"})
        snapshot = self.state().read(["sync_state", "last_run", "last_result", "next_attempt"])
        # a real second connection (test cursors share one): another worker importing this company
        with sql_db.db_connect(self.env.cr.dbname).cursor() as other_cr:
            other_cr.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", (receive_module.LOCK_NAMESPACE, self.company.id)
            )
            self.assertTrue(other_cr.fetchone()[0])
            results = self.cron()
            action = self.company.with_user(self.accountant).action_l10n_pl_ksef_receive_now()
            other_cr.rollback()
        self.assertEqual(results[self.company.id]["error_code"], "busy")
        self.assertIn("busy", action["params"]["message"])
        self.assertFalse(self.bills(number))
        self.env.invalidate_all()
        self.assertEqual(self.state().read(["sync_state", "last_run", "last_result", "next_attempt"]), snapshot)
        self.cron()  # the other import is over: this one goes ahead
        self.assertEqual(len(self.bills(number)), 1)

    # ------------------------------------------------------------------ invoices waiting

    def test_waiting_invoices_are_retried_a_few_at_a_time_after_their_backoff(self):
        self.env.ref("base.CZK").active = False
        numbers = {self.seed(self.czk_invoice()) for _i in range(5)}
        self.run_cron()
        self.assertEqual(set(self.waiting().mapped("ksef_number")), numbers)
        self.run_cron()  # checked again at once: nothing is downloaded again before its back-off
        self.assertEqual(self.waiting().mapped("attempts"), [1] * 5)
        self.time_passes(31 * MINUTE)
        self.run_cron()
        self.assertEqual(sorted(self.waiting().mapped("attempts")), [1, 1, 2, 2, 2], "3 per run")
        # 31 minutes later the two not retried yet are due, the others wait an hour after their 2nd attempt;
        # KSeF refuses downloads (429): the retries stop, the new invoice still becomes a bill
        self.time_passes(31 * MINUTE)
        fresh = self.seed(fa3([line("Klej", "2", "3.50", "23")]))
        self.sim.faults.error("/invoices/ksef/*", status=429, count=None, retry_after=600)
        self.run_cron()
        self.assertEqual(len(self.bills(fresh)), 1)
        self.assertEqual(sorted(self.waiting().mapped("attempts")), [1, 1, 2, 2, 2])
        self.assertIn("Invoices waiting were not downloaded again", self.result_text())
        self.assertEqual(self.state().outcome, "done", "the company is checked again at its interval")

    def test_waiting_invoice_can_be_tried_again_now_or_dropped(self):
        czk = self.env.ref("base.CZK")
        czk.active = False
        first, second = self.seed(self.czk_invoice()), self.seed(self.czk_invoice())
        self.run_cron()
        elsewhere = self.setup_other_company(name="Obca Sp. z o.o.")["company"]
        self.env["l10n_pl_ksef.receive.failure"]._l10n_pl_ksef_record(elsewhere, "not-ours", "reason")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.l10n_pl_ksef_receive_waiting_count, 2)
        action = settings.with_user(self.accountant).action_l10n_pl_ksef_receive_failures()
        failures = self.env[action["res_model"]].with_user(self.accountant).search(action["domain"])
        self.assertEqual(set(failures.mapped("ksef_number")), {first, second})
        visible = self.env["l10n_pl_ksef.receive.failure"].with_user(self.accountant).search([])
        self.assertEqual(visible, failures, "another company's invoices stay hidden")
        self.assertTrue(all("CZK" in reason for reason in failures.mapped("reason")))
        retried = failures.filtered(lambda f: f.ksef_number == first)
        dropped = failures - retried
        czk.active = True
        action = retried.action_l10n_pl_ksef_retry_now()
        self.assertEqual((action["params"]["type"], action["params"]["message"]), ("success", "1 new bill."))
        self.assertEqual(len(self.bills(first)), 1)
        # (logging.INFO: Odoo names its level 25 "INFO" too)
        with self.assertLogs("odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_receive_failure", logging.INFO) as logs:
            dropped.action_l10n_pl_ksef_drop()
        self.assertIn(second, logs.output[0])
        self.assertFalse(self.waiting())
        self.assertEqual((dropped.active, dropped.dropped_uid), (False, self.accountant), "kept, archived")
        self.time_passes(datetime.timedelta(days=2))
        self.run_cron()
        self.assertFalse(self.bills(second), "a dropped invoice is not imported again")
