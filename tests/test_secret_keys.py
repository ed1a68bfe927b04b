"""The encryption key of the stored secrets: never replaced silently, rotated on purpose."""

import os
import tempfile
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.l10n_pl_ksef.ksef_core import secretbox
from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_secret_mixin import CONFIG_KEY, FINGERPRINT_PARAM

from .common import L10nPlKsefTestCommon

TOKEN = "20251010-EC-1DCE3E3000-12ECB5B36E-45|nip-5265877635|" + "ab" * 32


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefSecretKeys(L10nPlKsefTestCommon):
    def setUp(self):
        super().setUp()
        self.data_dir = tempfile.mkdtemp(prefix="ksef_keys_")
        self.addCleanup(lambda: __import__("shutil").rmtree(self.data_dir, ignore_errors=True))
        self.patch(config, "options", dict(config.options, data_dir=self.data_dir, **{CONFIG_KEY: None}))
        self.params = self.env["ir.config_parameter"].sudo()
        self.params.set_param(FINGERPRINT_PARAM, False)
        # start from a database without stored secrets
        self.env["res.company"].sudo().search([]).write(
            {"l10n_pl_ksef_token_encrypted": False, "l10n_pl_ksef_session_state": False}
        )
        self.env["l10n_pl_ksef.certificate"].sudo().search([]).write({"data_encrypted": False})
        self.env["l10n_pl_ksef.user.token"].sudo().search([]).unlink()
        self.env["l10n_pl_ksef.session"].sudo().search([]).write({"secret": False})

    def save_token(self):
        self.company._l10n_pl_ksef_set_token(self.company._l10n_pl_ksef_check_token(TOKEN))

    def key_files(self):
        folder = os.path.join(self.data_dir, "l10n_pl_ksef")
        return [name for name in os.listdir(folder) if name.endswith(".key")] if os.path.isdir(folder) else []

    def test_a_lost_key_file_is_never_replaced_silently(self):
        self.save_token()
        stored = self.params.get_param(FINGERPRINT_PARAM)
        self.assertTrue(stored, "the key's fingerprint is kept next to the data")
        (name,) = self.key_files()
        os.unlink(os.path.join(self.data_dir, "l10n_pl_ksef", name))
        with self.assertRaisesRegex(UserError, "(?s)is missing.*%s.*Restore" % stored):
            self.company._l10n_pl_ksef_get_token()
        self.assertEqual(self.key_files(), [], "no new key was made")

    def test_another_key_is_refused_and_a_new_key_in_front_rotates_the_secrets(self):
        self.save_token()
        (name,) = self.key_files()
        with open(os.path.join(self.data_dir, "l10n_pl_ksef", name), encoding="ascii") as handle:
            old = handle.read().strip()
        other = secretbox.generate_key()
        with patch.dict(config.options, {CONFIG_KEY: other}), self.assertRaisesRegex(UserError, "not the one"):
            self.company._l10n_pl_ksef_get_token()
        new = secretbox.generate_key()
        with patch.dict(config.options, {CONFIG_KEY: "%s,%s" % (new, old)}):
            self.assertEqual(self.company._l10n_pl_ksef_get_token(), TOKEN)
        self.assertEqual(self.params.get_param(FINGERPRINT_PARAM), secretbox.fingerprint(new))
        stored = self.company.sudo().l10n_pl_ksef_token_encrypted
        self.assertEqual(secretbox.decrypt(new, stored), TOKEN, "encrypted again with the new key")
        with patch.dict(config.options, {CONFIG_KEY: new}):
            self.assertEqual(self.company._l10n_pl_ksef_get_token(), TOKEN, "the old key is no longer needed")
