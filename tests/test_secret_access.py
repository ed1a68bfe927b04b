from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from .common import L10nPlKsefTestCommon

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

    def test_accountant_cannot_open_the_credentials_wizard(self):
        wizard_model = self.env["l10n_pl_ksef.setup.wizard"].with_user(self.accountant)
        with self.assertRaises(AccessError):
            wizard_model.create({"company_id": self.company.id, "token": TOKEN})

    def test_neutralize_wipes_token(self):
        self._save_token_as_admin()
        self.company.l10n_pl_ksef_environment = "prod"
        self.env.flush_all()
        queries = list(get_neutralization_queries(["l10n_pl_ksef"]))
        self.assertEqual(len(queries), 1, "data/neutralize.sql is missing")
        self.env.cr.execute(queries[0])
        self.env.invalidate_all()
        self.assertFalse(self.company.l10n_pl_ksef_token_set)
        self.assertEqual(self.company.l10n_pl_ksef_environment, "test")
