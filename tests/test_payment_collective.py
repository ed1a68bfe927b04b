"""One transfer paying several bills of one supplier quotes the collective identifier KSeF issues for their
KSeF numbers (art. 108g of the VAT Act, from 1 January 2027): asked for when the payment is made, kept on
the payment and on the bills; no payment is made when KSeF does not give it."""

import datetime
import secrets

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import build_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import Address, Invoice, Party
from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import is_valid_collective_identifier

from .common import OTHER_NIP, TEST_NIP
from .test_offline import API_PATHS
from .test_payment_memo import IN_2027, PaymentMemoCommon
from .test_receive import line

#: a second supplier (valid NIP)
THIRD_NIP = "1234563218"
#: KSeF's collective-identifier endpoints
COLLECTIVE_PATHS = ("/collective-identifiers", "/collective-identifiers/*")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefPaymentCollective(PaymentMemoCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supplier_b = cls.env["res.partner"].create(
            {"name": "Drukarnia Sp. z o.o.", "vat": "PL%s" % THIRD_NIP, "is_company": True}
        )

    def seeded_bill(self, partner=None, price=1000.0, **values):
        """A posted bill whose KSeF number the simulator holds: an invoice the supplier issued to the company."""
        partner = partner or self.supplier
        nip = partner.vat[2:]
        ref = "FV/%s/2026" % secrets.token_hex(4).upper()
        invoice = Invoice(
            number=ref,
            issue_date=datetime.date.today() - datetime.timedelta(days=2),
            created_at=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
            seller=Party(name=partner.name, nip=nip, address=Address("ul. Papiernicza 7", "31-000 Kraków")),
            buyer=Party(name="Test company", nip=TEST_NIP, address=Address("ul. Testowa 1", "00-001 Warszawa")),
            kind="VAT",
            currency="PLN",
            lines=[line("Papier", "1", "%.2f" % price, "23")],
        )
        number = self.seed(build_fa3(invoice))
        values = {"currency_id": self.pln.id, "l10n_pl_ksef_number": number, **values}
        return self.bill(partner=partner, ref=ref, price=price, **values)

    def held(self, identifier):
        """``{KSeF number: (amount, currency)}`` of an identifier as the simulator holds it."""
        record = self.sim.collective.get(identifier)
        self.assertTrue(record, "KSeF holds the identifier %s" % identifier)
        return {
            item["ksefNumber"]: item["payment"] and (item["payment"]["amount"], item["payment"]["currency"])
            for item in record["invoices"]
        }

    def ksef_down(self):
        for path in API_PATHS + COLLECTIVE_PATHS:
            self.sim.faults.error(path, status=503, count=None)

    def test_two_bills_of_one_supplier_are_paid_with_their_collective_identifier(self):
        """Art. 108g: one transfer paying several invoices of one seller quotes the collective identifier KSeF
        issued for their KSeF numbers (with the amount paid for each)."""
        first, second = self.seeded_bill(price=1000.0), self.seeded_bill(price=500.0)
        bills = first | second
        wizard = self.wizard(bills, IN_2027, group_payment=True)
        self.assertIn("collective identifier", wizard.l10n_pl_ksef_title_note)
        payment = wizard._create_payments()
        identifier = payment.memo
        self.assertTrue(is_valid_collective_identifier(identifier), identifier)
        self.assertTrue(identifier.startswith("%s-IZ" % OTHER_NIP), "an identifier of the seller's invoices")
        self.assertEqual(payment.l10n_pl_ksef_collective_id, identifier)
        self.assertEqual(bills.mapped("l10n_pl_ksef_collective_id"), [identifier, identifier])
        self.assertEqual(set(bills.mapped("payment_state")) - {"paid", "in_payment"}, set())
        self.assertEqual(
            self.held(identifier),
            {first.l10n_pl_ksef_number: (1230.0, "PLN"), second.l10n_pl_ksef_number: (615.0, "PLN")},
        )

    def test_part_payment_names_the_invoices_without_amounts(self):
        bills = self.seeded_bill() | self.seeded_bill()
        payment = self.pay(bills, IN_2027, group_payment=True, amount=1000.0)
        held = self.held(payment.memo)
        self.assertEqual(set(held), set(bills.mapped("l10n_pl_ksef_number")))
        self.assertEqual(set(held.values()), {None}, "the amount paid for each bill is not known")

    def test_payment_made_again_quotes_the_identifier_ksef_already_issued(self):
        """A payment rolled back after KSeF issued its identifier (an error later, a retry) reuses it."""
        bills = self.seeded_bill() | self.seeded_bill()
        with self.assertRaises(InterruptedError), self.cr.savepoint():
            first = self.pay(bills, IN_2027, group_payment=True).memo
            raise InterruptedError  # the transaction that made the payment is lost
        self.env.invalidate_all()
        self.assertEqual(set(bills.mapped("payment_state")), {"not_paid"})
        self.assertFalse(any(bills.mapped("l10n_pl_ksef_collective_id")))
        again = self.pay(bills, IN_2027, group_payment=True)
        self.assertEqual(again.memo, first)
        self.assertEqual(self.sim.collective.by_invoice[bills[0].l10n_pl_ksef_number], [first], "one identifier")

    def test_ksef_down_nothing_is_paid(self):
        bills = self.seeded_bill() | self.seeded_bill()
        self.ksef_down()
        with self.assertRaisesRegex(UserError, "nothing was paid") as refused:
            self.pay(bills, IN_2027, group_payment=True)
        self.assertIn("Try again later, or pay the bills one by one", str(refused.exception))
        self.assertEqual(set(bills.mapped("payment_state")), {"not_paid"})
        self.assertFalse(self.env["account.payment"].search([("partner_id", "=", self.supplier.id)]))
        self.assertFalse(self.sim.collective.by_invoice.get(bills[0].l10n_pl_ksef_number))
        self.sim.faults.clear()
        self.assertTrue(is_valid_collective_identifier(self.pay(bills, IN_2027, group_payment=True).memo))

    def test_bills_of_two_suppliers_one_identifier_per_supplier(self):
        """KSeF issues a collective identifier for the invoices of one seller only: Odoo's group payment makes
        one transfer per supplier, each quoting its own."""
        of_a = self.seeded_bill() | self.seeded_bill()
        of_b = self.seeded_bill(partner=self.supplier_b) | self.seeded_bill(partner=self.supplier_b)
        payments = self.pay(of_a | of_b, IN_2027, group_payment=True)
        self.assertEqual(len(payments), 2)
        for bills, nip in ((of_a, OTHER_NIP), (of_b, THIRD_NIP)):
            payment = payments.filtered(lambda p, bills=bills: p.partner_id == bills.partner_id)
            self.assertTrue(payment.memo.startswith("%s-IZ" % nip), payment.memo)
            self.assertEqual(set(self.held(payment.memo)), set(bills.mapped("l10n_pl_ksef_number")))
            self.assertEqual(set(bills.mapped("l10n_pl_ksef_collective_id")), {payment.memo})

    def test_bill_without_number_and_numbered_bills_are_not_paid_together(self):
        bills = self.seeded_bill() | self.seeded_bill()
        outage = self.bill(ref="FV/A/9/2026", currency_id=self.pln.id)
        outage.l10n_pl_ksef_no_number_reason = "outage"
        wizard = self.wizard(bills | outage, IN_2027, group_payment=True)
        self.assertIn("have no KSeF number", wizard.l10n_pl_ksef_title_note)
        with self.assertRaisesRegex(UserError, "FV/A/9/2026 have no KSeF number"):
            wizard._create_payments()
        self.assertFalse(self.sim.collective.by_invoice.get(bills[0].l10n_pl_ksef_number), "KSeF was not asked")

    def test_split_payment_bills_stay_one_per_transfer(self):
        bills = self.seeded_bill(l10n_pl_ksef_split_payment=True) | self.seeded_bill(l10n_pl_ksef_split_payment=True)
        with self.assertRaisesRegex(UserError, "split payment"):
            self.pay(bills, IN_2027, group_payment=True)
