"""Amounts, currency, payment data, corrections and duplicates of supplier invoices received from KSeF."""

import contextlib
import datetime
import itertools
from decimal import Decimal as D

from odoo.fields import Command
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import build_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import (
    Address,
    Annotations,
    BankAccount,
    BucketTotal,
    CorrectedInvoice,
    Correction,
    Invoice,
    Line,
    Party,
    Payment,
)
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefPlnTestCommon

SUPPLIER = "Hurtownia Papiernicza Sp. z o.o."
ACCOUNT = "PL61109010140000071219812874"
OTHER_ACCOUNT = "PL27114020040000300201355387"
ISSUED = datetime.date.today() - datetime.timedelta(days=2)
_numbers = itertools.count(1)


def item(name, qty, price, rate, **kw):
    return Line(name=name, quantity=D(qty), unit="szt.", unit_price=D(price), rate=rate, **kw)


def invoice_xml(lines, number=None, kind="VAT", currency="PLN", check=True, **kw):
    """FA(3) bytes of an invoice the supplier (OTHER_NIP) issued to the test company (TEST_NIP) 2 days ago.

    ``check=False`` keeps the given totals even where they do not match the lines (KSeF does not check).
    """
    invoice = Invoice(
        number=number or "FA/%d/2026" % next(_numbers),
        issue_date=ISSUED,
        created_at=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
        seller=Party(name=SUPPLIER, nip=OTHER_NIP, address=Address("ul. Papiernicza 7", "31-000 Kraków")),
        buyer=Party(name="Test company", nip=TEST_NIP, address=Address("ul. Testowa 1", "00-001 Warszawa")),
        kind=kind,
        currency=currency,
        lines=lines,
        **kw,
    )
    return build_fa3(invoice, check_totals=check)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveAmounts(L10nPlKsefPlnTestCommon):
    """The bill says what the supplier's invoice says: amount due, VAT per rate, rate, payment data, links."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pln = cls.env.ref("base.PLN")
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # Odoo: 4.00 PLN
        cls.journal = cls.company_data["default_journal_purchase"]
        cls.company.write(
            {
                "l10n_pl_ksef_receive": True,
                "l10n_pl_ksef_receive_journal_id": cls.journal.id,
                "tax_calculation_rounding_method": "round_per_line",
            }
        )
        cls.tax_23 = cls._tax("23")
        cls.tax_8 = cls._tax("8")

    @classmethod
    def _tax(cls, code):
        """The purchase tax the import takes for ``code`` (made when the chart has none)."""
        tax = cls.env["account.move"].new({"company_id": cls.company.id})._l10n_pl_ksef_purchase_tax(code)
        return tax or cls.env["account.tax"].create(
            {
                "name": "VAT %s%% (test purchase)" % code,
                "amount": float(code),
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": cls.company.id,
                "tax_group_id": cls.env["account.tax.group"].create({"name": "VAT %s%%" % code}).id,
                "sequence": 1,
            }
        )

    def setUp(self):
        super().setUp()
        self.assertEqual(self.company.currency_id, self.pln)
        # a simulator of each test's own: only that test's invoices are in KSeF
        stack = contextlib.ExitStack()
        self.addCleanup(stack.close)
        server = stack.enter_context(running_simulator())
        self.sim = server.sim
        self.sim.invoice_store.configure(permanent_storage_delay=0)
        token = self.sim.mint_token(TEST_NIP, ("InvoiceRead",))
        self.setup_wizard(auth_method="token", token=token, custom_url=server.base_url).action_save_credentials()

    # ------------------------------------------------------------------ helpers

    def seed(self, xml):
        """Store an invoice in KSeF; its KSeF number."""
        return seed_incoming(self.sim, xml)

    def receive(self, *xmls):
        """Store the invoices in KSeF, run the import cron (once per test: then the company is due); their
        KSeF numbers."""
        numbers = [self.seed(xml) for xml in xmls]
        self.env["res.company"]._cron_l10n_pl_ksef_receive()
        return numbers

    def upload(self, xml):
        """A bill made from the FA(3) file uploaded in Vendor Bills."""
        attachment = self.env["ir.attachment"].create(
            {"name": "faktura.xml", "raw": xml, "mimetype": "application/xml"}
        )
        return self.journal.with_context(default_move_type="in_invoice")._create_document_from_attachment(
            attachment.ids
        )

    def bill(self, ksef_number):
        bills = self.env["account.move"].search([("l10n_pl_ksef_number", "=", ksef_number)])
        self.assertEqual(len(bills), 1, "one bill per KSeF number")
        return bills

    def notes(self, bill):
        return " ".join(bill.message_ids.mapped("body"))

    def tax_lines(self, bill, tax):
        return bill.line_ids.filtered(lambda line: line.tax_line_id == tax)

    def supplier(self, vat, **values):
        """A supplier whose VAT number is stored exactly as ``vat`` (as older data or imports have it)."""
        partner = self.env["res.partner"].create(dict({"name": SUPPLIER, "is_company": True}, **values))
        self.env.cr.execute("UPDATE res_partner SET vat = %s WHERE id = %s", (vat, partner.id))
        partner.invalidate_recordset(["vat"])
        # its normalised NIP as the install's SQL (or any write of the Tax ID) gives it to existing partners
        self.env.add_to_compute(partner._fields["l10n_pl_ksef_nip_normalized"], partner)
        partner.flush_recordset()
        return partner

    # ------------------------------------------------------------------ amounts

    def test_simplified_invoice_is_booked_per_vat_rate_to_the_amount_due(self):
        (number,) = self.receive(
            invoice_xml(
                [Line(name="Wiertarka Wiertex mk5"), Line(name="Wiertła 5 szt.")],
                kind="UPR",
                totals={"1": BucketTotal(net=D("365.85"), vat=D("84.15"))},
                total=D("450"),
            )
        )
        bill = self.bill(number)
        self.assertEqual((bill.amount_untaxed, bill.amount_tax, bill.amount_total), (365.85, 84.15, 450.0))
        (line,) = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        self.assertEqual((line.price_unit, line.tax_ids), (365.85, self.tax_23))
        (listing,) = bill.invoice_line_ids.filtered(lambda line: line.display_type == "line_note")
        self.assertIn("Wiertarka Wiertex mk5", listing.name)
        self.assertIn("Wiertła 5 szt.", listing.name)
        self.assertNotIn("differs", self.notes(bill))
        bill.action_post()
        self.assertEqual(bill.amount_residual, 450.0)

    def test_foreign_invoice_takes_the_invoice_exchange_rate_and_vat_in_pln(self):
        (number,) = self.receive(
            invoice_xml(
                [
                    item("Konsultacje", "10", "100", "23", exchange_rate=D("4.2135")),
                    item("Dojazd", "1", "45.5", "8", exchange_rate=D("4.2135")),
                ],
                currency="EUR",
            )
        )
        bill = self.bill(number)
        self.assertEqual(bill.currency_id, self.eur)
        self.assertAlmostEqual(1 / bill.invoice_currency_rate, 4.2135, places=6, msg="not Odoo's 4.00")
        self.assertEqual(bill.amount_total, 1279.14)
        # P_14_1W / P_14_2W: 230.00 EUR x 4.2135 = 969.11 PLN, 3.64 EUR x 4.2135 = 15.34 PLN
        self.assertEqual(sum(self.tax_lines(bill, self.tax_23).mapped("balance")), 969.11)
        self.assertEqual(sum(self.tax_lines(bill, self.tax_8).mapped("balance")), 15.34)
        self.assertEqual(-bill.amount_untaxed_signed, 4405.21)  # 1045.50 EUR x 4.2135
        self.assertNotIn("rate", self.notes(bill))
        # VAT converted line by line: 3 x (0.11 EUR x 4.2135 = 0.46) = 1.38 PLN, not 0.33 EUR x 4.2135 = 1.39
        parking = [item("Parking", "1", "0.48", "23", exchange_rate=D("4.2135")) for _i in range(3)]
        bill = self.upload(invoice_xml(parking, currency="EUR"))
        self.assertEqual(sum(self.tax_lines(bill, self.tax_23).mapped("amount_currency")), 0.33)
        self.assertEqual(sum(self.tax_lines(bill, self.tax_23).mapped("balance")), 1.38)
        self.assertNotIn("VAT in PLN", self.notes(bill))

    def test_without_a_stated_rate_odoo_rate_of_the_day_before_or_a_note(self):
        self.env["res.currency.rate"].create(
            [
                {"name": ISSUED - datetime.timedelta(days=1), "rate": 1 / 4.10, "currency_id": self.eur.id},
                {"name": ISSUED, "rate": 1 / 4.30, "currency_id": self.eur.id},
            ]
        )
        bill = self.upload(invoice_xml([item("Licencja", "1", "100", "23")], currency="EUR"))
        self.assertAlmostEqual(1 / bill.invoice_currency_rate, 4.10, places=6, msg="art. 31a: the day before")
        self.assertNotIn("no exchange rate", self.notes(bill))
        chf = self.setup_other_currency("CHF", rates=[])
        bill = self.upload(invoice_xml([item("Licencja", "1", "100", "23")], currency="CHF"))
        self.assertEqual(bill.currency_id, chf)
        self.assertIn("Odoo has no CHF rate", self.notes(bill))
        self.assertIn("the bill uses 1.0000 PLN", self.notes(bill))

    def test_vat_per_rate_is_the_suppliers_rounding_and_larger_differences_are_reported(self):
        # the supplier rounds VAT once per rate: 3 x 1.02 = 3.06 -> 0.70 (line by line: 3 x 0.23 = 0.69)
        lines = [
            item("Ołówek", "1", "1.02", "23"),
            item("Gumka", "1", "1.02", "23"),
            item("Linijka", "1", "1.02", "23"),
        ]
        (number,) = self.receive(invoice_xml(lines, rounding="global"))
        bill = self.bill(number)
        self.assertEqual((bill.amount_tax, bill.amount_total), (0.70, 3.76))
        self.assertEqual(sum(self.tax_lines(bill, self.tax_23).mapped("balance")), 0.70)
        self.assertNotIn("VAT at rate", self.notes(bill))
        bill.action_post()
        self.assertEqual(bill.amount_tax, 0.70)
        # VAT moved 50 groszy from 23 % to 8 %: the total agrees, each rate is reported
        bill = self.upload(
            invoice_xml(
                [item("Papier", "1", "100", "23"), item("Kalendarz", "1", "100", "8")],
                totals={
                    "1": BucketTotal(net=D("100"), vat=D("23.50")),
                    "2": BucketTotal(net=D("100"), vat=D("7.50")),
                },
                total=D("231"),
                check=False,
            )
        )
        self.assertEqual((bill.amount_tax, bill.amount_total), (31.0, 231.0), "larger differences are not booked")
        notes = self.notes(bill)
        self.assertIn("VAT at rate 23: 23.00", notes)
        self.assertIn("VAT at rate 8: 8.00", notes)
        self.assertNotIn("differs from the amount due", notes)

    # ------------------------------------------------------------------ payment data

    def test_paid_invoice_and_split_payment_are_noted_not_paid_in_odoo(self):
        paid_on = ISSUED - datetime.timedelta(days=1)
        (number,) = self.receive(
            invoice_xml(
                [item("Serwer", "1", "20000", "23", annex15=True)],
                annotations=Annotations(split_payment=True),
                payment=Payment(paid=True, paid_date=paid_on, form=6),
            )
        )
        bill = self.bill(number)
        self.assertTrue(bill.l10n_pl_ksef_split_payment)
        self.assertIn("l10n_pl_ksef_split_payment", bill._get_alerts())
        notes = self.notes(bill)
        self.assertIn("Split payment (MPP)", notes)
        self.assertIn("according to the supplier", notes)
        bill.action_post()
        self.assertEqual((bill.payment_state, bill.amount_residual), ("not_paid", 24600.0))
        mpp = self.env["account.move"].search([("l10n_pl_ksef_split_payment", "=", True)])
        self.assertEqual(mpp, bill)

    def test_bank_account_of_a_new_supplier_is_added_and_a_different_one_flagged(self):
        def with_account(account):
            return invoice_xml([item("Toner", "1", "300", "23")], payment=Payment(form=6, accounts=[account]))

        first, spaced, changed = self.receive(
            with_account(BankAccount(ACCOUNT, swift="WBKPPLPP")),
            with_account(BankAccount("61 1090 1014 0000 0712 1981 2874")),
            with_account(BankAccount(OTHER_ACCOUNT)),
        )
        bill = self.bill(first)
        bank = bill.partner_bank_id
        self.assertEqual(bank.partner_id, bill.partner_id)
        self.assertEqual(bank.sanitized_acc_number, ACCOUNT)
        self.assertFalse(bank.allow_out_payment, "an account read from an invoice is not trusted for payments")
        self.assertEqual(self.bill(spaced).partner_bank_id, bank, "the same account written otherwise")
        self.assertNotIn("bank account", self.notes(self.bill(spaced)))
        bill = self.bill(changed)
        self.assertEqual(bill.partner_id.bank_ids, bank, "a different account is never added silently")
        self.assertEqual(bill.partner_bank_id, bank)
        self.assertIn("%s, which is not one of the supplier's accounts" % OTHER_ACCOUNT, self.notes(bill))
        self.assertEqual(bill._get_alerts()["l10n_pl_ksef_unknown_account"]["level"], "danger")
        # confirmed with the supplier and added by the accountant: no more warning
        self.env["res.partner.bank"].create({"acc_number": OTHER_ACCOUNT, "partner_id": bill.partner_id.id})
        self.assertNotIn("l10n_pl_ksef_unknown_account", bill._get_alerts())

    # ------------------------------------------------------------------ corrections and duplicates

    def test_credit_note_is_the_reversal_of_the_original_bill(self):
        original_number = self.seed(invoice_xml([item("Niszczarka", "10", "100", "23")], number="FV/900/2026"))
        corrected = [CorrectedInvoice(ISSUED, "FV/900/2026", original_number)]
        lowering, raising = self.receive(
            invoice_xml(
                [item("Niszczarka", "10", "100", "23", before=True), item("Niszczarka", "8", "100", "23")],
                kind="KOR",
                correction=Correction(invoices=corrected, reason="zwrot", type=2),
            ),
            invoice_xml(
                [item("Niszczarka", "10", "100", "23", before=True), item("Niszczarka", "10", "110", "23")],
                kind="KOR",
                correction=Correction(invoices=corrected, reason="cena", type=2),
            ),
        )
        original = self.bill(original_number)
        original.action_post()
        refund = self.bill(lowering)
        self.assertEqual((refund.move_type, refund.reversed_entry_id), ("in_refund", original))
        refund.action_post()
        self.assertEqual(original.amount_residual, 1230.0 - 246.0, "the credit note lowers what is owed")
        debit = self.bill(raising)
        self.assertEqual((debit.move_type, debit.amount_total), ("in_invoice", 123.0))
        self.assertIn("raising the amount", self.notes(debit))
        self.assertIn('data-oe-id="%d"' % original.id, self.notes(debit), "a link to the original bill")

    def test_credit_note_finds_an_original_typed_in_by_hand_by_its_number(self):
        supplier = self.supplier("PL%s" % OTHER_NIP)
        typed = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": supplier.id,
                "ref": "FV/77/2025",
                "invoice_date": ISSUED - datetime.timedelta(days=30),
                "invoice_line_ids": [Command.create({"name": "Biurko", "price_unit": 500, "tax_ids": self.tax_23.ids})],
            }
        )
        refund = self.upload(
            invoice_xml(
                [item("Biurko", "1", "500", "23", before=True), item("Biurko", "1", "400", "23")],
                kind="KOR",
                correction=Correction(invoices=[CorrectedInvoice(typed.invoice_date, "FV/77/2025")], type=2),
            )
        )
        self.assertEqual((refund.move_type, refund.partner_id), ("in_refund", supplier))
        self.assertEqual(refund.reversed_entry_id, typed)

    def test_bill_typed_in_by_hand_gets_the_ksef_number_instead_of_a_second_bill(self):
        supplier = self.supplier("768-000-24-66")
        contact = self.env["res.partner"].create({"name": "Jan", "parent_id": supplier.id})
        typed = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": contact.id,
                "ref": "FV/321/2026",
                "invoice_date": ISSUED,
                "invoice_line_ids": [
                    Command.create({"name": "Papier", "quantity": 10, "price_unit": 18.5, "tax_ids": self.tax_23.ids})
                ],
            }
        )
        typed.action_post()
        xml = invoice_xml(
            [item("Papier A4", "10", "18.50", "23"), item("Koperty", "1", "10", "23")], number="FV/321/2026"
        )
        moves = self.env["account.move"].search_count([])
        (number,) = self.receive(xml)
        self.assertEqual(self.bill(number), typed)
        self.assertEqual(self.env["account.move"].search_count([]), moves, "no second bill")
        self.assertEqual(typed.state, "posted")
        self.assertEqual(typed.amount_total, 227.55, "a posted bill keeps its amounts")
        notes = self.notes(typed)
        self.assertIn("entered by hand", notes)
        self.assertIn("Total: 227.55", notes)
        self.assertIn("239.85", notes)  # 195.00 + 44.85 on the invoice in KSeF
        attachment = self.env["ir.attachment"].search([("res_model", "=", "account.move"), ("res_id", "=", typed.id)])
        self.assertEqual(attachment.raw, xml)

    def test_supplier_found_by_nip_however_its_vat_is_written(self):
        Partner = self.env["res.partner"].with_context(active_test=False)
        other_company = self.setup_other_company(name="Inna Sp. z o.o.")["company"]
        elsewhere = self.supplier(OTHER_NIP, company_id=other_company.id)
        partners = Partner.search_count([])
        bill = self.upload(invoice_xml([item("Teczka", "1", "10", "23")]))
        self.assertNotEqual(bill.partner_id, elsewhere, "another company's supplier is never used")
        self.assertEqual((bill.partner_id.vat, bill.partner_id.name), ("PL%s" % OTHER_NIP, SUPPLIER))
        self.assertEqual(Partner.search_count([]), partners + 1)
        bill.partner_id.active = False
        bill = self.upload(invoice_xml([item("Teczka", "1", "10", "23")]))
        self.assertFalse(bill.partner_id.active)
        self.assertIn("is archived in Odoo", self.notes(bill), "an archived supplier is not used silently")
        self.assertEqual(Partner.search_count([]), partners + 1)
        for vat in ("768-000-24-66", "PL 7680002466", "pl7680002466"):
            supplier = self.supplier(vat)
            self.env["res.partner"].create({"name": "Księgowość", "parent_id": supplier.id})
            bill = self.upload(invoice_xml([item("Teczka", "1", "10", "23")]))
            self.assertEqual(bill.partner_id, supplier, vat)
            self.assertNotIn("archived", self.notes(bill))
            supplier.active = False
