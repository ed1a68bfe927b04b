"""Paying suppliers lawfully: the memo of payments registered from bills quotes the KSeF number (art. 108g of
the VAT Act, from 1 January 2027), an MPP message names it (art. 108a ust. 3), the law's exceptions say why
there is none. Several bills in one transfer: tests/test_payment_collective.py."""

import datetime

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.ksef_core.payment_title import TITLE_RULE_FROM

from .common import OTHER_NIP, TEST_NIP
from .test_receive import ReceiveCommon, fa3, line

#: a payment under art. 108g, and one before it
IN_2027 = datetime.date(2027, 1, 15)
IN_2026 = datetime.date(2026, 12, 15)
ISSUED = datetime.date(2026, 12, 1)


class PaymentMemoCommon(ReceiveCommon):
    """A Polish supplier, a foreign one, bills and the payment wizard (no tests here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.supplier = Partner.create({"name": "Dostawca Sp. z o.o.", "vat": "PL%s" % OTHER_NIP, "is_company": True})
        cls.foreign = Partner.create(
            {"name": "Lieferant GmbH", "vat": "DE136695976", "country_id": cls.env.ref("base.de").id}
        )
        cls.bank_journal = cls.company_data["default_journal_bank"]

    def number(self, tail, nip=OTHER_NIP):
        return make_ksef_number(nip, ISSUED, "0100000000%s" % tail)

    def bill(self, partner=None, ref="FV/7/2026", price=1000.0, post=True, **values):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": (partner or self.supplier).id,
                "ref": ref,
                "invoice_date": ISSUED,
                "journal_id": self.journal.id,
                "invoice_line_ids": [
                    Command.create({"name": "Papier", "quantity": 1, "price_unit": price, "tax_ids": self.tax_23.ids})
                ],
                **values,
            }
        )
        if post:
            bill.action_post()
        return bill

    def wizard(self, bills, day, **values):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=bills.ids)
            .create({"payment_date": day, "journal_id": self.bank_journal.id, **values})
        )

    def pay(self, bills, day, **values):
        return self.wizard(bills, day, **values)._create_payments()


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefPaymentMemo(PaymentMemoCommon):
    # ------------------------------------------------------------------ one bill, one transfer

    def test_bill_imported_from_ksef_is_paid_with_its_ksef_number(self):
        """Art. 108g ust. 1: the title of the transfer paying a structured invoice quotes its KSeF number."""
        number = self.seed(fa3([line("Papier A4", "10", "18.50", "23")], number="FV/900/2026"))
        self.run_cron()
        bill = self.bills(number)
        self.assertEqual(bill.ref, "FV/900/2026")
        self.assertEqual(bill.payment_reference, number, "the bill's payment reference is its KSeF number")
        bill.action_post()
        wizard = self.wizard(bill, IN_2027)
        self.assertEqual(wizard.communication, number, "Pay proposes the KSeF number as the memo")
        self.assertFalse(wizard.l10n_pl_ksef_title_note)
        payment = wizard._create_payments()
        self.assertEqual(payment.memo, number)
        self.assertIn(bill.payment_state, ("paid", "in_payment"))

    def test_typed_ksef_number_from_the_suppliers_pdf(self):
        """A bill entered by hand takes the KSeF number typed from the supplier's PDF (spaces and lower case
        as people copy it) and is paid with it."""
        bill = self.bill(post=False)
        number = self.number("A1")
        with Form(bill) as form:
            form.l10n_pl_ksef_number = " %s " % number.lower()
            self.assertEqual(form.payment_reference, number, "the form shows the reference at once")
        self.assertEqual(bill.l10n_pl_ksef_number, number)
        self.assertEqual(bill.payment_reference, number)
        bill.action_post()
        self.assertEqual(self.pay(bill, IN_2027).memo, number)

    def test_number_typed_on_a_posted_bill_becomes_its_payment_reference(self):
        bill = self.bill()
        number = self.number("A2")
        bill.l10n_pl_ksef_number = number
        self.assertEqual(bill.payment_reference, number)
        self.assertEqual(self.pay(bill, IN_2027).memo, number)

    def test_invalid_typed_ksef_number_is_refused(self):
        bill = self.bill()
        wrong_check = self.number("A3")[:-2] + ("00" if not self.number("A3").endswith("00") else "01")
        refused = [
            (wrong_check, "is not a KSeF number"),
            ("FV/7/2026", "is not a KSeF number"),
            # a number KSeF gave an invoice of another seller (here: our own company's NIP)
            (self.number("A3", nip=TEST_NIP), "belongs to an invoice of NIP %s" % TEST_NIP),
        ]
        for typed, reason in refused:
            with self.subTest(typed=typed), self.assertRaisesRegex(ValidationError, reason), self.cr.savepoint():
                bill.l10n_pl_ksef_number = typed
        self.assertFalse(bill.l10n_pl_ksef_number)
        self.assertFalse(bill.payment_reference)

    def test_imported_bill_keeps_its_number_read_only(self):
        number = self.seed(fa3([line("Toner", "1", "300", "23")]))
        self.run_cron()
        bill = self.bills(number)
        self.assertFalse(bill.l10n_pl_ksef_number_typable, "the number of a bill from KSeF is KSeF's")
        self.assertTrue(self.bill(post=False).l10n_pl_ksef_number_typable)

    def test_bill_of_a_foreign_supplier_is_left_as_odoo_makes_it(self):
        bill = self.bill(partner=self.foreign, ref="RE-2026-77")
        self.assertFalse(bill.l10n_pl_ksef_number_typable, "no KSeF number to type for a foreign supplier")
        self.assertFalse(bill.l10n_pl_ksef_no_number_reason)
        wizard = self.wizard(bill, IN_2027)
        self.assertFalse(wizard.l10n_pl_ksef_title_note)
        self.assertEqual(wizard._create_payments().memo, "RE-2026-77")

    # ------------------------------------------------------------------ the law's exceptions

    def test_vat_exempt_seller_memo_says_why_there_is_no_number(self):
        """Art. 113: a seller exempt from VAT issues no structured invoice; the title says so."""
        exempt = self.supplier.copy({"name": "Pracownia Jana Kowalskiego", "l10n_pl_ksef_vat_exempt": True})
        bill = self.bill(partner=exempt, ref="1/12/2026")
        self.assertEqual(bill.l10n_pl_ksef_no_number_reason, "exempt")
        self.assertEqual(self.pay(bill, IN_2027).memo, "1/12/2026 bez nr KSeF - sprzedawca zwolniony z VAT")

    def test_invoice_from_a_ksef_failure_memo_says_why_there_is_no_number(self):
        bill = self.bill(ref="FV/A/3/2026")
        bill.l10n_pl_ksef_no_number_reason = "outage"
        wizard = self.wizard(bill, IN_2027)
        self.assertEqual(wizard.communication, "FV/A/3/2026 bez nr KSeF - faktura z awarii KSeF")
        self.assertFalse(wizard.l10n_pl_ksef_title_note)

    def test_bill_without_number_or_reason_is_pointed_out_in_pay(self):
        bill = self.bill(ref="FV/8/2026")
        wizard = self.wizard(bill, IN_2027)
        self.assertIn("has no KSeF number", wizard.l10n_pl_ksef_title_note)
        self.assertEqual(wizard.communication, "FV/8/2026", "Odoo's memo: the invoice may be outside KSeF")

    # ------------------------------------------------------------------ split payment

    def test_split_payment_message_names_the_ksef_number(self):
        """Art. 108a ust. 3: the VAT message of a split payment, /VAT/<VAT>/IDC/<seller NIP>/INV/<invoice>/TXT/,
        with the KSeF number as the invoice from 2027 and the invoice's own number before."""
        number = self.number("B1")
        bill = self.bill(ref="FV/7/2026", l10n_pl_ksef_number=number, l10n_pl_ksef_split_payment=True)
        self.assertEqual(bill.amount_tax, 230.0)
        wizard = self.wizard(bill, IN_2027)
        expected = "/VAT/230,00/IDC/%s/INV/%s/TXT/FV-7-2026" % (OTHER_NIP, number)
        self.assertEqual(wizard.communication, expected)
        wizard.payment_date = IN_2026
        self.assertEqual(wizard.communication, "/VAT/230,00/IDC/%s/INV/FV/7/2026" % OTHER_NIP)
        wizard.payment_date = IN_2027
        wizard.amount = 615.0  # half of 1230: half of the VAT goes to the VAT account
        self.assertEqual(wizard.communication, "/VAT/115,00/IDC/%s/INV/%s/TXT/FV-7-2026" % (OTHER_NIP, number))
        self.assertEqual(wizard._create_payments().memo, wizard.communication)

    def test_split_payment_of_a_ksef_1_0_invoice_quotes_its_whole_number(self):
        """Art. 108a ust. 3 pkt 3 and art. 108g: the INV field of the VAT message takes 35 characters (Polish
        banks: /VAT/10n,2n/IDC/14x/INV/35x/TXT/33x). A KSeF 1.0 number has 36 (a dash inside its technical
        part): it goes without that dash, whole, and the payment is made (not refused for a missing number)."""
        number = "%s-20250105-0100A1-F629AB-7C" % OTHER_NIP
        self.assertEqual(len(number), 36)
        bill = self.bill(ref="FV/9/2025", l10n_pl_ksef_number=number, l10n_pl_ksef_split_payment=True)
        wizard = self.wizard(bill, IN_2027)
        expected = "/VAT/230,00/IDC/%s/INV/%s-20250105-0100A1F629AB-7C/TXT/FV-9-2025" % (OTHER_NIP, OTHER_NIP)
        self.assertEqual(wizard.communication, expected)
        self.assertFalse(wizard.l10n_pl_ksef_title_note)
        self.assertEqual(wizard._create_payments().memo, expected)

    # ------------------------------------------------------------------ several bills, one transfer

    def test_two_bills_whose_numbers_ksef_does_not_know_are_not_paid_together(self):
        """Art. 108g: one transfer paying several invoices quotes their collective identifier; KSeF refuses
        one for invoices it does not hold for the company (71001): nothing is paid."""
        first = self.bill(ref="FV/1/2026", l10n_pl_ksef_number=self.number("C1"))
        second = self.bill(ref="FV/2/2026", l10n_pl_ksef_number=self.number("C2"))
        bills = first | second
        wizard = self.wizard(bills, IN_2027, group_payment=True)
        self.assertIn("Odoo asks KSeF for it when you create the payment", wizard.l10n_pl_ksef_title_note)
        with self.assertRaisesRegex(UserError, "nothing was paid") as refused:
            wizard._create_payments()
        self.assertIn(first.l10n_pl_ksef_number, str(refused.exception), "the numbers KSeF refused are named")
        self.assertEqual(set(bills.mapped("payment_state")), {"not_paid"}, "no transfer left")
        self.assertFalse(self.env["account.payment"].search([("partner_id", "=", self.supplier.id)]))
        # one transfer per bill: each quotes its own number
        payments = self.pay(bills, IN_2027, group_payment=False)
        self.assertEqual(sorted(payments.mapped("memo")), sorted(bills.mapped("l10n_pl_ksef_number")))
        self.assertFalse(any(payments.mapped("l10n_pl_ksef_collective_id")))

    def test_several_bills_of_an_exempt_seller_in_one_payment(self):
        exempt = self.supplier.copy({"name": "Pracownia", "l10n_pl_ksef_vat_exempt": True})
        bills = self.bill(partner=exempt, ref="1/2026") | self.bill(partner=exempt, ref="2/2026")
        payment = self.pay(bills, IN_2027, group_payment=True)
        self.assertEqual(payment.memo, "1/2026, 2/2026 bez nr KSeF - sprzedawca zwolniony z VAT")

    # ------------------------------------------------------------------ before 2027

    def test_before_2027_odoo_behaviour_stays(self):
        self.assertEqual(TITLE_RULE_FROM, datetime.date(2027, 1, 1))
        first = self.bill(ref="FV/1/2026", l10n_pl_ksef_number=self.number("D1"))
        second = self.bill(ref="FV/2/2026", l10n_pl_ksef_number=self.number("D2"))
        wizard = self.wizard(first | second, IN_2026, group_payment=True)
        self.assertFalse(wizard.l10n_pl_ksef_title_note)
        payment = wizard._create_payments()
        # Odoo's memo of several bills: their payment references, which already are their KSeF numbers
        self.assertEqual(payment.memo, ", ".join(sorted((first | second).mapped("l10n_pl_ksef_number"))))
        exempt = self.supplier.copy({"name": "Pracownia", "l10n_pl_ksef_vat_exempt": True})
        self.assertEqual(self.pay(self.bill(partner=exempt, ref="3/2026"), IN_2026).memo, "3/2026")
