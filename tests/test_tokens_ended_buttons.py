"""After 2026 KSeF refuses tokens: the buttons that log in (Send to KSeF, Check status, Import now) say so and
open Get a KSeF certificate, not only Test connection."""

import datetime

from odoo.exceptions import RedirectWarning
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.ksef_core.simulator.token_end import TOKENS_END

from .send_common import L10nPlKsefSendCommon
from .test_clocks import ksef_clock

UTC = datetime.timezone.utc
AFTER_THE_END = datetime.datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefTokensEndedButtons(L10nPlKsefSendCommon):
    def setUp(self):
        super().setUp()
        self.sim.auth.tokens_end = TOKENS_END
        self.addCleanup(setattr, self.sim.auth, "tokens_end", None)

    def assert_opens_the_wizard(self, caught):
        message, action_id, button = caught.exception.args[:3]
        self.assertIn("no longer accepts KSeF tokens", message)
        self.assertIn("nie przyjmuje już tokenów", message)
        self.assertEqual(action_id, self.env.ref("l10n_pl_ksef.l10n_pl_ksef_cert_wizard_action").id)
        self.assertEqual(button, "Get a KSeF certificate")

    def test_send_opens_the_wizard(self):
        with ksef_clock(AFTER_THE_END):
            move = self.invoice(invoice_date=datetime.date(2027, 1, 4))
            with self.assertRaises(RedirectWarning) as caught:
                move.action_l10n_pl_ksef_send()
        self.assert_opens_the_wizard(caught)

    def test_check_status_opens_the_wizard(self):
        with ksef_clock(AFTER_THE_END):
            move = self.invoice(invoice_date=datetime.date(2027, 1, 4))
            documents, problems = move._l10n_pl_ksef_queue()  # queued, e.g. by the automatic sending
            self.assertTrue(documents, problems)
            with self.assertRaises(RedirectWarning) as caught:
                move.action_l10n_pl_ksef_check_status()
        self.assert_opens_the_wizard(caught)

    def test_import_now_opens_the_wizard(self):
        journal = self.company_data["default_journal_purchase"]
        self.company.write({"l10n_pl_ksef_receive": True, "l10n_pl_ksef_receive_journal_id": journal.id})
        with ksef_clock(AFTER_THE_END), self.assertRaises(RedirectWarning) as caught:
            self.company.action_l10n_pl_ksef_receive_now()
        self.assert_opens_the_wizard(caught)
