"""A company that switches KSeF (environment, address, NIP): nothing goes to the other KSeF, nothing is lost.

Two simulators stand for two environments (two custom addresses): A, where the tests start, and B.
"""

import contextlib
import datetime
from decimal import Decimal as D

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.client import KsefClient
from odoo.addons.l10n_pl_ksef.ksef_core.simulator.testing import running_simulator

from .common import TEST_NIP
from .send_common import L10nPlKsefSendCommon
from .test_receive import ReceiveCommon, fa3, line


def start_other_simulator(cls):
    """Simulator B: another KSeF, at another address."""
    stack = contextlib.ExitStack()
    cls.other = stack.enter_context(running_simulator())
    cls.addClassCleanup(stack.close)
    cls.other.sim.invoice_store.configure(permanent_storage_delay=0)


class EnvironmentsMixin:
    def numbers_in(self, simulator, invoice_number):
        """KSeF numbers ``simulator`` gave an invoice with this seller number (P_2)."""
        return [
            ksef
            for ksef, record in simulator.sim.invoice_store.invoices.items()
            if record.get("invoiceNumber") == invoice_number
        ]

    def force_switch(self, simulator):
        """The company now uses ``simulator``, switched behind the checks (data of a version that did not refuse
        a switch), with a valid token of that KSeF: whatever it is sent arrives."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_company SET l10n_pl_ksef_custom_url = %s WHERE id = %s",
            [simulator.base_url, self.company.id],
        )
        self.company.invalidate_recordset()
        self.company._l10n_pl_ksef_set_token(simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead")))

    def switch_with_wizard(self, simulator, token=None):
        token = token or simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
        wizard = self.setup_wizard(custom_url=simulator.base_url, auth_method="token", token=token)
        wizard.action_save_credentials()
        self.assertEqual(self.company.l10n_pl_ksef_custom_url, simulator.base_url)
        return wizard


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefEnvironments(EnvironmentsMixin, L10nPlKsefSendCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_other_simulator(cls)

    def test_invoice_queued_for_one_ksef_never_reaches_another(self):
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        self.force_switch(self.other)
        later = self.invoice()
        later.action_l10n_pl_ksef_send()
        self.run_cron()
        self.assertEqual(self.numbers_in(self.other, move.name), [], "queued for A: never sent to B")
        self.assertEqual(document.state, "to_send")
        self.assertIn("another KSeF", document.reason, "the document says why it waits")
        self.assertIn("another KSeF", str(move.l10n_pl_ksef_banner), "so does the invoice")
        self.assertEqual(later.l10n_pl_ksef_state, "accepted", "B's own invoices go on")
        self.assertEqual(self.numbers_in(self.other, later.name), [later.l10n_pl_ksef_number])
        self.assertEqual(later.l10n_pl_ksef_document_id.endpoint.split("|")[1], self.other.base_url)
        # back to A: it goes where it was queued for, once
        self.force_switch(self.simulator)
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual(self.numbers_in(self.simulator, move.name), [move.l10n_pl_ksef_number])
        self.assertEqual(self.numbers_in(self.other, move.name), [])

    def test_send_left_sending_in_one_ksef_is_not_recovered_in_another_nor_blocks_it(self):
        move = self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        # a worker sent the invoice to A and died before writing the answer: only "sending" was committed
        client = KsefClient(custom_api_url=self.simulator.base_url, nip=TEST_NIP, ksef_token=self.token, timeout=10.0)
        session = client.online.open()
        client.online.send(session, document.xml.encode(), own_id=document.id)
        record = self.env["l10n_pl_ksef.session"]._l10n_pl_ksef_store_online(
            self.company, self.env["l10n_pl_ksef.user.token"], client.environment.name, session
        )
        document.sudo().write({"state": "sending", "session_id": record.id})
        self.force_switch(self.other)
        later = self.invoice()
        later._l10n_pl_ksef_queue()
        for _run in range(2):
            result = self.run_cron()[self.company.id]
            self.assertFalse(result["error"], "B's queue is not blocked by A's lost answer")
        self.assertEqual(later.l10n_pl_ksef_state, "accepted")
        self.assertEqual(document.state, "sending", "only A can say whether it has it")
        self.assertEqual(self.numbers_in(self.other, move.name), [])
        self.assertNotEqual(later.l10n_pl_ksef_document_id.session_id, record, "A's session is not used in B")
        self.assertTrue(document.next_try, "parked: the cron does not spin on it")
        # back to A: the lost answer is resolved there, and the invoice is in A once
        self.force_switch(self.simulator)
        self.run_cron()
        self.assertEqual(document.state, "accepted", document.reason)
        self.assertEqual(self.numbers_in(self.simulator, move.name), [move.l10n_pl_ksef_number])

    def test_switch_is_refused_while_invoices_are_on_their_way(self):
        moves = self.invoices(22)
        documents, _problems = moves._l10n_pl_ksef_queue()
        self.assertEqual(len(documents), 22)
        with self.assertRaises(UserError) as caught:
            self.company.l10n_pl_ksef_custom_url = self.other.base_url
        message = str(caught.exception)
        self.assertIn(moves.sorted("id")[0].name, message)
        self.assertIn("and 2 more", message)
        self.assertIn("Withdraw the unsent invoices", message)
        with self.assertRaises(UserError):
            self.company.l10n_pl_ksef_environment = "prod"
        with self.assertRaises(UserError):
            self.company.vat = "PL5213450008"  # another NIP is another KSeF context
        self.assertEqual(self.company.l10n_pl_ksef_custom_url, self.simulator.base_url)
        with self.assertRaises(UserError):
            self.switch_with_wizard(self.other)
        self.assertEqual(set(documents.mapped("state")), {"to_send"})

    def test_withdraw_unsent_invoices_then_the_switch_passes(self):
        move, busy = self.invoice(), self.invoice()
        document, _problems = move._l10n_pl_ksef_queue()
        busy_document, _problems = busy._l10n_pl_ksef_queue()
        busy_document.sudo().write({"state": "processing"})  # KSeF has it: it cannot be withdrawn
        wizard = self.setup_wizard(custom_url=self.other.base_url, auth_method="token")
        self.assertIn(move.name, wizard.pending_warning)
        self.assertIn(busy.name, wizard.pending_warning)
        self.assertIn("Wait for KSeF's answer", wizard.pending_warning)
        self.assertTrue(wizard.can_withdraw)
        wizard.action_withdraw_unsent()
        self.assertEqual(document.state, "cancelled")
        self.assertIn(move.name, wizard.withdraw_result)
        self.assertEqual(move.l10n_pl_ksef_state, False, "withdrawn: the invoice can be sent again")
        self.assertTrue(move.l10n_pl_ksef_can_send)
        self.assertEqual(busy_document.state, "processing", "with KSeF: never withdrawn")
        with self.assertRaises(UserError) as caught:
            wizard.action_next()
        self.assertIn(busy.name, str(caught.exception))
        self.assertNotIn(move.name, str(caught.exception))
        busy_document.sudo().write({"state": "rejected"})  # KSeF answered
        wizard.invalidate_recordset()
        self.assertFalse(wizard.pending_warning)
        self.switch_with_wizard(self.other)
        move.action_l10n_pl_ksef_send()
        self.assertEqual(move.l10n_pl_ksef_state, "accepted")
        self.assertEqual(self.numbers_in(self.other, move.name), [move.l10n_pl_ksef_number])
        self.assertEqual(self.numbers_in(self.simulator, move.name), [], "withdrawn before it left A")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefEnvironmentsReceive(EnvironmentsMixin, ReceiveCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_other_simulator(cls)

    def czk_invoice(self, quantity):
        """An invoice in CZK: it cannot become a bill while the currency is inactive."""
        rate = D("0.17")
        return fa3([line("Sklo", quantity, "100", "23", exchange_rate=rate)], currency="CZK", exchange_rate=rate)

    def visible_waiting(self):
        settings = self.env["res.config.settings"].create({})
        action = settings.action_l10n_pl_ksef_receive_failures()
        return self.env["l10n_pl_ksef.receive.failure"].search(action["domain"])

    def test_waiting_list_and_position_survive_a_switch_and_back(self):
        self.env.ref("base.CZK").active = False
        waits = self.seed(self.czk_invoice("1"))
        dropped = self.seed(self.czk_invoice("2"))
        self.run_cron()
        failures = self.env["l10n_pl_ksef.receive.failure"]
        self.assertEqual(set(self.waiting().mapped("ksef_number")), {waits, dropped})
        self.waiting().filtered(lambda f: f.ksef_number == dropped).action_l10n_pl_ksef_drop()
        position = self.state().sync_state
        self.assertTrue(position)
        kept = failures.with_context(active_test=False).search([("company_id", "=", self.company.id)])
        self.assertEqual(len(kept), 2)

        self.switch_with_wizard(self.other)
        self.assertEqual(kept.exists(), kept, "nothing deleted, the dropped one included")
        self.assertFalse(self.visible_waiting(), "the waiting list of A is hidden while B is used")
        self.assertEqual(self.company.l10n_pl_ksef_receive_waiting_count, 0)
        self.assertFalse(self.state().sync_state, "B was never read: it starts from the KSeF start date")
        self.run_cron()
        self.assertFalse(self.bills(waits), "A's invoice is not asked from B")
        self.assertEqual(kept.filtered("active").attempts, 1, "not retried in B")
        self.assertTrue(self.state().sync_state, "B's own position")

        self.switch_with_wizard(self.simulator, token=self.token)
        self.assertEqual(self.state().sync_state, position, "A resumes where it stopped")
        self.assertEqual(self.visible_waiting().mapped("ksef_number"), [waits])
        self.assertEqual(self.company.l10n_pl_ksef_receive_waiting_count, 1)
        self.assertEqual(kept.exists(), kept)
        self.assertFalse(kept.filtered(lambda f: f.ksef_number == dropped).active, "still dropped")
        self.env.ref("base.CZK").active = True
        self.time_passes(datetime.timedelta(days=2))
        self.run_cron()
        self.assertEqual(len(self.bills(waits)), 1, "the waiting invoice of A is imported from A")
        self.assertFalse(self.bills(dropped))
