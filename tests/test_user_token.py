from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefUserToken(L10nPlKsefTestCommon):
    """Named tokens ("tokeny imienne"): a user's own token, used for what he sends."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()
        cls.colleague = new_test_user(
            cls.env,
            login="ksef_colleague",
            groups="account.group_account_invoice",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )

    def setUp(self):
        super().setUp()
        self.company_token = self.simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
        self.setup_wizard(auth_method="token", token=self.company_token).action_save_credentials()

    def _wizard(self, as_user, **values):
        values.setdefault("company_id", self.company.id)
        return self.env["l10n_pl_ksef.user.token.wizard"].with_user(as_user).create(values)

    def _check(self, user):
        return self.company._l10n_pl_ksef_check_connection(ksef_user=user)

    def test_user_sets_own_token_and_sees_the_permissions(self):
        token = self.simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite",))
        wizard = self._wizard(self.accountant, token=token)
        wizard.action_save()
        self.assertIn("named KSeF token of %s" % self.accountant.name, wizard.result)
        self.assertIn("InvoiceWrite", wizard.result)
        self.assertIn("InvoiceRead", wizard.result, "the missing permission must be named")
        self.assertFalse(wizard.token, "the pasted token must not stay in the wizard")
        named = self.env["l10n_pl_ksef.user.token"].search([("user_id", "=", self.accountant.id)])
        self.assertEqual(named.reference, token.split("|")[0])
        self.assertEqual(named._l10n_pl_ksef_get_token(), token)
        self.assertTrue(self.accountant.with_user(self.accountant).l10n_pl_ksef_has_token)
        # his test is about his token: the company's settings are not touched
        self.assertTrue(self.company.l10n_pl_ksef_token_set)
        self.assertNotIn("named", self.company.l10n_pl_ksef_last_check or "")

    def test_what_a_user_sends_goes_out_under_his_own_token(self):
        self._wizard(self.accountant, token=self.simulator.sim.mint_token(TEST_NIP)).action_save()
        # The company token stops working in KSeF: only the user with his own token still gets in.
        self.simulator.sim.revoke_token(self.company_token)
        self.company._l10n_pl_ksef_reset_session()
        mine = self._check(self.accountant)
        self.assertTrue(mine["ok"], mine.get("error"))
        theirs = self._check(self.colleague)
        self.assertFalse(theirs["ok"], "a user without a token of his own must use the company's")
        self.assertIn("KSeF refused the KSeF token", theirs["error"])
        # each identity keeps its own KSeF session
        named = self.env["l10n_pl_ksef.user.token"].search([("user_id", "=", self.accountant.id)])
        self.assertTrue(named._l10n_pl_ksef_load_session_state())
        self.assertIsNone(self.company._l10n_pl_ksef_load_session_state())

    def test_user_without_own_token_sends_under_the_company_token(self):
        report = self._check(self.colleague)
        self.assertTrue(report["ok"], report.get("error"))
        self.assertEqual(report["method"], "token")
        with self.assertRaisesRegex(UserError, "no KSeF token of his own"):
            self._wizard(self.colleague).action_test()

    def test_wrong_nip_in_user_token_stores_nothing(self):
        wizard = self._wizard(self.accountant, token=self.simulator.sim.mint_token(OTHER_NIP))
        with self.assertRaises(ValidationError) as info:
            wizard.action_save()
        self.assertIn(OTHER_NIP, str(info.exception))
        self.assertIn(TEST_NIP, str(info.exception))
        self.assertFalse(self.env["l10n_pl_ksef.user.token"].search([("user_id", "=", self.accountant.id)]))

    def test_a_user_cannot_set_or_see_a_colleagues_token(self):
        self._wizard(self.accountant, token=self.simulator.sim.mint_token(TEST_NIP)).action_save()
        wizard = self._wizard(self.colleague, user_id=self.accountant.id, token=self.simulator.sim.mint_token(TEST_NIP))
        with self.assertRaises(AccessError):
            wizard.action_save()
        with self.assertRaises(AccessError):
            self._wizard(self.colleague, user_id=self.accountant.id).action_remove()
        prying = self._wizard(self.colleague, user_id=self.accountant.id)
        self.assertEqual((prying.has_token, prying.reference), (False, False), "a colleague's token leaks")
        tokens_seen = self.env["l10n_pl_ksef.user.token"].with_user(self.colleague).search([])
        self.assertFalse(tokens_seen, "a user must not see his colleague's token record")
        own = self.env["l10n_pl_ksef.user.token"].with_user(self.accountant).search([])
        self.assertEqual(own.user_id, self.accountant)
        with self.assertRaises(AccessError):
            own.read(["token_encrypted"])
        with self.assertRaises(AccessError):
            own.write({"reference": "forged"})

    def test_admin_sets_replaces_and_removes_a_users_token(self):
        first = self.simulator.sim.mint_token(TEST_NIP)
        self._wizard(self.env.user, user_id=self.colleague.id, token=first).action_save()
        named = self.env["l10n_pl_ksef.user.token"].search([("user_id", "=", self.colleague.id)])
        self.assertEqual(named._l10n_pl_ksef_get_token(), first)
        second = self.simulator.sim.mint_token(TEST_NIP)
        self._wizard(self.env.user, user_id=self.colleague.id, token=second).action_save()
        self.assertEqual(len(named.search([("user_id", "=", self.colleague.id)])), 1)
        self.assertEqual(named._l10n_pl_ksef_get_token(), second)
        self._wizard(self.colleague).action_remove()  # the user himself may remove it
        self.assertFalse(named.exists())

    def test_token_for_a_company_the_user_does_not_work_in_is_refused(self):
        other = self.setup_other_company(name="Obca Sp. z o.o.")["company"]
        other.vat = "PL%s" % OTHER_NIP
        wizard = self._wizard(self.env.user, user_id=self.accountant.id, company_id=other.id)
        wizard.token = self.simulator.sim.mint_token(OTHER_NIP)
        with self.assertRaisesRegex(UserError, "does not work in"):
            wizard.action_save()

    def test_user_reaches_the_wizard_from_his_preferences(self):
        me = self.accountant.with_user(self.accountant)
        # the preferences form reads these fields as the user himself
        values = me.web_read({"l10n_pl_ksef_has_token": {}, "l10n_pl_ksef_available": {}})[0]
        self.assertEqual((values["l10n_pl_ksef_has_token"], values["l10n_pl_ksef_available"]), (False, True))
        action = me.action_l10n_pl_ksef_user_token()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.accountant)
            .with_context(**action["context"])
            .create({"token": self.simulator.sim.mint_token(TEST_NIP)})
        )
        self.assertEqual((wizard.user_id, wizard.company_id), (self.accountant, self.company))
        self.assertFalse(wizard.is_admin, "the user field is editable for administrators only")
        wizard.action_save()
        self.assertIn("Connected", wizard.result)
        me.invalidate_recordset()
        self.assertTrue(me.l10n_pl_ksef_has_token)

    def test_no_token_before_the_company_has_a_nip(self):
        self.company.write({"l10n_pl_ksef_active": False, "vat": False, "l10n_pl_ksef_nip": False})
        wizard = self._wizard(self.accountant, token=self.simulator.sim.mint_token(TEST_NIP))
        with self.assertRaisesRegex(UserError, "no valid NIP"):
            wizard.action_save()

    def test_receiving_journal_must_be_a_purchase_journal_of_the_company(self):
        sales = self.company_data["default_journal_sale"]
        with self.assertRaisesRegex(ValidationError, "purchase journals"):
            self.company.l10n_pl_ksef_receive_journal_id = sales
        self.company.l10n_pl_ksef_receive_journal_id = self.company_data["default_journal_purchase"]
