"""Sending and importing act only within the user's companies (ORM calls as the web client makes them)."""

import datetime
from decimal import Decimal as D

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.client import SyncState
from odoo.addons.l10n_pl_ksef.ksef_core.fa3 import build_fa3
from odoo.addons.l10n_pl_ksef.ksef_core.fa3.model import Address, Invoice, Line, Party
from odoo.addons.l10n_pl_ksef.ksef_core.ksef_number import make_ksef_number
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.seeding import seed_incoming

from .access_common import L10nPlKsefAccessCommon
from .common import OTHER_NIP, TEST_NIP
from .fa3_common import ISSUED

SUPPLIER_NIP = "1132853869"


def supplier_invoice(buyer_nip, number):
    """FA(3) bytes of an invoice a third supplier issued to ``buyer_nip``."""
    invoice = Invoice(
        number=number,
        issue_date=datetime.date.today() - datetime.timedelta(days=1),
        created_at=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
        seller=Party(name="Dostawca Sp. z o.o.", nip=SUPPLIER_NIP, address=Address("ul. Leśna 2", "31-000 Kraków")),
        buyer=Party(name="Nabywca", nip=buyer_nip, address=Address("ul. Testowa 1", "00-001 Warszawa")),
        kind="VAT",
        currency="PLN",
        lines=[Line(name="Papier", quantity=D("2"), unit="szt.", unit_price=D("10"), rate="23")],
    )
    return build_fa3(invoice)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefAccessActions(L10nPlKsefAccessCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for company in (cls.company, cls.other):
            cls.purchase_tax(company, "23")

    def assertNothingSent(self, before, move=None):
        self.assertEqual(self.sim.request_count, before, "KSeF was called")
        if move:
            self.assertFalse(move.l10n_pl_ksef_document_ids, "the invoice was queued")
            self.assertEqual(self.stored_numbers_of(move.name), [])

    def test_accountant_of_another_company_cannot_send_or_touch_its_invoices(self):
        move = self.invoice()
        before = self.sim.request_count
        as_outsider = move.with_user(self.outsider)
        calls = {
            "send": lambda m: m.action_l10n_pl_ksef_send(),
            "check status": lambda m: m.action_l10n_pl_ksef_check_status(),
            "issue offline": lambda m: m.action_l10n_pl_ksef_issue_offline(),
            "download UPO": lambda m: m.action_l10n_pl_ksef_download_upo(),
        }
        for context in ({}, {"allowed_company_ids": [self.company.id]}, {"allowed_company_ids": [self.other.id]}):
            for name, call in calls.items():
                with self.subTest(call=name, context=context), self.assertRaises(AccessError):
                    call(as_outsider.with_context(**context))
        with self.assertRaises(AccessError):
            self.sent.with_user(self.outsider).action_l10n_pl_ksef_download_upo()
        with self.assertRaises(AccessError):
            self.document.with_user(self.outsider).action_l10n_pl_ksef_download_upo()
        # a KSeF number "issued outside Odoo" for another company's invoice
        wizard = self.env["l10n_pl_ksef.manual.number"].with_user(self.outsider)
        with self.assertRaises(AccessError):
            wizard.create(
                {"move_id": move.id, "ksef_number": make_ksef_number(TEST_NIP, ISSUED, "0123456789AB")}
            ).action_confirm()
        self.assertNothingSent(before, move)
        self.assertEqual(move.l10n_pl_ksef_state, False)
        # the same button works for the company's own accountant: the refusals above were about the company
        move.with_user(self.accountant).action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertGreater(self.sim.request_count, before)

    def test_user_of_company_a_cannot_send_an_invoice_of_company_b(self):
        move = self.other_invoice()
        before = self.sim.request_count
        for user in (self.clerk, self.accountant):
            for context in ({}, {"allowed_company_ids": [self.other.id]}):
                with self.subTest(user=user.login, context=context), self.assertRaises(AccessError):
                    move.with_user(user).with_context(**context).action_l10n_pl_ksef_send()
        self.assertNothingSent(before, move)

    def set_positions(self):
        for company in (self.company, self.other):
            state = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(company)
            state.write({"sync_state": SyncState("Subject2", self.sim.clock.now().isoformat()).to_dict()})

    def bill_of(self, number):
        return self.env["account.move"].search([("l10n_pl_ksef_number", "=", number)])

    def test_import_now_acts_only_on_the_users_companies(self):
        self.set_positions()
        for_a = seed_incoming(self.sim, supplier_invoice(TEST_NIP, "FV/A/1"))
        for_b = seed_incoming(self.sim, supplier_invoice(OTHER_NIP, "FV/B/1"))
        state_a = self.env["l10n_pl_ksef.receive.state"]._l10n_pl_ksef_for(self.company)
        position_a = state_a.sync_state
        before = self.sim.request_count
        # company A's import by B's accountant, however he asks
        for context in ({}, {"allowed_company_ids": [self.company.id]}, {"allowed_company_ids": [self.other.id]}):
            with self.subTest(context=context), self.assertRaises(AccessError):
                self.company.with_user(self.outsider).with_context(**context).action_l10n_pl_ksef_receive_now()
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.outsider).create(
                {"company_id": self.company.id}
            ).action_l10n_pl_ksef_receive_now()
        # a plain invoicing user does not import, not even for his own company
        with self.assertRaises(AccessError):
            self.company.with_user(self.clerk).action_l10n_pl_ksef_receive_now()
        # nor may B's accountant retry company A's invoices waiting
        failure = (
            self.env["l10n_pl_ksef.receive.failure"]
            .sudo()
            .create({"company_id": self.company.id, "ksef_number": "%s-20261120-0123456789AB-7C" % TEST_NIP})
        )
        for action in ("action_l10n_pl_ksef_retry_now", "action_l10n_pl_ksef_drop"):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(failure.with_user(self.outsider), action)()
        self.assertTrue(failure.active)
        self.assertEqual(self.sim.request_count, before, "KSeF was called")
        self.assertFalse(self.bill_of(for_a) | self.bill_of(for_b))
        self.assertEqual(state_a.sync_state, position_a, "company A's position moved")
        # his own company's import brings his own invoice only, into his own company
        self.other.with_user(self.outsider).with_context(
            allowed_company_ids=self.other.ids
        ).action_l10n_pl_ksef_receive_now()
        bill = self.bill_of(for_b)
        self.assertEqual((len(bill), bill.company_id), (1, self.other))
        # its FA(3) file is B's: found by B's accountant, not by A's
        files = [("res_model", "=", "account.move"), ("res_id", "=", bill.id)]
        self.assertTrue(self.env["ir.attachment"].with_user(self.outsider).search(files))
        self.assertFalse(self.env["ir.attachment"].with_user(self.accountant).search(files))
        self.assertFalse(self.bill_of(for_a), "company A's invoice was imported by B's run")
        self.assertEqual(state_a.sync_state, position_a, "company A's position moved")
        # and A's accountant imports A's (the refusals above were about the company, not the invoice)
        self.company.with_user(self.accountant).action_l10n_pl_ksef_receive_now()
        self.assertEqual(self.bill_of(for_a).company_id, self.company)
