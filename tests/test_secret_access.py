from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.l10n_pl_ksef.ksef_core import certgen
from odoo.addons.l10n_pl_ksef.ksef_core.client import TokenState

from .common import TEST_NIP, L10nPlKsefTestCommon, b64

TOKEN = "20251010-EC-1DCE3E3000-12ECB5B36E-45|nip-5265877635|" + "ab" * 32


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSecretAccess(L10nPlKsefTestCommon):
    def _save_token_as_admin(self):
        self.company._l10n_pl_ksef_set_token(self.company._l10n_pl_ksef_check_token(TOKEN))

    def test_token_is_encrypted_at_rest(self):
        self._save_token_as_admin()
        self.env.flush_all()
        self.env.cr.execute("SELECT l10n_pl_ksef_token_encrypted FROM res_company WHERE id = %s", [self.company.id])
        stored = self.env.cr.fetchone()[0]
        self.assertTrue(stored)
        self.assertNotIn(TOKEN.split("|")[2], stored)
        self.assertTrue(self.company.l10n_pl_ksef_token_set)
        self.assertEqual(self.company._l10n_pl_ksef_get_token(), TOKEN)

    def test_accountant_cannot_read_secret_field(self):
        self._save_token_as_admin()
        company_as_accountant = self.company.with_user(self.accountant)
        company_as_accountant.invalidate_recordset()
        with self.assertRaises(AccessError):
            company_as_accountant.read(["l10n_pl_ksef_token_encrypted"])
        with self.assertRaises(AccessError):
            self.env["res.company"].with_user(self.accountant).search_read(
                [("id", "=", self.company.id)], ["l10n_pl_ksef_token_encrypted"]
            )
        visible = self.env["res.company"].with_user(self.accountant).fields_get()
        self.assertNotIn("l10n_pl_ksef_token_encrypted", visible)
        # The harmless flag stays readable so the accountant sees that a token exists.
        self.assertTrue(company_as_accountant.l10n_pl_ksef_token_set)

    def _store_everything(self):
        """A company token, a KSeF session, a certificate and a named token of the accountant."""
        self._save_token_as_admin()
        self.company._l10n_pl_ksef_store_session_state(TokenState("access-jwt", None, "refresh-jwt", None))
        credential = certgen.make_test_certificate(nip=TEST_NIP, seal=True)
        certificate = self.env["l10n_pl_ksef.certificate"]._l10n_pl_ksef_create_from_credential(
            self.company, credential, credential.info(), "authentication"
        )
        named = self.env["l10n_pl_ksef.user.token"]._l10n_pl_ksef_set(self.accountant, self.company, TOKEN)
        return certificate, named

    def test_accountant_cannot_read_any_secret(self):
        certificate, named = self._store_everything()
        as_accountant = self.env(user=self.accountant)
        secrets = [
            (as_accountant["res.company"].browse(self.company.id), "l10n_pl_ksef_session_state"),
            (as_accountant["l10n_pl_ksef.certificate"].browse(certificate.id), "data_encrypted"),
            (as_accountant["l10n_pl_ksef.user.token"].browse(named.id), "token_encrypted"),
            (as_accountant["l10n_pl_ksef.user.token"].browse(named.id), "session_state"),
        ]
        for record, field in secrets:
            with self.subTest(model=record._name, field=field):
                with self.assertRaises(AccessError):
                    record.read([field])
                self.assertNotIn(field, record.fields_get())
        # what they may see: that the credentials exist, and the certificate's public details
        self.assertEqual(as_accountant["l10n_pl_ksef.certificate"].browse(certificate.id).subject, certificate.subject)
        self.assertNotIn("PRIVATE KEY", str(as_accountant["l10n_pl_ksef.certificate"].browse(certificate.id).read()))
        # writing a secret is refused too
        with self.assertRaises(AccessError):
            as_accountant["res.company"].browse(self.company.id).write({"l10n_pl_ksef_token_encrypted": "x"})
        with self.assertRaises(AccessError):
            as_accountant["l10n_pl_ksef.certificate"].browse(certificate.id).write({"data_encrypted": "x"})

    def test_pasted_secrets_never_reach_the_database_in_clear(self):
        """The web client saves a dialog before its button runs: what is saved must already be sealed."""
        named_wizard = (
            self.env["l10n_pl_ksef.user.token.wizard"]
            .with_user(self.accountant)
            .create({"company_id": self.company.id, "token": TOKEN})
        )
        credential = certgen.make_test_certificate(nip=TEST_NIP, seal=True)
        key_pem = credential.private_key_pem()
        setup_wizard = self.setup_wizard(
            auth_method="certificate",
            certificate_file=b64(credential.certificate_pem()),
            key_file=b64(key_pem),
            password="admin secret pw",
        )
        self.env.flush_all()
        for wizard in (named_wizard, setup_wizard):
            self.env.cr.execute(
                SQL("SELECT row_to_json(w)::text FROM %s w WHERE id = %s", SQL.identifier(wizard._table), wizard.id)
            )
            row = self.env.cr.fetchone()[0]
            for secret in (TOKEN.split("|")[2], "admin secret pw", b64(key_pem)[40:80]):
                self.assertNotIn(secret, row, "a pasted secret is stored in clear in %s" % wizard._table)
        # the inputs read back empty (as in the next request of the web client), and a colleague cannot even
        # see the other's wizard
        named_wizard.invalidate_recordset()
        self.assertFalse(named_wizard.token)
        self.assertEqual(named_wizard._l10n_pl_ksef_unseal("token"), TOKEN, "the button would find no token")
        colleague = new_test_user(self.env, login="ksef_colleague2", groups="account.group_account_invoice")
        self.assertFalse(self.env["l10n_pl_ksef.user.token.wizard"].with_user(colleague).search([]))

    def test_accountant_cannot_open_the_credentials_wizard(self):
        wizard_model = self.env["l10n_pl_ksef.setup.wizard"].with_user(self.accountant)
        with self.assertRaises(AccessError):
            wizard_model.create({"company_id": self.company.id, "token": TOKEN})

    def test_neutralize_wipes_token(self):
        self._save_token_as_admin()
        self.company.l10n_pl_ksef_environment = "prod"
        self.env.flush_all()
        certificate, named = self._store_everything()
        self.env.flush_all()
        queries = list(get_neutralization_queries(["l10n_pl_ksef"]))
        self.assertEqual(len(queries), 1, "data/neutralize.sql is missing")
        self.env.cr.execute(queries[0])
        self.env.invalidate_all()
        self.assertFalse(self.company.l10n_pl_ksef_token_set)
        self.assertFalse(self.company.sudo().l10n_pl_ksef_session_state)
        self.assertEqual(self.company.l10n_pl_ksef_environment, "test")
        self.assertFalse(certificate.sudo().data_encrypted)
        self.assertFalse(certificate.active)
        self.env.cr.execute("SELECT 1 FROM ir_config_parameter WHERE key = 'l10n_pl_ksef.key_fingerprint'")
        self.assertFalse(self.env.cr.fetchall(), "a copy without secrets may get a key of its own")
        self.assertFalse(named.exists())
        crons = self.env["ir.model.data"].search([("module", "=", "l10n_pl_ksef"), ("model", "=", "ir.cron")])
        self.assertGreaterEqual(len(crons), 2)
        self.assertFalse(any(self.env["ir.cron"].browse(crons.mapped("res_id")).mapped("active")))
