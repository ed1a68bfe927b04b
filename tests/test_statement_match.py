"""Being paid: a bank statement line quoting a customer invoice's KSeF number (art. 108g of the VAT Act, from
2027) is reconciled with that invoice. Odoo Community has no automatic bank matching of its own: these tests call
the addon's matching (``account.bank.statement.line._l10n_pl_ksef_match``, what the action runs) on lines created
without the matching at import (that one: ``test_statement_match_import.py``)."""

import datetime

from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import build_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import Address, Invoice, Party
from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import checksum, make_ksef_number
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming

from .common import OTHER_NIP, TEST_NIP
from .fa3_common import L10nPlKsefFa3Common
from .test_offline import API_PATHS
from .test_receive import line

ISSUED = datetime.date(2027, 1, 4)
PAID = datetime.date(2027, 1, 20)


class StatementMatchCommon(L10nPlKsefFa3Common):
    """Customer invoices with KSeF numbers and bank statement lines (no tests here)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.buyer_pl
        cls.other_customer = cls.buyer_pl.copy({"name": "Inny Klient S.A.", "vat": "PL7792433421"})
        cls.bank_journal = cls.company_data["default_journal_bank"]

    def invoice(self, tail, price=1000.0, partner=None):
        """A posted invoice of ``price`` gross (no VAT: the amounts stay round)."""
        invoice = self.make([self.line(price=price, tax="zw")], partner=partner or self.customer, invoice_date=ISSUED)
        if tail:  # as KSeF's acceptance leaves it
            invoice.l10n_pl_ksef_number = make_ksef_number(TEST_NIP, ISSUED, "0100000000%s" % tail)
        return invoice

    def st_line(self, label, amount, imported=False, **values):
        """A bank transaction: by default as the lines of a statement imported before the matching at import
        (left for the action); ``imported``: as Odoo's create makes it now (matched at once)."""
        StLine = self.env["account.bank.statement.line"]
        if not imported:
            StLine = StLine.with_context(l10n_pl_ksef_no_match=True)
        return StLine.create(
            {"journal_id": self.bank_journal.id, "date": PAID, "payment_ref": label, "amount": amount, **values}
        )

    @staticmethod
    def as_bank_gives(number):
        """Lower case, without dashes, in groups of 4 (as some banks deliver titles)."""
        plain = number.replace("-", "").lower()
        return " ".join(plain[i : i + 4] for i in range(0, len(plain), 4))

    def receivable(self, invoice):
        return invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable")


@tagged("post_install", "-at_install")
class TestStatementMatch(StatementMatchCommon):
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
        # the accountant reads on the invoice which transaction paid it and why (one note, not Odoo's tracking)
        notes = invoice.message_ids.filtered(lambda message: line.move_id.name in (message.body or ""))
        self.assertEqual(len(notes), 1, invoice.message_ids.mapped("body"))
        self.assertIn(invoice.l10n_pl_ksef_number, notes.body)

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

    def test_one_run_two_part_payments_of_one_invoice(self):
        """Two transfers of one run paying one invoice in two parts: both matched, the invoice paid."""
        invoice = self.invoice("09", 500.0)
        lines = self.st_line(invoice.l10n_pl_ksef_number, 200.0) | self.st_line(invoice.l10n_pl_ksef_number, 300.0)
        self.assertEqual(lines._l10n_pl_ksef_match(), lines)
        self.assertEqual(lines.mapped("is_reconciled"), [True, True])
        self.assertEqual(invoice.payment_state, "paid")

    def test_action_menu_matches_the_selected_lines(self):
        """The "Match by KSeF number" action of the bank transactions, as an accountant runs it."""
        invoice = self.invoice("08")
        lines = self.st_line(invoice.l10n_pl_ksef_number.lower(), 1000.0) | self.st_line("Wplata gotowki", 50.0)
        # bank reconciliation is for the "basic accounting" group (account's rights on statement lines)
        self.accountant.group_ids |= self.env.ref("account.group_account_basic")
        action = self.env.ref("l10n_pl_ksef.action_statement_line_ksef_match")
        result = action.with_user(self.accountant).with_context(active_model=lines._name, active_ids=lines.ids).run()
        self.assertIn("1 of 2", result["params"]["message"])
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(lines.mapped("is_reconciled"), [True, False])

    def test_ksef_1_0_number_of_an_older_invoice_is_matched(self):
        """An invoice issued in KSeF 1.0 (2025) keeps its 36-character number; a customer paying it in 2027 quotes
        that number, as his bank delivers it."""
        invoice = self.invoice(None)
        invoice.l10n_pl_ksef_number = "%s-20251230-0100A1-AF629B-8E" % TEST_NIP
        line = self.st_line("Zaplata %s" % self.as_bank_gives(invoice.l10n_pl_ksef_number), 1000.0)
        self.assertEqual(line._l10n_pl_ksef_match(), line)
        self.assertEqual(invoice.payment_state, "paid")

    def test_a_contact_of_the_customer_on_the_transaction_stays(self):
        """The bank named the customer's contact person: the transaction keeps her, its bank line too; the line
        that pays the invoice carries the customer, as the invoice does."""
        invoice = self.invoice("0A")
        contact = self.env["res.partner"].create({"name": "Anna Księgowa", "parent_id": self.customer.id})
        line = self.st_line(invoice.l10n_pl_ksef_number, 1000.0, partner_id=contact.id)
        self.assertEqual(line._l10n_pl_ksef_match(), line)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(line.partner_id, contact)
        liquidity, _suspense, others = line._seek_for_lines()
        self.assertEqual(liquidity.partner_id, contact)
        self.assertEqual(others.partner_id, self.customer)
        self.assertEqual(others.account_id, self.receivable(invoice).account_id)

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


