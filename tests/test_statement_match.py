"""Being paid: a bank statement line quoting a customer invoice's KSeF number (art. 108g of the VAT Act, from
2027) is reconciled with that invoice. Odoo Community has no automatic bank matching of its own, so the tests call
the addon's matching (``account.bank.statement.line._l10n_pl_ksef_match``) directly."""

import datetime

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number

from .common import TEST_NIP
from .fa3_common import L10nPlKsefFa3Common

ISSUED = datetime.date(2027, 1, 4)
PAID = datetime.date(2027, 1, 20)


@tagged("post_install", "-at_install")
class TestStatementMatch(L10nPlKsefFa3Common):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.buyer_pl
        cls.other_customer = cls.buyer_pl.copy({"name": "Inny Klient S.A.", "vat": "PL7792433421"})
        cls.bank_journal = cls.company_data["default_journal_bank"]

    def invoice(self, tail, price=1000.0, partner=None):
        """A posted invoice of ``price`` gross (no VAT: the amounts stay round)."""
        invoice = self.make([self.line(price=price, tax="zw")], partner=partner or self.customer, invoice_date=ISSUED)
        # as KSeF's acceptance leaves it
        invoice.l10n_pl_ksef_number = make_ksef_number(TEST_NIP, ISSUED, "0100000000%s" % tail)
        return invoice

    def st_line(self, label, amount, **values):
        return self.env["account.bank.statement.line"].create(
            {"journal_id": self.bank_journal.id, "date": PAID, "payment_ref": label, "amount": amount, **values}
        )

    @staticmethod
    def as_bank_gives(number):
        """Lower case, without dashes, in groups of 4 (as some banks deliver titles)."""
        plain = number.replace("-", "").lower()
        return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))

    def receivable(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")

    def test_number_in_lower_case_split_with_text_is_matched(self):
        invoice = self.invoice("01")
        self.invoice("02")  # same customer, another invoice: not paid by this line
        line = self.st_line(
            "PRZELEW KLIENT SP Z O O %s faktura FV/1/2027" % self.as_bank_gives(invoice.l10n_pl_ksef_number), 1000.0
        )
        self.assertEqual(line._l10n_pl_ksef_invoice_matching_amls(), self.receivable(invoice))

        self.assertEqual(line._l10n_pl_ksef_match(), line)
        self.assertEqual(line.partner_id, self.customer)
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertIn(
            line.move_id, self.receivable(invoice).matched_credit_ids.credit_move_id.move_id, "paid by this line"
        )

    def test_two_invoices_one_line_and_part_payment(self):
        first, second = self.invoice("03", 300.0), self.invoice("04", 700.0)
        label = "%s %s" % (first.l10n_pl_ksef_number.lower(), second.l10n_pl_ksef_number)
        self.st_line(label, 1000.0)._l10n_pl_ksef_match()
        self.assertEqual((first | second).mapped("payment_state"), ["paid", "paid"])

        third = self.invoice("05", 500.0)
        line = self.st_line(third.l10n_pl_ksef_number, 200.0)
        line._l10n_pl_ksef_match()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(third.payment_state, "partial")
        self.assertAlmostEqual(third.amount_residual, 300.0)

    def test_not_matched(self):
        """A label without a valid KSeF number, a number of a paid invoice, another customer's invoices in one
        line: nothing is reconciled without a person's choice."""
        invoice = self.invoice("06")
        wrong = invoice.l10n_pl_ksef_number[:-2] + ("00" if not invoice.l10n_pl_ksef_number.endswith("00") else "01")
        line = self.st_line("Zaplata %s" % wrong, 1000.0)
        self.assertFalse(line._l10n_pl_ksef_match())
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, "not_paid")

        other = self.invoice("07", partner=self.other_customer)
        line = self.st_line("%s %s" % (invoice.l10n_pl_ksef_number, other.l10n_pl_ksef_number), 2000.0)
        self.assertEqual(len(line._l10n_pl_ksef_invoice_matching_amls()), 2)
        self.assertFalse(line._l10n_pl_ksef_match())
        self.assertFalse(line.partner_id)

        self.st_line(invoice.l10n_pl_ksef_number, 1000.0)._l10n_pl_ksef_match()
        self.assertEqual(invoice.payment_state, "paid")
        again = self.st_line(invoice.l10n_pl_ksef_number, 1000.0)
        self.assertFalse(again._l10n_pl_ksef_match(), "a paid invoice is not paid twice")
