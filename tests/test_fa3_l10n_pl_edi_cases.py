"""What Odoo's l10n_pl_edi gets wrong, done right; foreign currency at the art. 31a rate; the round trip."""

import contextlib
import datetime
from decimal import Decimal as D

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.nbp import clear_cache
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

from .common import OTHER_NIP
from .fa3_common import ISSUED, L10nPlKsefFa3Common


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefFa3Cases(L10nPlKsefFa3Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # Odoo's own: 4.00 PLN

    def start_nbp(self):
        clear_cache()
        stack = contextlib.ExitStack()
        self.addCleanup(stack.close)
        server = stack.enter_context(running_simulator())
        self.env["ir.config_parameter"].sudo().set_param("l10n_pl_ksef.nbp_url", server.nbp_url)
        return server.sim

    def fetch_rates(self):
        """What the scheduled action does ahead of confirming (posting itself never asks NBP)."""
        self.env["l10n_pl_ksef.nbp.rate"]._cron_l10n_pl_ksef_nbp_rates()

    def test_margin_scheme_is_marked_not_a_constant(self):
        margin = self.taxes["0 KR"].copy(
            {"name": "Marża – towary używane", "l10n_pl_ksef_rate_code": "margin_used_goods"}
        )
        self.taxes["margin"] = margin
        move = self.make([self.line(name="Rower używany", price=800, tax="margin")])
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:PMarzy/f:P_PMarzy"), "1")
        self.assertEqual(self.value(root, "//f:PMarzy/f:P_PMarzy_3_1"), "1")
        self.assertIsNone(self.value(root, "//f:PMarzy/f:P_PMarzyN"))
        self.assertEqual(self.value(root, "//f:P_13_11"), "800.00")
        self.assertIsNone(self.value(root, "//f:FaWiersz/f:P_12"), "a margin line has no rate code")

    def test_vat_group_buyer_is_marked_with_its_member(self):
        self.buyer_pl.l10n_pl_ksef_gv = True
        member = self.env["res.partner"].create({"name": "Członek Grupy Sp. z o.o.", "vat": "PL5265877635"})
        move = self.make(
            [self.line()], l10n_pl_ksef_third_party_ids=[Command.create({"partner_id": member.id, "role": "10"})]
        )
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:Podmiot2/f:GV"), "1")
        self.assertEqual(self.value(root, "//f:Podmiot2/f:JST"), "2")
        self.assertEqual(self.value(root, "//f:Podmiot3//f:NIP"), "5265877635")
        self.assertEqual(self.value(root, "//f:Podmiot3/f:Rola"), "10")

    def test_invalid_customer_nip_is_named(self):
        # typed where Odoo's own VAT check (base_vat) is not installed, or before it was
        self.env.cr.execute("UPDATE res_partner SET vat = 'PL1234567890' WHERE id = %s", [self.buyer_pl.id])
        self.buyer_pl.invalidate_recordset(["vat"])
        move = self.make([self.line()], post=False)
        problems = self.problems(move)
        self.assertIn("'PL1234567890'", problems)
        self.assertIn("Odbiorca Hurtowy S.A.", problems)
        self.assertIn("nie jest prawidłowym", problems, "Polish text too")

    def test_foreign_currency_vat_in_pln_at_the_nbp_rate_of_the_day_before(self):
        sim = self.start_nbp()
        sim.nbp.set_rate("EUR", datetime.date(2026, 11, 19), D("4.2345"))
        move = self.make([self.line(price=100), self.line(price=33.33, tax="8")], currency_id=self.eur.id, post=False)
        self.fetch_rates()
        requests = sim.nbp.requests
        move.action_post()
        self.assertEqual(sim.nbp.requests, requests, "confirming reads the stored rate, it never asks NBP")
        self.assertAlmostEqual(1 / move.invoice_currency_rate, 4.2345, places=6, msg="the invoice books at NBP's rate")
        root = self.tree(move)
        self.assertEqual(self.value(root, "//f:KodWaluty"), "EUR")
        self.assertEqual(self.value(root, "//f:P_14_1"), "23.00")
        self.assertEqual(self.value(root, "//f:P_14_1W"), "97.39", "23.00 EUR x 4.2345")
        self.assertEqual(self.value(root, "//f:P_14_2W"), str((D("2.67") * D("4.2345")).quantize(D("0.01"))))
        self.assertEqual(self.value(root, "//f:FaWiersz/f:KursWaluty"), "4.2345")
        self.assertGolden(move, "currency_eur")
        self.tree(move)
        self.assertEqual(sim.nbp.requests, requests, "the rate is kept, not fetched again")

    def test_a_rate_set_on_the_invoice_wins(self):
        self.start_nbp()
        move = self.make([self.line(price=100)], currency_id=self.eur.id, post=False)
        move.invoice_currency_rate = 1 / 4.5
        move.action_post()
        self.assertEqual(self.value(self.tree(move), "//f:P_14_1W"), "103.50")

    def test_no_rate_to_be_had_is_said_clearly(self):
        sim = self.start_nbp()
        sim.nbp.set_available(False)
        move = self.make([self.line(price=100)], currency_id=self.eur.id, post=False)
        self.fetch_rates()
        with self.assertRaises(UserError) as caught:
            move.action_post()
        self.assertIn("NBP rate of 2026-11-19 for EUR is not fetched yet", str(caught.exception))
        self.assertIn("try again in a minute", str(caught.exception))
        self.assertEqual(move.state, "draft")

    def test_round_trip_through_our_importer(self):
        """Our FA(3) of an invoice, imported by the buyer's Odoo, gives the same amounts and kind."""
        buyer_company = self.setup_other_company(name="Odbiorca Hurtowy S.A.")["company"]
        buyer_company.write(
            {"vat": "PL%s" % OTHER_NIP, "country_id": self.env.ref("base.pl").id, "l10n_pl_ksef_active": True}
        )
        group = self.env["account.tax.group"].create({"name": "VAT", "company_id": buyer_company.id})
        for code in ("23", "8"):
            self.env["account.tax"].create(
                {
                    "name": "Zakup %s%%" % code,
                    "amount": float(code),
                    "type_tax_use": "purchase",
                    "company_id": buyer_company.id,
                    "tax_group_id": group.id,
                    "l10n_pl_ksef_rate_code": code,
                    "sequence": 0,
                }
            )
        invoice = self.make([self.line(quantity=3, price=12.3456, discount=10), self.line(price=99.99, tax="8")])
        refund = self.make([self.line(quantity=1, price=12.3456)], move_type="out_refund", reversed_entry_id=invoice.id)
        env = self.env(context=dict(self.env.context, allowed_company_ids=[buyer_company.id]))
        journal = env["account.journal"].search(
            [("company_id", "=", buyer_company.id), ("type", "=", "purchase")], limit=1
        )
        for move, expected_type in ((invoice, "in_invoice"), (refund, "in_refund")):
            attachment = env["ir.attachment"].create(
                {"name": "fa3.xml", "raw": self.xml(move), "mimetype": "application/xml"}
            )
            bill = journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(attachment.ids)
            self.assertEqual(bill.move_type, expected_type)
            self.assertEqual(
                (bill.amount_untaxed, bill.amount_tax, bill.amount_total),
                (move.amount_untaxed, move.amount_tax, move.amount_total),
            )
            self.assertEqual(bill.invoice_date, ISSUED)

    def test_new_means_of_transport(self):
        car = self.line(
            name="Samochód osobowy",
            price=90000,
            tax="0 WDT",
            l10n_pl_ksef_vehicle_first_use="2026-11-02",
            l10n_pl_ksef_vehicle_kind="land",
            l10n_pl_ksef_vehicle_usage="1200",
            l10n_pl_ksef_vehicle_number="WVWZZZ1JZXW000001",
            l10n_pl_ksef_vehicle_make="Skoda Octavia",
        )
        root = self.tree(self.make([self.line(tax="0 WDT"), car], partner=self.buyer_de))
        self.assertEqual(self.value(root, "//f:NoweSrodkiTransportu/f:P_22"), "1")
        self.assertEqual(self.value(root, "//f:NowySrodekTransportu/f:P_22A"), "2026-11-02")
        self.assertEqual(self.value(root, "//f:NowySrodekTransportu/f:P_NrWierszaNST"), "2")
        self.assertEqual(self.value(root, "//f:NowySrodekTransportu/f:P_22B"), "1200")
        self.assertEqual(self.value(root, "//f:NowySrodekTransportu/f:P_22B1"), "WVWZZZ1JZXW000001")
        no_mileage = self.make(
            [self.line(tax="0 WDT", l10n_pl_ksef_vehicle_first_use="2026-11-02")], partner=self.buyer_de, post=False
        )
        self.assertIn("mileage or hours", self.problems(no_mileage))

    def test_skonto_and_sale_dates_per_line(self):
        term = self.env["account.payment.term"].create(
            {
                "name": "2% 10, net 30",
                "early_discount": True,
                "discount_percentage": 2,
                "discount_days": 10,
                "line_ids": [Command.create({"value": "percent", "value_amount": 100, "nb_days": 30})],
            }
        )
        move = self.make(
            [
                self.line(l10n_pl_ksef_sale_date="2026-11-03"),
                self.line(name="Druga dostawa", l10n_pl_ksef_sale_date="2026-11-17"),
            ],
            invoice_payment_term_id=term.id,
        )
        root = self.tree(move)
        self.assertEqual(self.values(root, "//f:FaWiersz/f:P_6A"), ["2026-11-03", "2026-11-17"])
        self.assertIsNone(self.value(root, "//f:Fa/f:P_6"), "per-line dates replace P_6")
        self.assertEqual(self.value(root, "//f:Skonto/f:WysokoscSkonta"), "2%")
        self.assertIn("10 dni", self.value(root, "//f:Skonto/f:WarunkiSkonta"))