class StatementMatchKsefCommon(StatementMatchCommon):
    """The company connected to the simulator, its invoices accepted there, collective identifiers (no tests)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()
        cls.simulator.sim.invoice_store.configure(permanent_storage_delay=0)

    def setUp(self):
        super().setUp()
        self.connect_to_simulator()

    def ksef_invoice(self, price):
        """An invoice of the company to the customer, accepted in KSeF (the simulator holds it)."""
        invoice = self.invoice(None, price)
        xml = build_fa3(
            Invoice(
                number=invoice.name,
                issue_date=datetime.date.today() - datetime.timedelta(days=2),
                created_at=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
                seller=Party(name="Test company", nip=TEST_NIP, address=Address("ul. Testowa 1", "00-001 Warszawa")),
                buyer=Party(name=self.customer.name, nip=OTHER_NIP, address=Address("ul. Dluga 5", "30-001 Krakow")),
                kind="VAT",
                currency="PLN",
                lines=[line("Usluga", "1", "%.2f" % price, "23")],
            )
        )
        invoice.l10n_pl_ksef_number = seed_incoming(self.sim, xml)
        return invoice

    def collective(self, invoices, amounts=True):
        """The identifier the customer asked KSeF for (with the amounts it pays, or without)."""
        items = [
            {"ksefNumber": i.l10n_pl_ksef_number, "payment": {"amount": i.amount_total, "currency": "PLN"}}
            if amounts
            else i.l10n_pl_ksef_number
            for i in invoices
        ]
        return self.sim.collective.generate({"type": "Nip", "value": OTHER_NIP}, items)["number"]

    def ksef_down(self):
        for path in (*API_PATHS, "/collective-identifiers", "/collective-identifiers/*"):
            self.sim.faults.error(path, status=503, count=None)


@tagged("post_install", "-at_install")
class TestStatementMatchCollective(StatementMatchKsefCommon):
    """A transfer paying several invoices quotes the collective identifier KSeF issued for them (art. 108g)."""

    def test_collective_identifier_pays_its_invoices_asked_once(self):
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(250.0) | self.ksef_invoice(40.0)
        unpaid = self.ksef_invoice(70.0)
        identifier = self.collective(invoices)
        spaced = identifier.lower().replace("-", " ")
        line_ = self.st_line("Zaplata zbiorcza %s dziekujemy" % spaced, 390.0)
        self.assertEqual(line_._l10n_pl_ksef_match(), line_)
        self.assertEqual(line_.partner_id, self.customer)
        self.assertTrue(line_.is_reconciled)
        self.assertEqual(invoices.mapped("payment_state"), ["paid"] * 3)
        self.assertEqual(unpaid.payment_state, "not_paid")

    def test_identifier_asked_once(self):
        """Two part payments quoting one identifier (no amounts named): the second is matched from what KSeF
        answered for the first, with KSeF down."""
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(250.0)
        identifier = self.collective(invoices, amounts=False)
        first = self.st_line(identifier, 200.0)
        self.assertEqual(first._l10n_pl_ksef_match(), first)
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "partial"])
        self.ksef_down()
        second = self.st_line(identifier.lower(), 150.0)
        self.assertEqual(second._l10n_pl_ksef_match(), second)
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "paid"])

    def test_amounts_named_by_ksef_are_checked(self):
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(200.0)
        with_amounts = self.st_line(self.collective(invoices), 250.0)
        self.assertFalse(with_amounts._l10n_pl_ksef_match(), "KSeF names 300.00: a person decides")
        self.assertEqual(invoices.mapped("payment_state"), ["not_paid"] * 2)

        without = self.st_line(self.collective(invoices, amounts=False), 250.0)
        self.assertEqual(without._l10n_pl_ksef_match(), without, "no amounts named: a part payment")
        self.assertEqual(invoices.mapped("payment_state"), ["paid", "partial"])

    def test_ksef_down_or_unknown_identifier_leaves_the_line(self):
        invoices = self.ksef_invoice(100.0) | self.ksef_invoice(200.0)
        identifier = self.collective(invoices)
        self.ksef_down()
        line_ = self.st_line(identifier, 300.0)
        self.assertFalse(line_._l10n_pl_ksef_match())
        self.sim.faults.clear()
        self.assertEqual(line_._l10n_pl_ksef_match(), line_, "matched once KSeF answers")

        unknown = identifier[:20] + ("0" if identifier[20] != "0" else "1") + identifier[21:32]
        self.assertFalse(self.st_line(unknown + "-" + checksum(unknown), 300.0)._l10n_pl_ksef_match())
