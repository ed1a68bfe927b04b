"""Saving credentials again for a company that has a stored KSeF session: the reset of the old session and the
connection test's login never write over each other.

In production the reset was a pending ORM write when the login wrote the same row on a cursor of its own and
committed: flushing the reset then failed the whole save ("could not serialize access due to concurrent
update", 3 times of 3 in an Odoo shell with a worker logging in meanwhile). Here the token store's own cursor
shares the test's transaction (registry test mode, see ``common.production_path``), so no serialization failure
can happen: the same wrong order shows as the pending reset overwriting the session the login had just stored.
"""

from odoo.tests import tagged

from .common import TEST_NIP, L10nPlKsefTestCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSessionReset(L10nPlKsefTestCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()

    def test_saving_credentials_again_keeps_the_new_session(self):
        self.connect_to_simulator()  # the first set-up: its connection test leaves a stored session
        self.env.flush_all()
        old = self.company._l10n_pl_ksef_load_session_state()
        self.assertTrue(old and old.access_token)
        # the production path: sessions written on a cursor of their own
        with self.enter_registry_test_mode():
            wizard = self.setup_wizard(auth_method="token", token=self.sim.mint_token(TEST_NIP, ("InvoiceWrite",)))
            wizard.action_save_credentials()
            self.assertIn("Connected", wizard.result)
            new = self.company._l10n_pl_ksef_load_session_state()
            self.assertTrue(new, "the connection test's session is kept")
            self.assertNotEqual(new.access_token, old.access_token, "the old token's session is gone")
        self.env.flush_all()
        self.env.invalidate_all()
        stored = self.company._l10n_pl_ksef_load_session_state()
        self.assertEqual(stored and stored.access_token, new.access_token, "what is stored is the new session")

    def test_a_reset_alone_forgets_the_session(self):
        self.connect_to_simulator()
        self.env.flush_all()
        with self.enter_registry_test_mode():
            self.company._l10n_pl_ksef_reset_session()
            self.assertIsNone(self.company._l10n_pl_ksef_load_session_state())
        self.env.invalidate_all()
        self.assertIsNone(self.company._l10n_pl_ksef_load_session_state())
