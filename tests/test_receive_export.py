"""Exports of the receiving cron: resumed rather than started again, a backlog read once, invoices that cannot
be handed over kept waiting with their reason, and the Subject3 option."""

import datetime
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.client import receiving as receiving_module
from odoo.addons.l10n_pl_ksef.ksef_core.client.tokens import parse_datetime
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import Address, Party
from odoo.addons.l10n_pl_ksef.models import res_company_ksef_receive as receive_module

from .common import TEST_NIP
from .test_receive import ReceiveCommon, fa3, line

#: another valid NIP: the buyer of invoices that name the test company only as a third party
THIRD_NIP = "5213450008"
MINUTE = datetime.timedelta(minutes=1)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveExport(ReceiveCommon):
    def setUp(self):
        super().setUp()
        self.store = self.sim.invoice_store
        self.exports_before = set(self.store.exports)
        names = ("url_ttl", "export_package_ttl", "export_max_invoices")
        settings = {name: self.store.settings[name] for name in names}
        self.addCleanup(self.store.configure, **settings)

    # ------------------------------------------------------------------ helpers

    def new_exports(self):
        """The exports the simulator started during this test, oldest first."""
        exports = [e for ref, e in self.store.exports.items() if ref not in self.exports_before]
        return sorted(exports, key=lambda e: e["dateCreated"])

    def exported_counts(self):
        return [e["package"]["invoiceCount"] for e in self.new_exports()]

    def seed_many(self, count):
        return [self.seed(fa3([line("Segregator", "1", str(10 + i), "23")])) for i in range(count)]

    def stored_at(self, number):
        return self.store.invoices[number]["permanentStorageDate"]

    def receive_all(self, numbers, runs):
        """Run the cron ``runs`` times with 2 invoices per run; returns the results of the company."""
        results = []
        with patch.object(receive_module, "RECEIVE_LIMIT", 2):
            for _run in range(runs):
                results.append(self.run_cron()[self.company.id])
        return results

    def assert_each_imported_once(self, numbers):
        bills = self.env["account.move"].search([("l10n_pl_ksef_number", "in", numbers)])
        self.assertEqual(sorted(bills.mapped("l10n_pl_ksef_number")), sorted(numbers))

    # ------------------------------------------------------------------ resuming an export

    def test_backlog_is_read_from_one_export_once_with_the_window_at_the_last_invoice_finished(self):
        numbers = self.seed_many(7)
        with patch.object(receive_module, "RECEIVE_LIMIT", 2):
            first = self.run_cron()[self.company.id]
        self.assertTrue(first["more"])
        self.assertEqual(len(first["created"]), 2)
        # the position moved to the second invoice (the last one finished); only it is kept at that edge
        position = self.state().sync_state
        self.assertEqual(parse_datetime(position["date_from"]), self.stored_at(numbers[1]))
        self.assertEqual(list(position["seen"]), [numbers[1]])
        # the export under way is remembered, its key encrypted: the position is readable by accountants
        export = position["export"]
        self.assertEqual(export["reference"], self.new_exports()[0]["referenceNumber"])
        self.assertNotIn("key", export)
        self.assertNotIn("iv", export)
        self.assertTrue(export["sealed"].startswith("ksef1:"))
        seen_by_accountant = self.state().with_user(self.accountant).read(["sync_state"])[0]["sync_state"]
        self.assertEqual(seen_by_accountant["export"]["sealed"], export["sealed"])
        # the part URLs of that status expire; the next runs ask KSeF for the status again, never for a new export
        self.store.configure(url_ttl=60)
        self.sim.clock.advance(120)
        results = self.receive_all(numbers, 3)
        self.assertEqual([len(r["created"]) for r in results], [2, 2, 1])
        self.assertEqual([r["more"] for r in results], [True, True, False])
        self.assertFalse(any(r["error"] for r in results))
        self.assert_each_imported_once(numbers)
        self.assertEqual(self.exported_counts(), [7], "one export: KSeF exported each invoice once")
        self.assertFalse(self.state().sync_state["export"], "the export is consumed: forgotten")
        self.assertEqual(self.result_text(), "1 new bill.")

    def test_an_expired_export_is_replaced_by_one_starting_at_the_last_invoice_finished(self):
        numbers = self.seed_many(5)
        self.store.configure(export_package_ttl=60)
        with patch.object(receive_module, "RECEIVE_LIMIT", 2):
            self.run_cron()
        self.sim.clock.advance(120)  # KSeF answers 210: the package expired
        results = self.receive_all(numbers, 2)
        self.assertEqual([len(r["created"]) for r in results], [2, 1])
        self.assertFalse(any(r["error"] for r in results))
        self.assert_each_imported_once(numbers)
        # the second export starts at the last invoice finished (kept, then skipped), not at the first one
        self.assertEqual(self.exported_counts(), [5, 4])

    def test_export_started_by_a_run_that_stopped_on_a_ksef_error_is_resumed(self):
        numbers = self.seed_many(3)
        # the part download fails and KSeF asks to wait 15 minutes: the run ends with the export started
        self.sim.faults.error("/export/*", status=503, count=None, retry_after=900)
        failed = self.run_cron()[self.company.id]
        self.assertTrue(failed["error"])
        self.assertIn("KSeF could not be read", self.result_text())
        self.assertTrue(self.state().sync_state["export"])
        self.sim.faults.clear()
        self.run_cron()
        self.assert_each_imported_once(numbers)
        self.assertEqual(self.exported_counts(), [3], "no second export")

    def test_invoices_handed_out_before_ksef_stops_the_run_become_bills(self):
        numbers = self.seed_many(3)
        self.store.configure(export_max_invoices=2)  # two packages: the second export is refused
        self.sim.faults.error("/invoices/exports", method="POST", status=503, retry_after=900, count=None, skip=1)
        failed = self.run_cron()[self.company.id]
        self.assertEqual(failed["error_code"], "server_error")
        self.assertEqual(len(failed["created"]), 2, "the first package's invoices are bills, not lost")
        self.assert_each_imported_once(numbers[:2])
        self.assertEqual(parse_datetime(self.state().sync_state["date_from"]), self.stored_at(numbers[1]))
        self.sim.faults.clear()
        self.run_cron()
        self.assert_each_imported_once(numbers)

    def test_export_started_by_a_run_rolled_back_by_a_bug_is_resumed(self):
        numbers = self.seed_many(2)
        Company = type(self.env["res.company"])
        with patch.object(Company, "_l10n_pl_ksef_receive_items", side_effect=RuntimeError("bug")):
            result = self.run_cron()[self.company.id]
        self.assertEqual(result["error_code"], "bug")
        self.assertFalse(self.env["account.move"].search([("l10n_pl_ksef_number", "in", numbers)]))
        self.run_cron()
        self.assert_each_imported_once(numbers)
        self.assertEqual(self.exported_counts(), [2], "the rolled back run's export is used")

    # ------------------------------------------------------------------ invoices kept waiting with their reason

    def test_invoice_too_large_waits_with_its_reason_and_is_retried_after_its_backoff(self):
        small = self.seed(fa3([line("Ołówek", "1", "2", "23")]))
        large = self.seed(fa3([line("Pozycja %d z długim opisem towaru" % i, "1", "5", "23") for i in range(60)]))
        limit = (len(self.store.invoice_xml(small)) + len(self.store.invoice_xml(large))) // 2
        with patch.object(receiving_module, "MAX_INVOICE_BYTES", limit):
            self.run_cron()
            self.assertEqual(len(self.bills(small)), 1)
            self.assertFalse(self.bills(large))
            waiting = self.waiting()
            self.assertEqual(waiting.mapped("ksef_number"), [large])
            self.assertIn("larger than %d B" % limit, waiting.reason)
            self.assertIn("większy niż %d B" % limit, waiting.reason)
            self.assertIn("Enter the bill by hand", waiting.reason)
            self.assertIn(large, self.result_text())
            reason = waiting.reason
            self.run_cron()
            self.assertEqual(waiting.attempts, 1, "not downloaded again before its back-off")
            self.time_passes(31 * MINUTE)
            self.run_cron()  # downloaded again by its number: the same limit, the same reason
            self.assertEqual((waiting.attempts, waiting.reason), (2, reason))
            self.assertGreaterEqual(waiting.next_try - waiting.last_attempt, 60 * MINUTE, "the back-off doubles")
            action = waiting.with_user(self.accountant).action_l10n_pl_ksef_retry_now()
            self.assertEqual(action["params"]["type"], "warning")
            self.assertIn("larger than", action["params"]["message"])
        self.assertFalse(self.bills(large))

    def test_invoice_that_does_not_parse_waits_with_the_parsers_reason(self):
        number = self.seed(fa3([line("Taśma", "3", "4", "23")]))
        self.sim.state.put_blob("invoice", number, b'<?xml version="1.0"?>\n<Faktura><Naglowek>')
        self.run_cron()
        self.assertFalse(self.bills(number))
        reason = self.waiting().reason
        self.assertIn("not well-formed XML", reason)
        self.assertIn("nie jest poprawnym XML", reason)

    # ------------------------------------------------------------------ Subject3

    def test_invoices_naming_the_company_as_a_third_party_are_imported_when_asked(self):
        address = Address("ul. Testowa 1", "00-001 Warszawa")
        recipient = Party(name="Test company", nip=TEST_NIP, address=address, role=2)
        xml = fa3([line("Paliwo", "40", "6.50", "23")], number="FV/P3/1", third_parties=[recipient])
        xml = xml.replace(b"<NIP>%s</NIP>" % TEST_NIP.encode(), b"<NIP>%s</NIP>" % THIRD_NIP.encode(), 1)
        number = self.seed(xml)
        for_us = self.seed(fa3([line("Olej", "1", "30", "23")]))
        self.run_cron()
        self.assertEqual(len(self.bills(for_us)), 1)
        self.assertFalse(self.bills(number), "off by default: only invoices issued to the company")
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.l10n_pl_ksef_receive_subject3)
        settings.l10n_pl_ksef_receive_subject3 = True
        settings.execute()
        self.assertTrue(self.company.l10n_pl_ksef_receive_subject3)
        self.run_cron()
        bill = self.bills(number)
        self.assertEqual((len(bill), bill.move_type, bill.ref), (1, "in_invoice", "FV/P3/1"))
        self.assertEqual(bill.journal_id, self.journal)
        self.assertAlmostEqual(bill.amount_total, 319.8)
        self.assertEqual(len(self.bills(for_us)), 1)
        position = self.state().sync_state
        self.assertEqual(position["subject_type"], "Subject2", "the position of the company's own invoices is kept")
        self.assertEqual(position["subjects"]["Subject3"]["subject_type"], "Subject3")
        self.run_cron()
        self.assertEqual(len(self.bills(number)), 1)
        self.assertEqual(self.result_text(), "No new supplier invoices.")
