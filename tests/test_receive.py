import datetime
import itertools
from decimal import Decimal as D

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import build_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import (
    Address,
    CorrectedInvoice,
    Correction,
    Invoice,
    Line,
    Party,
    Payment,
    PaymentTerm,
)
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon

SUPPLIER = "Hurtownia Papiernicza Sp. z o.o."
_numbers = itertools.count(1)


def line(name, qty, price, rate, **kw):
    return Line(name=name, quantity=D(qty), unit="szt.", unit_price=D(price), rate=rate, **kw)


def fa3(lines, number=None, kind="VAT", issue=None, currency="PLN", **kw):
    """FA(3) bytes of an invoice the supplier (OTHER_NIP) issued to the test company (TEST_NIP)."""
    invoice = Invoice(
        number=number or "FV/%d/2026" % next(_numbers),
        issue_date=issue or datetime.date.today() - datetime.timedelta(days=2),
        created_at=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
        seller=Party(name=SUPPLIER, nip=OTHER_NIP, address=Address("ul. Papiernicza 7", "31-000 Kraków")),
        buyer=Party(name="Test company", nip=TEST_NIP, address=Address("ul. Testowa 1", "00-001 Warszawa")),
        kind=kind,
        currency=currency,
        lines=lines,
        **kw,
    )
    return build_fa3(invoice)


