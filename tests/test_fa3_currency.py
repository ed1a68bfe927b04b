"""The exchange rate of invoices and credit notes in another currency (VAT act art. 31a, 31b): the rate's day,
the corrected invoice's rate on its correction, collective corrections; rates read from the stored table."""

import contextlib
import datetime
from decimal import Decimal as D

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.nbp import NbpClient, NbpUnavailable, clear_cache
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

from .fa3_common import ISSUED, NS, L10nPlKsefFa3Common


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefFa3Rates(L10nPlKsefFa3Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # Odoo's own: 4.00 PLN

    def setUp(self):
        super().setUp()
        clear_cache()
        stack = contextlib.ExitStack()
        self.addCleanup(stack.close)
        server = stack.enter_context(running_simulator())
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.nbp_url", server.nbp_url)
        self.nbp = server.sim.nbp
        self.nbp.set_rate("EUR", datetime.date(2026, 11, 19), D("4.2345"))  # the day before ISSUED
        self.nbp.set_rate("EUR", datetime.date(2026, 11, 26), D("4.3012"))
        self.nbp.set_rate("EUR", datetime.date(2026, 11, 27), D("4.2270"))

    def fetch_rates(self):
        """What the scheduled action does ahead of confirming (posting itself never asks NBP)."""
        self.env["l10n_pl_ksef.nbp.rate"]._cron_l10n_pl_ksef_nbp_rates()

    def eur_invoice(self, post=True, **values):
        move = self.make(
            [self.line(price=100), self.line(price=33.33, tax="8")], currency_id=self.eur.id, post=False, **values
        )
        if post:
            self.fetch_rates()
            move.action_post()
        return move

    def reverse(self, invoice, day):
        wizard = self.env["account.move.reversal"].with_context(active_model="account.move", active_ids=invoice.ids)
        reversal = wizard.create({"reason": "zwrot towaru", "journal_id": invoice.journal_id.id, "date": day})
        return self.env["account.move"].browse(reversal.refund_moves()["res_id"])

    def vat_balance(self, moves):
        """PLN balance of the VAT account(s) of these moves (the tax lines)."""
        return sum(moves.line_ids.filtered("tax_line_id").mapped("balance"))

    # ------------------------------------------------------------------ corrections: art. 31b

    def test_full_credit_note_takes_the_invoice_rate_and_nets_the_pln_vat(self):
        """Art. 31b ust. 1: a correction of an invoice in another currency converts its VAT at the rate the
        corrected invoice used, also when NBP's rate of the day before the correction differs (4.3012)."""
        invoice = self.eur_invoice()
        self.assertAlmostEqual(1 / invoice.invoice_currency_rate, 4.2345, places=6)
        refund = self.reverse(invoice, datetime.date(2026, 11, 27))
        self.assertEqual(refund.invoice_date, datetime.date(2026, 11, 27))
        requests = self.nbp.requests
        refund.action_post()
        self.assertEqual(self.nbp.requests, requests, "confirming never asks NBP")
        self.assertEqual(refund.invoice_currency_rate, invoice.invoice_currency_rate, "booked at the invoice's rate")
        root = self.tree(refund)
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertEqual(self.value(root, "//f:P_14_1W"), "-97.39", "-23.00 EUR x 4.2345, as the invoice had +97.39")
        self.assertIn("art. 31b ust. 1", self.document(refund).rate_note)
        self.assertGolden(refund, "credit_note_eur_full")
        vat = self.vat_balance(invoice)
        self.assertTrue(vat, "the invoice booked VAT in PLN")
        self.assertAlmostEqual(self.vat_balance(invoice | refund), 0.0, places=2, msg="no PLN VAT left behind")
        receivable = (invoice | refund).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        )
        self.assertAlmostEqual(sum(receivable.mapped("balance")), 0.0, places=2)

    def test_partial_credit_note_at_the_invoice_rate(self):
        """Art. 31b ust. 1: a partial correction too (one line returned, dated later)."""
        invoice = self.eur_invoice()
        refund = self.reverse(invoice, datetime.date(2026, 11, 27))
        first, second = refund.invoice_line_ids.sorted("sequence")
        refund.write({"invoice_line_ids": [Command.update(first.id, {"price_unit": 40}), Command.delete(second.id)]})
        refund.action_post()
        self.assertEqual(refund.invoice_currency_rate, invoice.invoice_currency_rate)
        root = self.tree(refund)
        self.assertEqual(self.value(root, "//f:P_14_1W"), "-38.96", "-9.20 EUR x 4.2345")
        self.assertGolden(refund, "credit_note_eur_partial")

    def test_a_rate_typed_on_a_correction_must_be_the_corrected_invoices(self):
        """Art. 31b ust. 1: a correction converts its VAT at the rate of the invoice it corrects, so that it undoes
        exactly the PLN VAT that invoice booked. Another rate typed on the credit note is refused (it would leave
        PLN VAT behind), saying what to do; the corrected invoice's own rate typed again is fine."""
        invoice = self.eur_invoice()
        refund = self.reverse(invoice, datetime.date(2026, 11, 27))
        refund.invoice_currency_rate = 1 / 4.5
        with self.assertRaises(UserError) as caught:
            refund.action_post()
        message = str(caught.exception)
        self.assertIn("(4.5 PLN per EUR) is not the rate of the invoice it corrects", message)
        self.assertIn("back to 4.2345 PLN", message)
        self.assertIn("'Collective correction'", message)
        self.assertIn("art. 31b ust. 1", message)
        self.assertEqual(refund.state, "draft")
        self.assertAlmostEqual(1 / refund.invoice_currency_rate, 4.5, places=6, msg="nothing changed")

        refund.invoice_currency_rate = invoice.invoice_currency_rate  # the invoice's rate, typed
        refund.action_post()
        self.assertEqual(refund.state, "posted")
        self.assertEqual(refund.invoice_currency_rate, invoice.invoice_currency_rate)
        self.assertEqual(self.value(self.tree(refund), "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertAlmostEqual(self.vat_balance(invoice | refund), 0.0, places=2, msg="no PLN VAT left behind")

    def test_an_automated_correction_at_a_typed_rate_is_held(self):
        """Art. 31b ust. 1: an automated flow posting a credit note at another rate than its invoice's does not
        fail, but the credit note is held from KSeF with the reason."""
        invoice = self.eur_invoice()
        refund = self.reverse(invoice, datetime.date(2026, 11, 27))
        refund.invoice_currency_rate = 1 / 4.5
        refund.with_context(l10n_pl_ksef_interactive=False).action_post()
        self.assertEqual(refund.state, "posted")
        self.assertIn("is not the rate of the invoice it corrects", refund.l10n_pl_ksef_hold)

    def test_an_invoice_correcting_upwards_takes_the_corrected_invoices_rate(self):
        """Art. 31b ust. 1 holds for every correction, also one raising the price (art. 106j ust. 1 pkt 2): an
        invoice naming the invoice it corrects in the KSeF tab is a correction (KOR) at that invoice's rate, not
        at NBP's rate of the day before it."""
        invoice = self.eur_invoice()
        raised = self.make(
            [self.line(name="Dopłata do ceny", price=10)],
            post=False,
            currency_id=self.eur.id,
            invoice_date=datetime.date(2026, 11, 27),
            l10n_pl_ksef_correction_reason="podwyższenie ceny",
            l10n_pl_ksef_corrected_ids=[
                Command.create({"origin_move_id": invoice.id, "number": invoice.name, "issue_date": ISSUED})
            ],
        )
        self.assertEqual(raised.l10n_pl_ksef_kind, "KOR")
        self.fetch_rates()  # NBP's rate of 26 Nov (4.3012) is there: the correction does not take it
        raised.action_post()
        self.assertEqual(raised.l10n_pl_ksef_kind, "KOR")
        self.assertEqual(raised.invoice_currency_rate, invoice.invoice_currency_rate, "booked at the invoice's rate")
        root = self.tree(raised)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "KOR")
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertEqual(self.value(root, "//f:DaneFaKorygowanej/f:NrFaKorygowanej"), invoice.name)

    def test_the_reversal_of_a_credit_note_is_a_correction_at_the_invoice_rate(self):
        """Art. 106j and art. 31b ust. 1: a credit note sent to KSeF cannot be withdrawn; Odoo's Reverse of it is
        an invoice that corrects it again (KOR, naming the credit note), at the rate of the original invoice."""
        invoice = self.eur_invoice()
        refund = self.reverse(invoice, datetime.date(2026, 11, 27))
        refund.action_post()
        again = self.reverse(refund, datetime.date(2026, 11, 30))
        self.assertEqual(again.move_type, "out_invoice")
        self.assertEqual(again.l10n_pl_ksef_kind, "KOR")
        self.fetch_rates()  # NBP's rate of 27 Nov (4.2270) is there: the correction does not take it
        again.action_post()
        self.assertEqual(again.invoice_currency_rate, invoice.invoice_currency_rate, "booked at the invoice's rate")
        root = self.tree(again)
        self.assertEqual(self.value(root, "//f:RodzajFaktury"), "KOR")
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertEqual(self.value(root, "//f:DaneFaKorygowanej/f:NrFaKorygowanej"), refund.name)
        self.assertAlmostEqual(self.vat_balance(invoice | refund | again), self.vat_balance(invoice), places=2)

    def test_a_debit_note_is_a_correction_at_the_invoice_rate(self):
        """Art. 106j ust. 1 pkt 2 and art. 31b ust. 1: a debit note (Odoo's account_debit_note) raising an EUR
        invoice is a correction (KOR) naming that invoice, at that invoice's rate."""
        if "debit_origin_id" not in self.env["account.move"]._fields:
            self.skipTest("account_debit_note is not installed")
        invoice = self.eur_invoice()
        wizard = (
            self.env["account.debit.note"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "podwyższenie ceny", "date": datetime.date(2026, 11, 27), "copy_lines": True})
        )
        debit = self.env["account.move"].browse(wizard.create_debit()["res_id"])
        self.assertEqual(debit.debit_origin_id, invoice)
        self.assertEqual(debit.l10n_pl_ksef_kind, "KOR", "a debit note raises an invoice: a correction")
        debit.invoice_date = datetime.date(2026, 11, 27)
        self.fetch_rates()
        debit.action_post()
        self.assertEqual(debit.invoice_currency_rate, invoice.invoice_currency_rate, "booked at the invoice's rate")
        root = self.tree(debit)
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertEqual(self.value(root, "//f:DaneFaKorygowanej/f:NrFaKorygowanej"), invoice.name)

    def test_collective_correction_takes_the_nbp_rate_of_the_day_before_it(self):
        """Art. 106j ust. 3 and art. 31b ust. 2: a collective correction (a rebate on several invoices for a
        period) may use the NBP rate of the last business day before its own issue date; with the corrected
        invoices' rate it needs one Odoo invoice to take it from."""
        first = self.eur_invoice()
        second = self.eur_invoice()
        refund = self.make(
            [self.line(name="Rabat za listopad 2026", price=50)],
            move_type="out_refund",
            post=False,
            currency_id=self.eur.id,
            invoice_date=datetime.date(2026, 11, 30),
            l10n_pl_ksef_correction_reason="rabat za listopad",
            l10n_pl_ksef_corrected_ids=[
                Command.create({"origin_move_id": first.id, "number": first.name, "issue_date": ISSUED}),
                Command.create({"origin_move_id": second.id, "number": second.name, "issue_date": ISSUED}),
            ],
        )
        with self.assertRaises(UserError) as caught:
            refund.action_post()
        self.assertIn("corrects an invoice that is not in Odoo, or several invoices", str(caught.exception))
        refund.write({"l10n_pl_ksef_correction_rate": "collective", "l10n_pl_ksef_correction_period": "listopad 2026"})
        self.fetch_rates()  # the rate of 27 Nov (Friday) for a credit note of Monday 30 Nov
        refund.action_post()
        self.assertAlmostEqual(1 / refund.invoice_currency_rate, 4.2270, places=6, msg="booked at NBP's rate")
        root = self.tree(refund)
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.227")
        self.assertEqual(self.value(root, "//f:OkresFaKorygowanej"), "listopad 2026")
        self.assertEqual(len(root.xpath("//f:DaneFaKorygowanej", namespaces=NS)), 2)
        self.assertIn("art. 31b ust. 2", self.document(refund).rate_note)

    def test_collective_rate_needs_the_corrected_period(self):
        """Art. 106j ust. 3: a collective correction is a rebate or price reduction granted for a period, and
        states that period (OkresFaKorygowanej); two corrected invoices alone are not one, so the NBP rate of
        art. 31b ust. 2 is refused until the period is filled in."""
        first = self.eur_invoice()
        second = self.eur_invoice()
        refund = self.make(
            [self.line(name="Zwrot towaru", price=50)],
            move_type="out_refund",
            post=False,
            currency_id=self.eur.id,
            invoice_date=datetime.date(2026, 11, 30),
            l10n_pl_ksef_correction_reason="zwrot towaru",
            l10n_pl_ksef_correction_rate="collective",
            l10n_pl_ksef_corrected_ids=[
                Command.create({"origin_move_id": first.id, "number": first.name, "issue_date": ISSUED}),
                Command.create({"origin_move_id": second.id, "number": second.name, "issue_date": ISSUED}),
            ],
        )
        self.fetch_rates()
        with self.assertRaises(UserError) as caught:
            refund.action_post()
        self.assertIn("it names no corrected period", str(caught.exception))
        self.assertIn("KSeF tab ▸ Corrected period", str(caught.exception))
        self.assertEqual(refund.state, "draft")
        refund.l10n_pl_ksef_correction_period = "listopad 2026"
        refund.action_post()
        self.assertAlmostEqual(1 / refund.invoice_currency_rate, 4.2270, places=6)

    def test_collective_rate_is_refused_for_a_single_invoice(self):
        """Art. 31b ust. 2 is only for a collective correction (art. 106j ust. 3): one corrected invoice and no
        period is a plain correction, at the corrected invoice's rate."""
        invoice = self.eur_invoice()
        refund = self.reverse(invoice, datetime.date(2026, 11, 27))
        refund.l10n_pl_ksef_correction_rate = "collective"
        with self.assertRaises(UserError) as caught:
            refund.action_post()
        self.assertIn("only for a collective correction", str(caught.exception))
        self.assertEqual(refund.state, "draft")

    # ------------------------------------------------------------------ the rate's day: art. 31a

    def test_invoice_issued_before_the_supply_takes_the_rate_before_the_issue_date(self):
        """Art. 31a ust. 2: an invoice issued before the tax point (issue date before the supply date) converts
        at the NBP rate of the last business day before the ISSUE date, not before the supply."""
        move = self.eur_invoice(taxable_supply_date=datetime.date(2026, 12, 15))
        self.assertAlmostEqual(1 / move.invoice_currency_rate, 4.2345, places=6)
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:P_6"), "2026-12-15")
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertIn("art. 31a ust. 2", self.document(move).rate_note)
        self.assertGolden(move, "currency_eur_future_supply")

    def test_a_future_supply_date_never_blocks_confirming(self):
        """Art. 31a ust. 2: the rate of a supply still to come is the one before the issue date, already
        published: confirming needs no rate NBP has not published (whatever day the test runs)."""
        supply = datetime.date.today() + datetime.timedelta(days=20)
        move = self.eur_invoice(post=False, taxable_supply_date=supply)
        self.fetch_rates()
        self.nbp.set_available(False)
        move.action_post()
        self.assertEqual(move.state, "posted")
        self.assertAlmostEqual(1 / move.invoice_currency_rate, 4.2345, places=6)

    def test_an_invoice_dated_ahead_waits_for_nbp_to_publish(self):
        """Art. 31a ust. 1: an invoice dated ahead needs the rate of a day NBP has not published yet: Confirm
        says so (whatever day the test runs), and nothing is guessed from an older table."""
        move = self.eur_invoice(post=False, invoice_date=datetime.date.today() + datetime.timedelta(days=10))
        self.fetch_rates()
        with self.assertRaises(UserError) as caught:
            move.action_post()
        self.assertIn("is not published yet", str(caught.exception))
        self.assertEqual(move.state, "draft")

    def test_invoice_issued_after_the_supply_takes_the_rate_before_the_supply(self):
        """Art. 31a ust. 1: the tax point (the supply of 27 Nov, a Friday) decides: the rate of 26 Nov."""
        move = self.eur_invoice(
            invoice_date=datetime.date(2026, 11, 30), taxable_supply_date=datetime.date(2026, 11, 27)
        )
        self.assertAlmostEqual(1 / move.invoice_currency_rate, 4.3012, places=6)

    # ------------------------------------------------------------------ fetched ahead, never while posting

    @freeze_time("2026-11-25 10:00:00", tick=True)
    def test_a_draft_in_another_currency_wakes_up_the_rates_fetch(self):
        """Run on Wednesday 25 Nov 2026 (Odoo's clock): the rates kept ready are those of the last days, so the
        rate of Monday 30 Nov is not among them whatever day the test runs."""
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_nbp_rates")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        self.make([self.line()], post=False)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before, "a PLN invoice needs no rate")
        move = self.eur_invoice(post=False)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1, "a rate will be needed")
        requests = self.nbp.requests
        self.fetch_rates()
        # the draft's day and the last days (new invoices): a range per currency, not a request per day
        self.assertIn(self.nbp.requests - requests, (1, 2), "one range request (two when far apart), not one a day")
        stored = self.env["l10n_pl_ksef.nbp.rate"]._l10n_pl_ksef_stored("EUR", ISSUED)
        self.assertEqual((stored.rate_text, stored.effective_date), ("4.2345", datetime.date(2026, 11, 19)))
        move.invoice_date = datetime.date(2026, 11, 30)
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 2, "another day, another rate")
        requests = self.nbp.requests
        move.invoice_date = ISSUED
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 2, "that rate is stored already")
        self.assertEqual(self.nbp.requests, requests, "setting a date never asks NBP")

    def test_one_trigger_for_all_the_invoices_missing_a_rate(self):
        """Confirming many invoices whose rate is not fetched yet wakes up the rates fetch once, not once or
        twice per invoice (each trigger opens a database connection of its own)."""
        cron = self.env.ref("l10n_pl_ksef.ir_cron_l10n_pl_ksef_nbp_rates")
        Trigger = self.env["ir.cron.trigger"]
        moves = self.eur_invoice(post=False) | self.eur_invoice(post=False) | self.eur_invoice(post=False)
        before = Trigger.search_count([("cron_id", "=", cron.id)])
        with self.enter_registry_test_mode():  # the trigger's own cursor within the test's transaction
            moves.with_context(l10n_pl_ksef_interactive=False).action_post()
        self.assertEqual(moves.mapped("state"), ["posted"] * 3)
        self.assertTrue(all("is not fetched yet" in move.l10n_pl_ksef_hold for move in moves))
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), before + 1)

    def test_a_currency_nbp_does_not_quote_says_to_type_its_rate(self):
        """Art. 31a ust. 1: NBP's table A quotes some 30 currencies; for another one (here the CFA franc) Odoo
        never gets a rate, and Confirm says so and asks for the rate on the invoice, instead of 'try again in a
        minute' for ever. Once typed, it is the invoice's rate."""
        xaf = self.setup_other_currency("XAF", rates=[("2000-01-01", 150.0)])
        move = self.make([self.line(price=1000)], currency_id=xaf.id, post=False)
        self.fetch_rates()
        with self.assertRaises(UserError) as caught:
            move.action_post()
        self.assertIn("NBP's table A has no rate for XAF", str(caught.exception))
        self.assertNotIn("try again in a minute", str(caught.exception))
        self.assertEqual(move.state, "draft")
        move.invoice_currency_rate = 1 / 0.0065
        move.action_post()
        self.assertEqual(self.value(self.tree(move), "//f:FaWiersz/f:KursWaluty"), "0.0065")

    def test_an_nbp_request_failing_does_not_skip_the_others(self):
        """Days far apart are asked in several requests: when one is not answered, the others are still made
        and their rates stored (a stand-in for NBP failing on one request only)."""
        nbp = self.env["l10n_pl_ksef.nbp.rate"]
        test = self

        class FirstRequestFails:
            calls = 0

            def rates_for_days(self, currency, days):
                FirstRequestFails.calls += 1
                if FirstRequestFails.calls == 1:
                    raise NbpUnavailable("NBP did not answer (test)", "NBP nie odpowiedział (test)")
                test.assertIn(datetime.date(2026, 11, 20), days)
                return self.real.rates_for_days(currency, days)

        client = FirstRequestFails()
        client.real = NbpClient(base_url=self.env["ir.config_parameter"].sudo().get_param("l10n_pl_ksef.nbp_url"))
        nbp._l10n_pl_ksef_fetch(client, "EUR", {datetime.date(2026, 3, 2), ISSUED})
        self.assertEqual(FirstRequestFails.calls, 2, "the second request is still made")
        self.assertEqual(nbp._l10n_pl_ksef_stored("EUR", ISSUED).rate_text, "4.2345")
