"""A receiving run whose worker dies in the middle (no end recorded) backs the company off."""

import datetime
from unittest.mock import patch

from odoo.tests import tagged

from .test_receive import ReceiveCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefReceiveKilledWorker(ReceiveCommon):
    def test_a_worker_killed_mid_run_does_not_put_the_company_first_again(self):
        Company = self.env["res.company"]
        state = self.state()
        state.next_attempt = False
        self.assertIn(self.company, Company._l10n_pl_ksef_receive_queue())
        # the worker dies while talking to KSeF: no end of the run is ever recorded
        # (no assertRaises: Odoo's rolls back what happened inside it, and a killed worker rolls back nothing
        # that was committed)
        killed = False
        with patch.object(type(Company), "_l10n_pl_ksef_receive_invoices", side_effect=KeyboardInterrupt):
            try:
                Company._cron_l10n_pl_ksef_receive()
            except KeyboardInterrupt:
                killed = True
        self.assertTrue(killed)
        now = state.run_started
        self.assertTrue(now, "the cron recorded the start before calling KSeF")
        self.assertNotIn(self.company, Company._l10n_pl_ksef_receive_queue(now), "not first again at once")
        first_wait = state.next_attempt - now
        self.assertGreaterEqual(first_wait, datetime.timedelta(minutes=30))
        later = state.next_attempt
        self.assertIn(self.company, Company._l10n_pl_ksef_receive_queue(later), "tried again after the pause")
        state._l10n_pl_ksef_before_run(later)  # killed again: the pause doubles
        self.assertEqual(state.next_attempt - later, 2 * first_wait)
        # a run that ends normally clears the count
        self.run_cron()
        self.assertEqual(state.consecutive_errors, 0)
        self.assertEqual(state.outcome, "done")
        self.assertFalse(state.run_started)
