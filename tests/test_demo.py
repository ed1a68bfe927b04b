"""The product demo (``scripts/start.sh``) and the newcomer's first three things to try, in a real browser.

The demo is made as the start command makes it (``l10n_pl_ksef.demo``), against the bundled simulator. The tours
(``static/tests/tours/l10n_pl_ksef_demo_tour.js``) need Chromium: without it Odoo reports them as skipped
("Chrome executable not found"), never as passed.
"""

import contextlib

from odoo.tests import HttpCase, tagged

from odoo.addons.l10n_pl_ksef.ksef_core.nip import nip_checksum_ok

from .common import commit_point, production_path


class L10nPlKsefDemoCommon(HttpCase):
    """The demo made on a new Polish company, against a simulator of this class's own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        production_path(cls)
        cls.no_demo = None
        if cls.env["ir.module.module"]._get("l10n_pl").state != "installed":
            # each test reports the skip with its reason (a skip of the whole class would not be counted)
            cls.no_demo = "The demo needs the Polish chart of accounts (l10n_pl), not installed in this database."
            return
        from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

        stack = contextlib.ExitStack()
        cls.simulator = stack.enter_context(running_simulator())
        cls.addClassCleanup(stack.close)
        cls.company = cls.env["res.company"].create(
            {
                "name": "Demo",
                "country_id": cls.env.ref("base.pl").id,
                "currency_id": cls.env.ref("base.PLN").id,
            }
        )
        cls.summary = cls.env["l10n_pl_ksef.demo"]._l10n_pl_ksef_make_demo(cls.company, cls.simulator.base_url)

    def setUp(self):
        super().setUp()
        commit_point(self.cr)
        if self.no_demo:
            self.skipTest(self.no_demo)

    def moves(self, move_type):
        return self.env["account.move"].search(
            [("company_id", "=", self.company.id), ("move_type", "=", move_type)], order="id"
        )


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefDemo(L10nPlKsefDemoCommon):
    def test_demo_company_is_polish_and_connected(self):
        company = self.company
        self.assertEqual(company.chart_template, "pl")
        self.assertEqual(company.currency_id.name, "PLN")
        self.assertTrue(nip_checksum_ok(company.l10n_pl_ksef_nip))
        self.assertTrue(company.street and company.zip and company.city)
        self.assertTrue(company.partner_id.bank_ids.acc_number.startswith("PL"))
        self.assertEqual(company.l10n_pl_ksef_environment, "custom")
        self.assertEqual(company.l10n_pl_ksef_custom_url, self.simulator.base_url)
        self.assertTrue(company.l10n_pl_ksef_active and company.l10n_pl_ksef_token_set)
        self.assertIn("Result: Connected", company.l10n_pl_ksef_last_check)
        self.assertTrue(company.l10n_pl_ksef_receive and company.l10n_pl_ksef_receive_journal_id)
        self.assertEqual(self.env.ref("base.user_admin").company_id, company)
        # made once: a second call changes nothing
        again = self.env["l10n_pl_ksef.demo"]._l10n_pl_ksef_make_demo(self.env.company, self.simulator.base_url)
        self.assertEqual(again, self.summary)

    def test_demo_customers_products_and_invoices(self):
        invoices = self.moves("out_invoice")
        customers = invoices.partner_id
        self.assertEqual(
            sorted(customers.country_id.mapped("code")), ["DE", "PL", "US"], "a Polish, an EU and a non-EU firm"
        )
        consumer = self.env["res.partner"].search([("name", "=", "Jan Kowalski")])
        self.assertTrue(consumer and not consumer.vat and not consumer.is_company)
        gtu = self.env["product.product"].search(
            [("l10n_pl_ksef_gtu", "!=", False), ("company_id", "in", (False, self.company.id))]
        )
        self.assertGreaterEqual(len(gtu), 2)
        accepted = invoices.filtered(lambda m: m.l10n_pl_ksef_state == "accepted")
        self.assertEqual(len(accepted), 2)
        for move in accepted:
            self.assertTrue(move.l10n_pl_ksef_number.startswith(self.company.l10n_pl_ksef_nip + "-"))
            stored = self.simulator.sim.invoice_store.invoices[move.l10n_pl_ksef_number]
            self.assertEqual(stored.get("invoiceNumber"), move.name)
        credit_note = self.moves("out_refund")
        self.assertEqual(credit_note.l10n_pl_ksef_state, "accepted")
        self.assertEqual(credit_note.l10n_pl_ksef_kind, "KOR")
        self.assertIn(credit_note.reversed_entry_id, accepted)
        # the draft is ready: confirmed and sent as a user would, KSeF accepts it (EU services, 0 % EU)
        draft = invoices.filtered(lambda m: m.state == "draft")
        self.assertEqual(draft.partner_id.country_id.code, "DE")
        draft.action_post()
        draft.action_l10n_pl_ksef_send()
        self.assertEqual(draft.l10n_pl_ksef_state, "accepted")

    def test_supplier_invoices_wait_in_ksef_for_the_first_import(self):
        self.env["res.company"]._cron_l10n_pl_ksef_receive()
        self.assertFalse(self.moves("in_invoice"), "the scheduled import leaves them to the user's Import now")
        self.company.with_user(self.env.ref("base.user_admin")).action_l10n_pl_ksef_receive_now()
        bills = self.moves("in_invoice")
        self.assertEqual(len(bills), 3)
        self.assertEqual(set(bills.mapped("state")), {"draft"})
        self.assertTrue(all(bills.mapped("l10n_pl_ksef_number")))
        paper = bills.invoice_line_ids.filtered(lambda line: line.product_id.barcode == "5901234123457")
        self.assertEqual(len(paper), 1, "the paper on the office supplier's invoice is found by its GTIN")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefDemoTour(L10nPlKsefDemoCommon):
    """The tour has a simulator of its own: what the other tests sent stays in theirs (its invoice numbers
    would come again here, KSeF refusing them as duplicates)."""

    def test_tour_connection_send_and_import(self):
        """Settings: connection test; a new invoice posted, sent, accepted in the list; Import now, a bill."""
        self.start_tour("/odoo/action-account.action_account_config", "l10n_pl_ksef_demo_connection", login="admin")
        before = self.moves("out_invoice")
        self.start_tour("/odoo/customer-invoices/new", "l10n_pl_ksef_demo_send", login="admin")
        sent = self.moves("out_invoice") - before
        self.assertEqual(len(sent), 1)
        self.assertEqual((sent.state, sent.l10n_pl_ksef_state), ("posted", "accepted"))
        self.start_tour("/odoo/action-account.action_account_config", "l10n_pl_ksef_demo_import", login="admin")
        self.assertEqual(len(self.moves("in_invoice")), 3)