class ReceiveCommon(L10nPlKsefTestCommon):
    """The test company receives from the KSeF simulator into its purchase journal (no tests here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()
        cls.simulator.sim.invoice_store.configure(permanent_storage_delay=0)
        cls.pln = cls.setup_other_currency("PLN", rates=[("1900-01-01", 1.0)])
        cls.journal = cls.company_data["default_journal_purchase"]
        cls.tax_23 = cls._purchase_tax(23.0)
        cls.tax_8 = cls._purchase_tax(8.0)
        cls.company.write({"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": cls.journal.id})

    @classmethod
    def _purchase_tax(cls, amount):
        """The generic chart has no 23 % / 8 % purchase taxes: make them (VAT charged on top)."""
        return cls.env["account.tax"].create(
            {
                "name": "VAT %s%% (test purchase)" % int(amount),
                "amount": amount,
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": cls.company.id,
                "tax_group_id": cls.env["account.tax.group"].create({"name": "VAT %s%%" % int(amount)}).id,
                "sequence": 1,
            }
        )

    def setUp(self):
        super().setUp()
        self.connect_to_simulator()
        # start reading KSeF now: invoices seeded by earlier tests stay behind
        self.set_position(self.company, self.sim.clock.now())

    # ------------------------------------------------------------------ helpers

    def state(self, company=None):
        return self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company or self.company)

    def set_position(self, company, moment):
        """Next import of ``company`` reads KSeF from ``moment`` (``None``: from the KSeF start date)."""
        self.state(company).sync_state = moment and SyncState("Subject2", moment.isoformat()).to_dict()

    def waiting(self, company=None):
        return self.env["l10n_pl_ksef.receive.failure"].search([("company_id", "=", (company or self.company).id)])

    def seed(self, xml, **kw):
        return seed_incoming(self.sim, xml, **kw)

    def run_cron(self):
        """Run the cron with the test company due (as if its interval had passed)."""
        self.state().next_attempt = False
        return self.env["res.company"]._cron_l10n_pl_ksef_receive()

    def time_passes(self, delta):
        """Move every import date back by ``delta``, as if that much time had passed."""
        for state in self.env["l10n_pl_ksef.receive.state"].sudo().search([]):
            state.write({name: state[name] and state[name] - delta for name in ("last_run", "next_attempt")})
        for failure in self.env["l10n_pl_ksef.receive.failure"].sudo().with_context(active_test=False).search([]):
            failure.write({name: failure[name] and failure[name] - delta for name in ("last_attempt", "next_try")})

    def bills(self, ksef_number):
        return self.env["account.move"].search([("l10n_pl_ksef_number", "=", ksef_number)])

    def result_text(self, company=None):
        return self.state(company).last_result


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceive(ReceiveCommon):
    """Supplier invoices received from the KSeF simulator become draft vendor bills."""

    def test_cron_creates_a_draft_bill_as_the_supplier_issued_it(self):
        due = datetime.date.today() + datetime.timedelta(days=12)
        xml = fa3(
            [line("Papier A4 80 g", "10", "18.50", "23"), line("Kalendarz książkowy", "3", "12.99", "8")],
            number="FV/777/2026",
            payment=Payment(form=6, terms=[PaymentTerm(due_date=due)]),
        )
        number = self.seed(xml)
        self.run_cron()
        bill = self.bills(number)
        self.assertEqual(len(bill), 1)
        self.assertEqual((bill.state, bill.move_type, bill.journal_id), ("draft", "in_invoice", self.journal))
        self.assertEqual(bill.partner_id.name, SUPPLIER)
        self.assertEqual(bill.partner_id.vat, "PL%s" % OTHER_NIP)
        self.assertEqual((bill.partner_id.zip, bill.partner_id.city), ("31-000", "Kraków"))
        self.assertEqual(bill.ref, "FV/777/2026")
        self.assertEqual(bill.invoice_date, datetime.date.today() - datetime.timedelta(days=2))
        self.assertEqual(bill.invoice_date_due, due)
        self.assertEqual(bill.currency_id, self.pln)
        lines = bill.invoice_line_ids.sorted("sequence")
        self.assertEqual(lines.mapped("name"), ["Papier A4 80 g", "Kalendarz książkowy"])
        self.assertEqual(lines.mapped("quantity"), [10.0, 3.0])
        self.assertEqual(lines.mapped("price_unit"), [18.5, 12.99])
        self.assertEqual(lines[0].tax_ids, self.tax_23)
        self.assertEqual(lines[1].tax_ids, self.tax_8)
        self.assertAlmostEqual(bill.amount_untaxed, 223.97)
        self.assertAlmostEqual(bill.amount_total, 269.64)  # 185.00 + 42.55 + 38.97 + 3.12
        attachment = self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        self.assertEqual(attachment.name, "%s.xml" % number)
        self.assertEqual(attachment.raw, xml)
        self.assertIn("Imported from KSeF (number %s)" % number, " ".join(bill.message_ids.mapped("body")))
        self.assertFalse(
            any("differs" in body for body in bill.message_ids.mapped("body")), "the totals agree: no warning"
        )
        self.assertEqual(self.result_text(), "1 new bill.")
        self.assertTrue(self.company.l10n_pl_ksef_receive_last_run)
        bill.action_post()  # a complete, balanced bill the accountant can confirm as it is
        self.assertEqual(bill.state, "posted")

    def test_second_run_and_a_lost_position_create_nothing_new(self):
        number = self.seed(fa3([line("Toner", "1", "300", "23")]))
        self.run_cron()
        self.assertEqual(len(self.bills(number)), 1)
        self.run_cron()
        self.assertEqual(len(self.bills(number)), 1)
        self.assertEqual(self.result_text(), "No new supplier invoices.")
        # even if the position were lost and KSeF read again, the KSeF number is imported once
        self.set_position(self.company, self.sim.clock.now() - datetime.timedelta(hours=1))
        self.run_cron()
        self.assertEqual(len(self.bills(number)), 1)
        self.assertIn("already imported", self.result_text())

    def test_first_run_starts_at_the_ksef_start_date(self):
        # a simulator of its own: its clock is moved back to store invoices 10 and 3 days ago
        with running_simulator() as own:
            sim = own.sim
            sim.invoice_store.configure(permanent_storage_delay=0)
            now = datetime.datetime.now(datetime.timezone.utc)
            sim.clock.set(now - datetime.timedelta(days=10))
            old = seed_incoming(
                sim, fa3([line("Stare", "1", "50", "23")], issue=(now - datetime.timedelta(days=11)).date())
            )
            sim.clock.set(now - datetime.timedelta(days=3))
            recent = seed_incoming(
                sim, fa3([line("Nowe", "1", "60", "23")], issue=(now - datetime.timedelta(days=4)).date())
            )
            sim.clock.set(datetime.datetime.now(datetime.timezone.utc))
            token = sim.mint_token(TEST_NIP, ("InvoiceRead",))
            self.setup_wizard(auth_method="token", token=token, custom_url=own.base_url).action_save_credentials()
            self.set_position(self.company, None)
            self.company.l10n_pl_ksef_start_date = (now - datetime.timedelta(days=5)).date()
            self.run_cron()
        self.assertEqual(len(self.bills(recent)), 1)
        self.assertFalse(self.bills(old), "invoices stored before the KSeF start date are not imported")
        position = self.state().sync_state
        self.assertGreater(position["date_from"], (now - datetime.timedelta(minutes=5)).isoformat()[:16])
        self.company.l10n_pl_ksef_start_date = False
        default_start = self.company._l10n_pl_ksef_receive_start()
        self.assertEqual(default_start[:10], (now - datetime.timedelta(days=30)).date().isoformat())

    def test_correction_lowering_the_price_becomes_a_credit_note(self):
        original = self.seed(fa3([line("Niszczarka", "10", "100", "23")], number="FV/900/2026"))
        correction = self.seed(
            fa3(
                [
                    line("Niszczarka", "10", "100", "23", before=True),
                    line("Niszczarka", "8", "100", "23"),
                ],
                number="FK/12/2026",
                kind="KOR",
                correction=Correction(
                    invoices=[
                        CorrectedInvoice(datetime.date.today() - datetime.timedelta(days=2), "FV/900/2026", original)
                    ],
                    reason="zwrot 2 szt.",
                    type=2,
                ),
            )
        )
        self.run_cron()
        refund = self.bills(correction)
        self.assertEqual((refund.move_type, refund.ref), ("in_refund", "FK/12/2026"))
        self.assertEqual(refund.journal_id, self.journal)
        self.assertAlmostEqual(refund.amount_untaxed, 200.0)
        self.assertAlmostEqual(refund.amount_total, 246.0)
        self.assertEqual(self.bills(original).move_type, "in_invoice")
        names = refund.invoice_line_ids.mapped("name")
        self.assertIn("Niszczarka (before correction)", names)
        self.assertIn("Niszczarka (after correction)", names)
        refund.action_post()
        self.assertAlmostEqual(refund.amount_residual, 246.0)
        self.assertTrue(any(original in body for body in refund.message_ids.mapped("body")))

    def test_ksef_fault_is_reported_and_the_next_run_picks_the_invoice_up(self):
        number = self.seed(fa3([line("Długopis", "100", "1.20", "23")]))
        self.sim.faults.error("/invoices/exports", status=503, count=None)
        self.run_cron()  # no exception
        self.assertFalse(self.bills(number))
        self.assertIn("KSeF could not be read", self.result_text())
        self.sim.faults.clear()
        results = self.env["res.company"]._cron_l10n_pl_ksef_receive()
        self.assertNotIn(self.company.id, results, "KSeF is not asked again at once after an error")
        self.time_passes(datetime.timedelta(minutes=31))
        results = self.env["res.company"]._cron_l10n_pl_ksef_receive()  # due again after half an hour
        self.assertIn(self.company.id, results)
        self.assertEqual(len(self.bills(number)), 1)
        self.assertEqual(self.result_text(), "1 new bill.")

    def test_revoked_token_is_reported_and_new_credentials_resume(self):
        number = self.seed(fa3([line("Zszywacz", "2", "25", "23")]))
        self.sim.revoke_token(self.token)
        self.sim.auth.invalidate_access_tokens(TEST_NIP)
        self.run_cron()
        self.assertFalse(self.bills(number))
        self.assertIn("KSeF could not be read", self.result_text())
        self.assertNotIn(self.token.split("|")[2], self.result_text())
        token = self.sim.mint_token(TEST_NIP, ("InvoiceRead",))
        self.setup_wizard(auth_method="token", token=token).action_save_credentials()
        self.run_cron()
        self.assertEqual(len(self.bills(number)), 1)

    def test_rate_without_a_purchase_tax_gives_a_note_not_a_silent_total(self):
        number = self.seed(fa3([line("Przejazd taksówką", "1", "100", "4"), line("Papier", "1", "10", "23")]))
        self.run_cron()
        bill = self.bills(number)
        taxi, paper = bill.invoice_line_ids.sorted("sequence")
        self.assertFalse(taxi.tax_ids, "no 4 % purchase tax exists: no other tax is put in its place")
        self.assertEqual((taxi.price_unit, paper.tax_ids), (100.0, self.tax_23))
        self.assertAlmostEqual(bill.amount_untaxed, 110.0)
        self.assertAlmostEqual(bill.amount_total, 112.3)
        notes = " ".join(bill.message_ids.mapped("body"))
        self.assertIn("matches the VAT rate 4", notes)
        self.assertIn("differs from the amount due on the invoice in KSeF", notes)
        self.assertIn("116.30", notes)  # what KSeF says is due

    def test_manual_upload_of_a_synced_invoice_creates_no_second_bill(self):
        xml = fa3([line("Teczka", "4", "7.50", "23")])
        number = self.seed(xml)
        self.run_cron()
        bill = self.bills(number)
        attachment = self.env["ir.attachment"].create(
            {"name": "faktura.xml", "raw": xml, "mimetype": "application/xml"}
        )
        uploaded = self.journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
            attachment.ids
        )
        self.assertNotEqual(uploaded, bill)
        self.assertFalse(uploaded.invoice_line_ids)
        self.assertFalse(uploaded.l10n_pl_ksef_number)
        self.assertIn("already imported as %s" % bill.display_name, " ".join(uploaded.message_ids.mapped("body")))
        self.assertEqual(self.bills(number), bill)

    def test_bill_uploaded_by_hand_first_gets_the_ksef_number_from_the_sync(self):
        xml = fa3([line("Karton", "20", "3.10", "23")], number="FV/55/2026")
        attachment = self.env["ir.attachment"].create({"name": "skan.xml", "raw": xml, "mimetype": "application/xml"})
        uploaded = self.journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
            attachment.ids
        )
        self.assertEqual((uploaded.ref, uploaded.partner_id.vat), ("FV/55/2026", "PL%s" % OTHER_NIP))
        self.assertAlmostEqual(uploaded.amount_total, 76.26)
        number = self.seed(xml)
        self.run_cron()
        self.assertEqual(self.bills(number), uploaded)
        self.assertIn("matched with bills uploaded by hand", self.result_text())

    def test_invoice_that_cannot_be_imported_is_kept_and_retried(self):
        czk = self.env.ref("base.CZK")
        czk.active = False
        xml = fa3(
            [line("Sklo", "2", "500", "23", exchange_rate=D("0.17"))],
            number="FV/CZK/1",
            currency="CZK",
            exchange_rate=D("0.17"),
        )
        number = self.seed(xml)
        moves_before = self.env["account.move"].search_count([])
        self.run_cron()
        self.assertFalse(self.bills(number))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "no half-made bill is left")
        self.assertIn(number, self.result_text())
        self.assertIn("CZK", self.result_text())
        self.assertEqual(self.waiting().mapped("ksef_number"), [number])
        czk.active = True
        action = self.company.with_user(self.accountant).action_l10n_pl_ksef_receive_now()
        self.assertEqual(action["params"]["type"], "success")
        bill = self.bills(number)
        self.assertEqual((len(bill), bill.currency_id), (1, czk))
        self.assertFalse(self.waiting())
        self.assertEqual(action["params"]["message"], "1 new bill.")

    def test_hostile_files_from_ksef_wait_with_their_reason_and_leave_no_bill(self):
        """Files KSeF itself would refuse (stored raw in the simulator) never become bills nor crash the run."""
        good = fa3([line("Biurko", "1", "900", "23")])
        body = good.decode("utf-8").split("?>", 1)[1]
        files = {
            "DTD": (
                '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE Faktura [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + body.replace("<P_7>", "<P_7>&x;", 1)
            ).encode("utf-16"),
            "not well-formed": good[: len(good) // 2],
            "is empty": b"",
            "FA(2)": good.replace(
                b"http://crd.gov.pl/wzor/2025/06/25/13775/", b"http://crd.gov.pl/wzor/2023/06/29/12648/"
            ),
        }
        numbers = {self.sim.seed_raw(raw, OTHER_NIP, TEST_NIP): expected for expected, raw in files.items()}
        moves_before = self.env["account.move"].search_count([])
        self.run_cron()
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        reasons = {failure.ksef_number: failure.reason for failure in self.waiting()}
        self.assertEqual(set(reasons), set(numbers))
        for number, expected in numbers.items():
            self.assertIn(expected, reasons[number])
            self.assertNotIn("server log", reasons[number])
        self.assertNotIn("Unexpected error", self.result_text())

    def test_import_now_button_explains_what_is_missing(self):
        self.company.l10n_pl_ksef_receive = False
        with self.assertRaisesRegex(UserError, "Importing supplier invoices is off"):
            self.company.with_user(self.accountant).action_l10n_pl_ksef_receive_now()
        self.company.l10n_pl_ksef_receive = True
        settings = self.env["res.config.settings"].create({})
        action = settings.action_l10n_pl_ksef_receive_now()
        self.assertEqual(action["params"]["message"], "No new supplier invoices.")

    def test_invoice_for_another_buyer_is_refused_on_upload(self):
        xml = fa3([line("Biurko", "1", "900", "23")]).replace(
            b"<NIP>%s</NIP>" % TEST_NIP.encode(), b"<NIP>1111111111</NIP>"
        )
        attachment = self.env["ir.attachment"].create({"name": "obca.xml", "raw": xml, "mimetype": "application/xml"})
        uploaded = self.journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
            attachment.ids
        )
        self.assertFalse(uploaded.invoice_line_ids)
        self.assertIn("addressed to NIP 1111111111", " ".join(uploaded.message_ids.mapped("body")))

    def test_polish_chart_taxes_are_used_when_the_company_has_the_polish_chart(self):
        self.ensure_installed("l10n_pl")
        other = self.setup_other_company(name="Polska Sp. z o.o.", country_id=self.env.ref("base.pl").id)["company"]
        bill = self.env["account.move"].with_company(other).create({"move_type": "in_invoice"})
        chart = self.env["account.chart.template"].with_company(other)
        self.assertEqual(bill._l10n_pl_ksef_purchase_tax("23"), chart.ref("vz_kraj_23"))
        self.assertEqual(bill._l10n_pl_ksef_purchase_tax("8"), chart.ref("vz_kraj_8"))
        self.assertEqual(bill._l10n_pl_ksef_purchase_tax("zw"), chart.ref("vz_kraj_zw"))
        self.assertFalse(bill._l10n_pl_ksef_purchase_tax("np I"))
