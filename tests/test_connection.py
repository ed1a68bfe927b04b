import json
import logging
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.l10n_pl_ksef.ksef_core import certgen

from .common import OTHER_NIP, TEST_NIP, L10nPlKsefTestCommon, b64


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefConnection(L10nPlKsefTestCommon):
    """The set-up wizard against the KSeF simulator, for every login method."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.start_simulator()

    def _save(self, **values):
        wizard = self.setup_wizard(**values)
        wizard.action_save_credentials()
        self.assertEqual(wizard.step, "done")
        return wizard

    def test_token_connection_lists_permissions_and_persists_the_session(self):
        token = self.simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
        wizard = self._save(auth_method="token", token=token)
        self.assertIn("InvoiceWrite", wizard.result)
        self.assertIn("InvoiceRead", wizard.result)
        self.assertNotIn(token.split("|")[2], wizard.result)
        self.assertFalse(wizard.token, "the token must not stay in the wizard record")
        self.assertEqual(self.company._l10n_pl_ksef_get_token(), token)
        state = self.company._l10n_pl_ksef_load_session_state()
        self.assertTrue(state and state.access_token, "the KSeF session tokens were not kept for the company")
        self.assertNotIn(state.access_token, self.company.sudo().l10n_pl_ksef_session_state)
        self.assertIn("Connected", self.company.l10n_pl_ksef_last_check)

    def test_signing_in_during_a_run_never_writes_the_company_row(self):
        self._save(auth_method="token", token=self.simulator.sim.mint_token(TEST_NIP, ("InvoiceRead",)))
        self.company._l10n_pl_ksef_reset_session(named_tokens=False)
        self.env.flush_all()
        statements = []
        cursor_class = type(self.env.cr)
        execute = cursor_class.execute

        def recording(cr, query, params=None, log_exceptions=True):
            statements.append(str(getattr(query, "code", query)))
            return execute(cr, query, params, log_exceptions)

        with patch.object(cursor_class, "execute", recording):
            with self.company.sudo()._l10n_pl_ksef_client() as client:
                client.tokens.access_token()  # a login: new access and refresh tokens are kept
            self.env.flush_all()
        self.assertTrue(self.company._l10n_pl_ksef_load_session_state(), "the new tokens are kept")
        company_updates = [q for q in statements if q.lstrip().upper().startswith('UPDATE "RES_COMPANY"')]
        self.assertEqual(company_updates, [], "the company row stays unlocked for Settings and other workers")

    def test_new_credentials_drop_the_ksef_session_of_the_old_ones(self):
        self._save(auth_method="token", token=self.simulator.sim.mint_token(TEST_NIP))
        self.assertTrue(self.company._l10n_pl_ksef_load_session_state())
        revoked = self.simulator.sim.mint_token(TEST_NIP)
        self.simulator.sim.revoke_token(revoked)
        wizard = self._save(auth_method="token", token=revoked)
        self.assertIn("Connection failed", wizard.result)
        self.assertIsNone(
            self.company._l10n_pl_ksef_load_session_state(),
            "the KSeF session of the previous token would still be used with the new one",
        )

    def test_token_without_invoice_read_disables_receiving(self):
        self.company.l10n_pl_ksef_receive = True
        token = self.simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite",))
        wizard = self._save(auth_method="token", token=token)
        self.assertIn("InvoiceRead", wizard.result)
        self.assertIn("przeglądanie faktur", wizard.result)
        self.assertFalse(self.company.l10n_pl_ksef_receive)

    def test_revoked_token_gives_a_readable_failure(self):
        token = self.simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
        self.simulator.sim.revoke_token(token)
        wizard = self._save(auth_method="token", token=token)
        self.assertIn("Connection failed", wizard.result)
        self.assertNotIn("Traceback", wizard.result)

    def test_pkcs12_certificate_connection(self):
        credential = certgen.make_test_certificate(nip=TEST_NIP, seal=True, organization="Test company")
        wizard = self._save(
            auth_method="certificate", certificate_file=b64(credential.to_pkcs12("secret pw")), password="secret pw"
        )
        self.assertIn("Connected", wizard.result)
        self.assertIn("InvoiceWrite", wizard.result)
        stored = self.company.l10n_pl_ksef_certificate_id
        self.assertEqual(stored.serial_number, credential.info().serial_hex)
        self.assertTrue(stored.valid_to)
        self.assertNotIn("PRIVATE KEY", stored.sudo().data_encrypted)
        self.assertNotIn("PRIVATE KEY", str(stored.message_ids.mapped("body")), "secrets never go to the chatter")
        self.assertNotIn("secret pw", str(stored.sudo().read()))

    def test_pem_certificate_and_key_connection(self):
        credential = certgen.make_test_certificate(nip=TEST_NIP, key_type="rsa")
        wizard = self._save(
            auth_method="certificate",
            certificate_file=b64(credential.certificate_pem()),
            key_file=b64(credential.private_key_pem("key pw")),
            password="key pw",
        )
        self.assertIn("Connected", wizard.result)
        self.assertIn("InvoiceWrite", wizard.result)
        self.assertIn("Certificate valid until", wizard.result)
        self.assertIn(credential.info().not_after.strftime("%Y-%m-%d"), wizard.result)
        self.assertEqual(self.company.l10n_pl_ksef_auth_method, "certificate")

    def test_users_and_cron_workers_share_one_ksef_session(self):
        self._save(auth_method="token", token=self.simulator.sim.mint_token(TEST_NIP))
        logins = len(self.simulator.sim.auth.challenges)
        # a cron worker (superuser) and an accountant, each with a client of his own
        for env in (self.env(su=True), self.env(user=self.accountant)):
            with env["res.company"].browse(self.company.id)._l10n_pl_ksef_client() as client:
                client.api("GET", "/sessions", params={"pageSize": 10, "sessionType": "Online"})
        self.assertEqual(len(self.simulator.sim.auth.challenges), logins, "a stored KSeF session was not reused")

    def test_changing_the_environment_drops_the_session_and_the_custom_address(self):
        self._save(auth_method="token", token=self.simulator.sim.mint_token(TEST_NIP))
        self.assertTrue(self.company._l10n_pl_ksef_load_session_state())
        self.company.l10n_pl_ksef_environment = "demo"
        self.assertIsNone(
            self.company._l10n_pl_ksef_load_session_state(),
            "the session of the simulator would be sent to the DEMO environment",
        )
        environment, custom_url = self.company._l10n_pl_ksef_get_environment()
        self.assertEqual((environment, custom_url), ("DEMO", None), "DEMO must not keep talking to the custom address")

    def test_two_companies_keep_separate_credentials(self):
        other = self.setup_other_company(name="Druga Sp. z o.o.")["company"]
        other.write({"vat": "PL%s" % OTHER_NIP, "l10n_pl_ksef_active": True})
        first = self.simulator.sim.mint_token(TEST_NIP)
        second = self.simulator.sim.mint_token(OTHER_NIP)
        self._save(auth_method="token", token=first)
        self._save(company=other, auth_method="token", token=second)
        self.assertEqual(self.company._l10n_pl_ksef_get_token(), first)
        self.assertEqual(other._l10n_pl_ksef_get_token(), second)
        first_state = json.dumps(self.company._l10n_pl_ksef_load_session_state().to_dict())
        second_state = json.dumps(other._l10n_pl_ksef_load_session_state().to_dict())
        self.assertNotEqual(first_state, second_state)
        # certificates and named tokens stay with their company too
        credential = certgen.make_test_certificate(nip=OTHER_NIP, seal=True)
        p12 = b64(credential.to_pkcs12("pw"))
        self._save(company=other, auth_method="certificate", certificate_file=p12, password="pw")
        named = self.simulator.sim.mint_token(OTHER_NIP)
        self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_set(self.env.user, other, named)
        self.assertFalse(self.company.l10n_pl_ksef_certificate_id)
        self.assertEqual(other.l10n_pl_ksef_certificate_id.nip, OTHER_NIP)
        self.assertFalse(self.company._l10n_pl_ksef_named_token(self.env.user))
        # an administrator of the first company only sees nothing of the second one
        admin_a = new_test_user(
            self.env,
            login="ksef_admin_a",
            groups="base.group_system",
            company_id=self.company.id,
            company_ids=[self.company.id],
        )
        for model in ("l10n_pl_ksef.certificate", "l10n_pl_ksef.user.token"):
            self.assertFalse(self.env[model].with_user(admin_a).search([("company_id", "=", other.id)]), model)
        wizard = (
            self.env["l10n_pl_ksef.setup.wizard"]
            .with_user(admin_a)
            .create({"company_id": other.id, "step": "credentials", "auth_method": "token", "token": second})
        )
        with self.assertRaisesRegex(UserError, "You do not work in"):
            wizard.action_save_credentials()

    def test_secrets_never_reach_the_logs(self):
        """Even at DEBUG level, neither the KSeF token nor the session tokens are logged (by us or requests)."""
        records = []
        handler = logging.Handler(logging.DEBUG)
        handler.emit = records.append
        root = logging.getLogger()
        previous_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            credential = certgen.make_test_certificate(nip=TEST_NIP, seal=True)
            self._save(
                auth_method="certificate",
                certificate_file=b64(credential.to_pkcs12("p12 password 1")),
                password="p12 password 1",
            )
            token = self.simulator.sim.mint_token(TEST_NIP, ("InvoiceWrite", "InvoiceRead"))
            self._save(auth_method="token", token=token)
            self.company._l10n_pl_ksef_check_connection()
            access_token = self.company._l10n_pl_ksef_load_session_state().access_token
            revoked = self.simulator.sim.mint_token(TEST_NIP)
            self.simulator.sim.revoke_token(revoked)
            self._save(auth_method="token", token=revoked)
        finally:
            root.removeHandler(handler)
            root.setLevel(previous_level)
        # odoo.sql_db at DEBUG (--log-sql, a developer switch) prints every query with its values: left out
        logged = "\n".join(record.getMessage() for record in records if record.name != "odoo.sql_db")
        self.assertIn("Signed in to KSeF", logged, "the flow was not logged at all: the check proves nothing")
        key_lines = credential.private_key_pem().decode().splitlines()[1:-1]
        for secret in (token.split("|")[2], revoked.split("|")[2], access_token, "p12 password 1", *key_lines):
            self.assertNotIn(secret, logged)
