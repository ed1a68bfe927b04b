from lxml import etree

from odoo.tests import tagged

from .common import L10nPlKsefTestCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefInstall(L10nPlKsefTestCommon):
    def test_module_is_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "l10n_pl_ksef")])
        self.assertEqual(module.state, "installed")

    def test_company_fields_are_registered(self):
        fields = self.env["res.company"]._fields
        for name in ("l10n_pl_ksef_active", "l10n_pl_ksef_environment", "l10n_pl_ksef_token_encrypted"):
            self.assertIn(name, fields)
        self.assertEqual(self.company.l10n_pl_ksef_environment, "test")

    def test_settings_view_shows_ksef_block_for_polish_company(self):
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        root = etree.fromstring(arch)
        block = root.xpath("//block[@id='l10n_pl_ksef_settings']")
        self.assertTrue(block, "the KSeF block is missing from the Settings form")
        self.assertIn("country_code", block[0].get("invisible", ""))
        settings = self.env["res.config.settings"].with_company(self.company).create({})
        self.assertEqual(settings.country_code, "PL")
        self.assertTrue(settings.l10n_pl_ksef_active)

    def test_pure_package_is_importable_inside_odoo(self):
        from odoo.addons.l10n_pl_ksef.ksef_core import nip

        self.assertTrue(nip.is_valid_nip(self.company.vat))

    def test_coexists_with_odoo_l10n_pl_edi(self):
        edi = self.env["ir.module.module"].search([("name", "=", "l10n_pl_edi")])
        if edi.state != "installed":
            self.skipTest("l10n_pl_edi is not installed in this database")
        # Both modules extend res.company without clashing field names.
        fields = self.env["res.company"]._fields
        self.assertIn("l10n_pl_edi_access_token", fields)
        self.assertIn("l10n_pl_ksef_token_encrypted", fields)
