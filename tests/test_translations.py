import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader


@tagged("post_install_l10n", "post_install", "-at_install")
class TestL10nPlKsefTranslations(TransactionCase):
    def test_every_user_visible_term_has_a_polish_translation(self):
        terms = {
            source
            for _module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
                self.env.cr, modules=["l10n_pl_ksef"]
            )
            if source and source.strip()
        }
        self.assertTrue(terms, "no translatable term found: the reader did not see the addon")
        po = polib.pofile(file_path("l10n_pl_ksef/i18n/pl.po"))
        translated = {entry.msgid for entry in po if entry.msgstr and not entry.obsolete}
        missing = sorted(terms - translated)
        self.assertFalse(
            missing,
            "i18n/pl.po lacks Polish translations (re-export the .pot and run scripts/i18n_pl.py): %s" % missing,
        )

    def test_polish_labels_are_loaded_in_the_database(self):
        self.env["res.lang"]._activate_lang("pl_PL")
        self.env["ir.module.module"].search([("name", "=", "l10n_pl_ksef")])._update_translations(["pl_PL"])
        field = self.env["ir.model.fields"]._get("res.company", "l10n_pl_ksef_environment")
        self.assertEqual(field.with_context(lang="pl_PL").field_description, "Środowisko KSeF")
